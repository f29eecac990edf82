import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerVersionStore } from '../adapters/aws/secret-versions.js';
import { CoderProvisionerKeyDirectory } from '../adapters/coder/provisioner-keys.js';
import type { LogSink } from '../core/contracts/log-sink.js';
import type { MetricsSink } from '../core/contracts/metrics-sink.js';
import {
  type ProvisionerKeyRotationConfig,
  provisionerKeyRotationConfigSchema,
} from '../core/keys/config.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../core/keys/ports.js';
import { coderConnectionFromEnvironment, createCoderClient } from './coder-connection.js';
import { coderReleaseHooks } from './coder-version.js';
import { configFromEnvironment, requireEnv } from './env.js';
import { ENV } from './names.js';
import { logSinkOf, type Observability } from './observability.js';

/** What both provisioner key Lambdas (rotation and key health) are built from. */
export interface ProvisionerKeyPorts {
  readonly config: ProvisionerKeyRotationConfig;
  readonly secrets: SecretVersionStore;
  readonly keys: ProvisionerKeyDirectory;
  readonly log: LogSink;
  readonly now: () => Date;
}

/** The composition root shared by the rotation and key-health handlers: config from env, real adapters. */
export const createProvisionerKeyPorts = (
  observability: Pick<Observability, 'logger' | 'tracer'> & { readonly metrics?: MetricsSink },
  env: NodeJS.ProcessEnv = process.env,
): ProvisionerKeyPorts => ({
  config: configFromEnvironment(provisionerKeyRotationConfigSchema, ENV.keysConfig, env),
  secrets: new SecretsManagerVersionStore(
    observability.tracer.captureAWSv3Client(new SecretsManagerClient({})),
  ),
  keys: new CoderProvisionerKeyDirectory(
    createCoderClient(coderConnectionFromEnvironment(env), {
      ...coderReleaseHooks(logSinkOf(observability.logger), observability.metrics),
    }),
  ),
  log: logSinkOf(observability.logger),
  now: () => new Date(),
});

/** The rotation Lambda's dependencies: the ports and the prefix of the keys it manages. */
export const createKeysRotationDeps = (observability: Observability, env = process.env) => {
  const { config, ...ports } = createProvisionerKeyPorts(observability, env);
  return { ...ports, managedPrefix: config.managedPrefix };
};

/** The key-health Lambda's dependencies: the ports, its metrics, the secret it checks and the grace period. */
export const createKeysHealthDeps = (observability: Observability, env = process.env) => {
  const { config, ...ports } = createProvisionerKeyPorts(observability, env);
  return {
    ...ports,
    metrics: observability.metrics,
    secretId: requireEnv(ENV.keysSecretArn, env),
    managedPrefix: config.managedPrefix,
    previousKeyGraceMs: config.oldKeyGraceHours * 3_600_000,
  };
};
