import { SecretsManagerVersionStore } from '../../../../lambdas/adapters/aws/secret-versions.js';
import { CoderClient } from '../../../../lambdas/adapters/coder/index.js';
import { CoderProvisionerKeyDirectory } from '../../../../lambdas/adapters/coder/provisioner-keys.js';
import type { LogSink } from '../../../../lambdas/core/contracts/log-sink.js';
import { ROTATION_STEPS } from '../../../../lambdas/core/keys/events.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../../../../lambdas/core/keys/ports.js';
import { type CoderSimulator, type SimProfileName, startCoderSimulator } from '../../../../sim/index.js';
import { SecretsManagerModel } from './secrets-manager-model.js';

export const PREFIX = 'cfc-rot';
export const ORG = 'coder';
export const INITIAL_VERSION = 'v-initial';
export const INITIAL_KEY_NAME = `${PREFIX}-initial`;
export const TAGS = { scope: 'organization', pool: 'external' };

/** Every log line, with its extras, as the text a log store would hold. */
export class RecordingLog implements LogSink {
  readonly lines: string[] = [];
  private record(level: string, message: string, extra?: Record<string, unknown>) {
    this.lines.push(`${level} ${message} ${JSON.stringify(extra ?? {})}`);
  }
  debug(m: string, e?: Record<string, unknown>) {
    this.record('DEBUG', m, e);
  }
  info(m: string, e?: Record<string, unknown>) {
    this.record('INFO', m, e);
  }
  warn(m: string, e?: Record<string, unknown>) {
    this.record('WARN', m, e);
  }
  error(m: string, e?: Record<string, unknown>) {
    this.record('ERROR', m, e);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface RotationWorld {
  readonly sim: CoderSimulator;
  readonly model: SecretsManagerModel;
  readonly secretArn: string;
  readonly secrets: SecretVersionStore;
  readonly keys: ProvisionerKeyDirectory;
  readonly log: RecordingLog;
  /** The plaintext of the key the secret starts with. */
  readonly initialKey: string;
  /** Every plaintext key the world has seen, to assert none leaks. */
  readonly plaintexts: () => string[];
  readonly close: () => Promise<void>;
}

/**
 * A Coder simulator holding the secret's current key (with a daemon on it), a key left by an
 * abandoned rotation, and a key the controller did not create; and a Secrets Manager model
 * whose AWSCURRENT holds the current key.
 */
export const createRotationWorld = async (coderVersion?: SimProfileName): Promise<RotationWorld> => {
  const sim = await startCoderSimulator({ buildDurationMs: 1, coderVersion });
  const initial = sim.seed.provisionerKey({ name: INITIAL_KEY_NAME, tags: TAGS });
  const abandoned = sim.seed.provisionerKey({ name: `${PREFIX}-abandoned`, tags: TAGS });
  const teamKey = sim.seed.provisionerKey({ name: 'team-key', tags: { scope: 'organization' } });
  sim.seed.provisionerDaemon({ name: 'prov-0', keyName: INITIAL_KEY_NAME });
  const model = new SecretsManagerModel();
  const secretArn = model.createSecret(
    'coder/provisioner-key',
    JSON.stringify({
      organization: ORG,
      keyName: INITIAL_KEY_NAME,
      key: initial.key,
      tags: TAGS,
      createdAt: new Date(Date.now() - 40 * 86_400_000).toISOString(),
    }),
    INITIAL_VERSION,
  );
  model.setRotationEnabled(secretArn, true);
  const client = new CoderClient({
    baseUrl: sim.url,
    token: sim.adminToken,
    rateLimitPerMinute: false,
    sleep: async () => {},
  });
  const secrets = new SecretsManagerVersionStore(model.client);
  const plaintexts = () => {
    const values = Object.keys(model.stages(secretArn))
      .map((id) => model.valueOfVersion(secretArn, id))
      .filter((v): v is string => v !== undefined)
      .map((v) => (JSON.parse(v) as { key?: string }).key)
      .filter((k): k is string => typeof k === 'string');
    return [...new Set([initial.key, abandoned.key, teamKey.key, sim.adminToken, ...values])];
  };
  return {
    sim,
    model,
    secretArn,
    secrets,
    keys: new CoderProvisionerKeyDirectory(client),
    log: new RecordingLog(),
    initialKey: initial.key,
    plaintexts,
    close: () => sim.close(),
  };
};

export type StepHandler = (event: unknown) => Promise<unknown>;

/** One rotation attempt as Secrets Manager runs it: the four steps in order with the same token. */
export const runSteps = async (handler: StepHandler, secretId: string, token: string): Promise<void> => {
  for (const step of ROTATION_STEPS) {
    await handler({ Step: step, SecretId: secretId, ClientRequestToken: token });
  }
};
