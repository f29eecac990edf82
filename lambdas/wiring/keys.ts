import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerVersionStore } from '../adapters/aws/secret-versions.js';
import { CoderProvisionerKeyDirectory } from '../adapters/coder/provisioner-keys.js';
import {
  PROVISIONER_KEY_CONFIG_ENV,
  type ProvisionerKeyRotationConfig,
  provisionerKeyRotationConfigSchema,
} from '../core/keys/config.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../core/keys/ports.js';
import { coderConnectionFromEnvironment, createCoderClient } from './coder-connection.js';
import { configFromEnvironment } from './env.js';
import { type LogSink, logSinkOf, type Observability } from './observability.js';

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
  observability: Pick<Observability, 'logger' | 'tracer'>,
  env: NodeJS.ProcessEnv = process.env,
): ProvisionerKeyPorts => ({
  config: configFromEnvironment(provisionerKeyRotationConfigSchema, PROVISIONER_KEY_CONFIG_ENV, env),
  secrets: new SecretsManagerVersionStore(
    observability.tracer.captureAWSv3Client(new SecretsManagerClient({})),
  ),
  keys: new CoderProvisionerKeyDirectory(createCoderClient(coderConnectionFromEnvironment(env))),
  log: logSinkOf(observability.logger),
  now: () => new Date(),
});
