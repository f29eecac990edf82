import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { SecretsManagerVersionStore } from '../adapters/aws/secret-versions.js';
import { CoderProvisionerKeyDirectory } from '../adapters/coder/provisioner-keys.js';
import { PROVISIONER_KEY_CONFIG_ENV, provisionerKeyRotationConfigSchema } from '../core/rotation/config.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../core/rotation/ports.js';
import { ProvisionerKeyRotationSteps, type RotationStepReport } from '../core/rotation/rotation.js';
import { RotationError, rotationEventSchema } from '../core/rotation/rotation-gate.js';
import {
  coderApiMetrics,
  coderConnectionFromEnvironment,
  createCoderClient,
} from '../shared/coder-connection.js';
import { configFromEnvironment } from '../shared/config.js';
import { createObservability, type LogSink, logSinkOf } from '../shared/observability.js';

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

const observability = createObservability('provisioner-key-rotation');

const createDeps = (): RotationHandlerDeps & { observability: ReturnType<typeof createObservability> } => {
  const config = configFromEnvironment(provisionerKeyRotationConfigSchema, PROVISIONER_KEY_CONFIG_ENV);
  const coder = createCoderClient(coderConnectionFromEnvironment());
  return {
    observability,
    secrets: new SecretsManagerVersionStore(
      observability.tracer.captureAWSv3Client(new SecretsManagerClient({})),
    ),
    keys: new CoderProvisionerKeyDirectory(coder),
    log: logSinkOf(observability.logger),
    now: () => new Date(),
    managedPrefix: config.managedPrefix,
  };
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
