import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretsManagerVersionStore } from '../lambdas/adapters/aws/secret-versions.js';
import { CoderProvisionerKeyDirectory } from '../lambdas/adapters/coder/provisioner-keys.js';
import { AWSCURRENT, AWSPENDING } from '../lambdas/core/keys/ports.js';
import { parseKeySecret } from '../lambdas/core/keys/secret.js';
import { AWS_OPTIONS, CODER_OPTIONS, COMMON_OPTIONS, parseCommandArgs, positiveInt } from './args.js';
import { connectToCoder, createCliCoderClient, resolveCoderTarget } from './coder.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { type KeyStatusResult, loadKeysConfig, readKeyStatus, renderKeyStatus } from './keys.js';
import { type CliIo, CliOutput, heading } from './output.js';
import { CODER } from './usage.js';

export const KEYS_ROTATE_USAGE = `Usage: coder-fleet keys rotate --secret-id ID [options]

Starts a Secrets Manager rotation of the provisioner key secret (the deployed keys-rotation Lambda
creates the new key in Coder and makes it current), waits for it to finish, then shows the new key's
name and the daemons connected with each key. The old key keeps working until no daemon uses it.

  --secret-id ID         the key's Secrets Manager secret (ProvisionerKeySecretArn in the stack outputs)
  --wait SECONDS         how long to wait for the rotation (default: 300)
  --region REGION        AWS region of the secret (default: the AWS SDK's, e.g. $AWS_REGION)
  --config FILE          controller config JSON or its "provisionerKeys" section
${CODER}
  --json                 one JSON document on stdout (progress stays on stderr)
  -h, --help             this help`;

const ROTATE_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CODER_OPTIONS,
  ...AWS_OPTIONS,
  'secret-id': { type: 'string' },
  wait: { type: 'string' },
  config: { type: 'string' },
} as const;

const RUNBOOK = 'docs/RUNBOOK.md#keys-rotation-failed';

export interface RotationResult {
  readonly secretArn: string;
  readonly versionId: string;
  readonly previousVersionId: string | undefined;
  readonly seconds: number;
}

export interface RotationWait {
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly onWaiting?: (elapsedMs: number) => void;
}

const stageHolder = (stages: Record<string, string[]>, stage: string): string | undefined =>
  Object.entries(stages).find(([, labels]) => labels.includes(stage))?.[0];

/**
 * RotateSecret, then DescribeSecret until the new version is AWSCURRENT. Refuses to start when
 * rotation is not configured or another rotation is still pending, and says what to do instead.
 */
export const rotateAndWait = async (
  secrets: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
  wait: RotationWait,
): Promise<RotationResult> => {
  const before = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (before.RotationEnabled !== true) {
    throw new CliError(
      `rotation is not enabled on secret ${before.Name ?? secretId}: check --secret-id (the stack output ProvisionerKeySecretArn), or deploy the controller with provisionerKeys configured`,
    );
  }
  const stagesBefore = before.VersionIdsToStages ?? {};
  const previousVersionId = stageHolder(stagesBefore, AWSCURRENT);
  const pending = stageHolder(stagesBefore, AWSPENDING);
  if (pending && pending !== previousVersionId) {
    throw new CliError(
      `a rotation of ${before.Name ?? secretId} is already under way (version ${pending} is AWSPENDING): wait for it and run \`coder-fleet keys status --secret-id ${secretId}\`; if it is stuck, see ${RUNBOOK}`,
    );
  }
  const started = wait.now();
  const rotation = await secrets.send(
    new RotateSecretCommand({ SecretId: secretId, ClientRequestToken: randomUUID() }),
  );
  const versionId = rotation.VersionId;
  if (!versionId)
    throw new CliError(`Secrets Manager started no rotation of ${secretId}: retry, or see ${RUNBOOK}`);
  for (;;) {
    const elapsed = wait.now() - started;
    const now = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    const stages = now.VersionIdsToStages ?? {};
    if (stages[versionId]?.includes(AWSCURRENT)) {
      return { secretArn: now.ARN ?? secretId, versionId, previousVersionId, seconds: elapsed / 1000 };
    }
    if (elapsed >= wait.timeoutMs) {
      throw new CliError(
        `the rotation (version ${versionId}) had not finished after ${Math.round(elapsed / 1000)} s: it may still complete; check the keys-rotation Lambda's logs and ${RUNBOOK}, then \`coder-fleet keys status --secret-id ${secretId}\``,
      );
    }
    wait.onWaiting?.(elapsed);
    await wait.sleep(wait.pollMs);
  }
};

