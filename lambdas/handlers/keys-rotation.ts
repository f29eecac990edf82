import type { Deadline } from '../core/contracts/deadline.js';
import type { LogSink } from '../core/contracts/log-sink.js';
import { describeIssues } from '../core/contracts/validation.js';
import { rotationEventSchema } from '../core/keys/events.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../core/keys/ports.js';
import { RotationError } from '../core/keys/rotation-gate.js';
import { ProvisionerKeyRotationSteps, type RotationStepReport } from '../core/keys/run-rotation.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { createKeysRotationDeps } from '../wiring/keys.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

export interface RotationHandlerDeps {
  readonly secrets: SecretVersionStore;
  readonly keys: ProvisionerKeyDirectory;
  readonly log: LogSink;
  readonly now: () => Date;
  /** The configured prefix; undefined: the deployment's own, from the secret's ARN. */
  readonly managedPrefix: string | undefined;
}

/**
 * The Secrets Manager rotation function: `{ Step, SecretId, ClientRequestToken }` in, one step run
 * within the invocation's deadline (a step out of time throws, and Secrets Manager runs it again).
 */
export const makeHandler =
  (deps: RotationHandlerDeps) =>
  async (
    event: unknown,
    invocation: { readonly deadline?: Deadline | undefined } = {},
  ): Promise<RotationStepReport> => {
    const parsed = rotationEventSchema.safeParse(event);
    if (!parsed.success) {
      const fields = describeIssues(parsed.error, { fieldsOnly: true }).join(', ');
      throw new RotationError(`Not a Secrets Manager rotation event; bad or missing fields: ${fields}.`);
    }
    const { Step, SecretId, ClientRequestToken } = parsed.data;
    deps.log.info('Rotation step', {
      step: Step,
      secretId: SecretId,
      clientRequestToken: ClientRequestToken,
    });
    return new ProvisionerKeyRotationSteps(deps).run(parsed.data, { deadline: invocation.deadline });
  };

export const handler = lambdaHandler(
  FUNCTION.keysRotation,
  (observability) => makeHandler(createKeysRotationDeps(observability)),
  { middleware: ({ metrics }) => [coderApiMetrics(metrics)] },
);
