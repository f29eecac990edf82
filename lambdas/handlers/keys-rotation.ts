import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../core/keys/ports.js';
import { RotationError, rotationEventSchema } from '../core/keys/rotation-gate.js';
import { ProvisionerKeyRotationSteps, type RotationStepReport } from '../core/keys/run-rotation.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { createProvisionerKeyPorts } from '../wiring/keys.js';
import { createObservability, type LogSink } from '../wiring/observability.js';

export interface RotationHandlerDeps {
  readonly secrets: SecretVersionStore;
  readonly keys: ProvisionerKeyDirectory;
  readonly log: LogSink;
  readonly now: () => Date;
  readonly managedPrefix: string;
}

/** The Secrets Manager rotation function: `{ Step, SecretId, ClientRequestToken }` in, one step run. */
export const makeHandler =
  (deps: RotationHandlerDeps) =>
  async (event: unknown): Promise<RotationStepReport> => {
    const parsed = rotationEventSchema.safeParse(event);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
      throw new RotationError(`Not a Secrets Manager rotation event; bad or missing fields: ${fields}.`);
    }
    const { Step, SecretId, ClientRequestToken } = parsed.data;
    deps.log.info('Rotation step', {
      step: Step,
      secretId: SecretId,
      clientRequestToken: ClientRequestToken,
    });
    return new ProvisionerKeyRotationSteps(deps).run(parsed.data);
  };

const observability = createObservability('keys-rotation');

const createDeps = (): RotationHandlerDeps => {
  const { config, ...ports } = createProvisionerKeyPorts(observability);
  return { ...ports, managedPrefix: config.managedPrefix };
};

// Built on the first invocation and reused while the container is warm, so a bad environment is
// reported as this invocation's error (with the field names) and importing the module needs none.
let run: ReturnType<typeof makeHandler> | undefined;

export const handler = middy()
  .use(injectLambdaContext(observability.logger))
  .use(captureLambdaHandler(observability.tracer))
  .use(logMetrics(observability.metrics))
  .use(coderApiMetrics(observability.metrics))
  .handler((event: Parameters<ReturnType<typeof makeHandler>>[0]) => {
    run ??= makeHandler(createDeps());
    return run(event);
  });