export interface KeyRotateResult {
  readonly command: 'keys rotate';
  readonly rotation: RotationResult;
  /** The new current key: its name and organization, never the key itself. */
  readonly newKey: { readonly name: string; readonly organization: string; readonly createdAt: string };
  readonly status: KeyStatusResult;
}

export const runKeysRotateCommand = async (args: readonly string[], io: CliIo): Promise<number> => {
  const values = parseCommandArgs(args, ROTATE_OPTIONS, 'keys rotate', KEYS_ROTATE_USAGE);
  const out = new CliOutput(io, values.json === true);
  if (values.help) {
    io.stdout(`${KEYS_ROTATE_USAGE}\n`);
    return EXIT.ok;
  }
  const secretId = values['secret-id'];
  if (!secretId) {
    throw new UsageError(
      'keys rotate needs the key secret: pass --secret-id (ProvisionerKeySecretArn in the stack outputs)',
      KEYS_ROTATE_USAGE,
    );
  }
  const waitSeconds = values.wait ? positiveInt(values.wait, '--wait', KEYS_ROTATE_USAGE, 3_600) : 300;
  const target = await resolveCoderTarget(values, io, out, 'keys rotate', KEYS_ROTATE_USAGE);
  if (!target) throw new UsageError("keys rotate needs Coder's URL and token", KEYS_ROTATE_USAGE);
  const config = await loadKeysConfig(values.config);
  const client = createCliCoderClient(target);
  await connectToCoder(client, target, out);

  const sm = new SecretsManagerClient(values.region ? { region: values.region } : {});
  out.progress(`Starting a rotation of ${secretId} …`);
  let reported = 0;
  const rotation = await rotateAndWait(sm, secretId, {
    timeoutMs: waitSeconds * 1000,
    pollMs: 2_000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    onWaiting: (elapsed) => {
      if (elapsed - reported < 10_000) return;
      reported = elapsed;
      out.progress(
        `  waiting for the keys-rotation Lambda: ${Math.round(elapsed / 1000)} s of ${waitSeconds} s`,
      );
    },
  });
  out.progress(
    `Rotation finished in ${rotation.seconds.toFixed(0)} s; reading the new key and the daemons …`,
  );
  const raw = await new SecretsManagerVersionStore(sm).getValue(secretId, { stage: AWSCURRENT });
  if (raw === undefined)
    throw new CliError(`the secret ${secretId} has no current value after the rotation: see ${RUNBOOK}`);
  const current = parseKeySecret(raw, `secret ${secretId} (AWSCURRENT)`);
  out.addSecret(current.key);
  const status = await readKeyStatus(new CoderProvisionerKeyDirectory(client), {
    config,
    organization: undefined,
    secretId,
    region: values.region,
  });
  const result: KeyRotateResult = {
    command: 'keys rotate',
    rotation,
    newKey: { name: current.keyName, organization: current.organization, createdAt: current.createdAt },
    status,
  };
  if (out.json) out.document(result);
  else {
    out.print(heading(`Rotated: organization ${current.organization} at ${target.url}`));
    out.print(
      `New current key: ${current.keyName} (created ${current.createdAt}); the previous key stays until no daemon uses it.\n`,
    );
    out.print(renderKeyStatus(status));
  }
  return EXIT.ok;
};
