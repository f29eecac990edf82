import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerVersionStore } from '../lambdas/adapters/aws/secret-versions.js';
import { CoderProvisionerKeyDirectory } from '../lambdas/adapters/coder/provisioner-keys.js';
import { NO_DEADLINE } from '../lambdas/core/contracts/deadline.js';
import { silentLog } from '../lambdas/core/contracts/log-sink.js';
import { parseConfig } from '../lambdas/core/contracts/validation.js';
import {
  type ProvisionerKeyRotationConfig,
  provisionerKeyRotationConfigSchema,
} from '../lambdas/core/keys/config.js';
import { LEGACY_MANAGED_PREFIX } from '../lambdas/core/keys/key-names.js';
import { type KeyHealthFigures, summarizeKeyHealth } from '../lambdas/core/keys/metrics.js';
import type { ProvisionerDaemonRecord } from '../lambdas/core/keys/ports.js';
import { ProvisionerKeyHealthCheck } from '../lambdas/core/keys/run-health.js';
import { AWS_OPTIONS, CODER_OPTIONS, COMMON_OPTIONS, parseCommandArgs } from './args.js';
import { connectToCoder, createCliCoderClient, resolveCoderTarget } from './coder.js';
import { readConfigSection } from './config-file.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { runKeysRotateCommand } from './keys-rotate.js';
import { type CliIo, CliOutput, heading, renderTable } from './output.js';
import { didYouMean } from './suggest.js';
import { KEYS_USAGE } from './usage.js';

const KEYS_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CODER_OPTIONS,
  ...AWS_OPTIONS,
  organization: { type: 'string' },
  config: { type: 'string' },
  'secret-id': { type: 'string' },
} as const;

export interface KeyStatusResult {
  readonly command: 'keys status';
  readonly organization: string;
  /** The secret whose versions decided the roles, when --secret-id was given. */
  readonly secret: string | undefined;
  readonly figures: KeyHealthFigures;
  /** Connected daemons per key name, including keys Coder does not list (`user-auth`, PSK). */
  readonly daemonsPerKey: Readonly<Record<string, readonly string[]>>;
}

export const connectedDaemonsPerKey = (
  daemons: readonly ProvisionerDaemonRecord[],
): Record<string, string[]> => {
  const perKey: Record<string, string[]> = {};
  for (const daemon of daemons) {
    if (!daemon.connected) continue;
    const key = daemon.keyName ?? '(psk)';
    perKey[key] = [...(perKey[key] ?? []), daemon.name];
  }
  return perKey;
};

export const renderKeyStatus = (result: KeyStatusResult): string => {
  const f = result.figures;
  const rows = f.keys.map((k) => [
    k.name,
    result.secret ? k.role : '-',
    k.managed ? 'yes' : 'no',
    `${k.ageDays.toFixed(1)} d`,
    k.createdAt.slice(0, 16).replace('T', ' '),
    k.connectedDaemons.length === 0 ? '0' : `${k.connectedDaemons.length}: ${k.connectedDaemons.join(', ')}`,
  ]);
  const lines = [
    f.keys.length > 0
      ? renderTable(['KEY', 'ROLE', 'MANAGED', 'AGE', 'CREATED (UTC)', 'CONNECTED DAEMONS'], rows)
      : `No provisioner keys in organization ${result.organization}.`,
  ];
  const listed = new Set(f.keys.map((k) => k.name.toLowerCase()));
  const others = Object.entries(result.daemonsPerKey).filter(([key]) => !listed.has(key.toLowerCase()));
  if (others.length > 0) {
    lines.push('', 'Daemons on keys Coder does not list:');
    for (const [key, names] of others) lines.push(`  ${key}: ${names.join(', ')}`);
  }
  lines.push('');
  if (result.secret) {
    lines.push(
      `Current key age: ${f.currentKeyAgeDays === undefined ? 'no rotation yet' : `${f.currentKeyAgeDays} days`}; ` +
        `daemons on a non-current key: ${f.daemonsOnNonCurrentKey}${f.currentKeyMissing ? '; THE CURRENT KEY IS MISSING FROM CODER' : ''}.`,
    );
  } else {
    lines.push('Roles (current/previous) need the key secret: pass --secret-id.');
  }
  return lines.join('\n');
};

/**
 * Keys, ages and connected daemons per key; with the key's secret, also which key is current and
 * which previous (the key-health Lambda's status action, run locally).
 */
export const readKeyStatus = async (
  directory: CoderProvisionerKeyDirectory,
  options: {
    config: ProvisionerKeyRotationConfig | undefined;
    organization: string | undefined;
    secretId: string | undefined;
    region: string | undefined;
  },
): Promise<KeyStatusResult> => {
  const { config, secretId } = options;
  if (secretId) {
    const check = new ProvisionerKeyHealthCheck({
      secrets: new SecretsManagerVersionStore(
        new SecretsManagerClient(options.region ? { region: options.region } : {}),
      ),
      keys: directory,
      log: silentLog,
      now: () => new Date(),
      secretId,
      // Unset: the deployment's own prefix, derived from the secret's ARN as the Lambdas do.
      managedPrefix: config?.managedPrefix,
      previousKeyGraceMs: (config?.oldKeyGraceHours ?? 24) * 3_600_000,
    });
    const report = await check.run({ action: 'status', dryRun: true });
    if (options.organization && options.organization !== report.organization) {
      throw new CliError(
        `--organization ${options.organization} differs from the secret's organization ${report.organization}: drop one`,
      );
    }
    return {
      command: 'keys status',
      organization: report.organization,
      secret: report.secret,
      figures: report.figures,
      daemonsPerKey: report.daemonsPerKey,
    };
  }
  const organization = options.organization ?? config?.organization ?? 'default';
  // A person runs this, with no Lambda timeout to stop before.
  const call = { deadline: NO_DEADLINE };
  const [keys, daemons] = await Promise.all([
    directory.listKeys(organization, call),
    directory.listDaemons(organization, call),
  ]);
  return {
    command: 'keys status',
    organization,
    secret: undefined,
    figures: summarizeKeyHealth(
      keys,
      daemons,
      { current: undefined, previous: undefined, pending: [] },
      new Date(),
      // Without the secret the deployment's own prefix is unknown: "managed" then means the
      // configured prefix, or the legacy shared one.
      config?.managedPrefix ?? LEGACY_MANAGED_PREFIX,
    ),
    daemonsPerKey: connectedDaemonsPerKey(daemons),
  };
};

export const loadKeysConfig = async (
  file: string | undefined,
): Promise<ProvisionerKeyRotationConfig | undefined> => {
  if (!file) return undefined;
  const section = await readConfigSection(file, 'provisionerKeys');
  if (section === undefined) return undefined;
  return parseConfig(provisionerKeyRotationConfigSchema, section, `--config ${file} (provisionerKeys)`);
};

export const runKeysCommand = async (args: readonly string[], io: CliIo): Promise<number> => {
  const sub = args[0];
  if (sub === '--help' || sub === '-h') {
    io.stdout(`${KEYS_USAGE}\n`);
    return EXIT.ok;
  }
  if (sub === 'rotate') return runKeysRotateCommand(args.slice(1), io);
  if (sub !== 'status') {
    throw new UsageError(
      sub === undefined || sub.startsWith('-')
        ? 'keys needs a subcommand: status or rotate'
        : `unknown subcommand "keys ${sub}": use status or rotate${didYouMean(sub, ['status', 'rotate'])}`,
      KEYS_USAGE,
    );
  }
  const values = parseCommandArgs(args.slice(1), KEYS_OPTIONS, 'keys status', KEYS_USAGE);
  const out = new CliOutput(io, values.json === true);
  if (values.help) {
    io.stdout(`${KEYS_USAGE}\n`);
    return EXIT.ok;
  }
  const target = await resolveCoderTarget(values, io, out, 'keys status', KEYS_USAGE);
  if (!target) throw new UsageError("keys status needs Coder's URL and token", KEYS_USAGE);
  const config = await loadKeysConfig(values.config);
  const client = createCliCoderClient(target);
  await connectToCoder(client, target, out);
  out.progress(
    values['secret-id']
      ? `Reading key roles from secret ${values['secret-id']} …`
      : `Listing provisioner keys and daemons of organization ${values.organization ?? config?.organization ?? 'default'} …`,
  );
  const result = await readKeyStatus(new CoderProvisionerKeyDirectory(client), {
    config,
    organization: values.organization,
    secretId: values['secret-id'],
    region: values.region,
  });
  if (out.json) out.document(result);
  else {
    out.print(heading(`Provisioner keys: organization ${result.organization} at ${target.url}`));
    out.print(renderKeyStatus(result));
  }
  return EXIT.ok;
};
