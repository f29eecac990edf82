/**
 * The bundles that would be deployed (`npm run build`: esbuild, ESM, SDK bundled) are built and
 * invoked in a fresh Node 22 process with realistic events: EventBridge Scheduler input, an
 * operator's dry run, a Function URL request. AWS is replaced by local stand-ins reached through
 * the SDK's own endpoint settings (AWS_ENDPOINT_URL_*): dynalite for DynamoDB and a minimal
 * Secrets Manager; Coder is the simulator.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed004ScalingConfig } from '../../config/seed-004.js';
import { handlerNames } from '../../scripts/bundle.js';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { OTP_CODE, oneTimePasscode } from '../core/families/webhook/fixtures.js';
import { functionUrlEvent, PATH_SECRET } from '../core/families/webhook/function-url.js';
import { type BuiltBundles, buildBundles, run } from '../support/bundles.js';
import { type LocalDynamo, startLocalDynamo } from '../support/dynalite.js';
import { seedFamilyParent, seedFamilyTemplate } from '../support/family-seed.js';

/** Coder's provisioners here: the pacing (half the daemons) lets one run queue every child these tests expect. */
const PROVISIONER_DAEMONS = 10;

let bundles: BuiltBundles;
const secrets = new Map<string, string>();
let secretsManager: Server;
let secretsManagerUrl: string;
let dynamo: LocalDynamo;
let sim: CoderSimulator;

/** Just enough of the Secrets Manager JSON protocol for GetSecretValue. */
const startSecretsManager = async (): Promise<void> => {
  secretsManager = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      const value = SecretId ? secrets.get(SecretId) : undefined;
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || value === undefined) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
        return;
      }
      res.end(
        JSON.stringify({
          ARN: SecretId,
          Name: SecretId,
          SecretString: value,
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
  secretsManagerUrl = `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`;
};

/** A bundle invoked with the local stand-ins' endpoints. */
const invoke = (name: string, event: unknown, env: Record<string, string>) =>
  bundles.invoke(name, event, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManagerUrl,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    ...env,
  });

beforeAll(async () => {
  bundles = await buildBundles();
  await startSecretsManager();
  dynamo = await startLocalDynamo();
  for (const table of ['ledger', 'locks', 'overrides']) {
    await dynamo.createTable({
      tableName: table,
      partitionKey: 'pk',
      ...(table === 'overrides' ? {} : { sortKey: 'sk' }),
    });
  }
  sim = await startCoderSimulator({ buildDurationMs: 20, builtInProvisioners: PROVISIONER_DAEMONS });
  seedFamilyTemplate(sim);
  seedFamilyParent(sim, { owner: 'alice', parent: 'my-team', children: 2, cpu: 4 });
  secrets.set('coder-token', JSON.stringify({ token: sim.adminToken }));
  secrets.set('webhook-secret', JSON.stringify({ pathSecret: PATH_SECRET }));
}, 120_000);

afterAll(async () => {
  await sim?.close();
  await dynamo?.close();
  await new Promise<void>((resolve) => secretsManager?.close(() => resolve()));
});

describe('deployable bundles', () => {
  it('every handler bundles to a self-contained ESM file that exports `handler`', async () => {
    const names = await handlerNames();
    expect(names.length).toBeGreaterThanOrEqual(7);
    for (const name of names) {
      const code = readFileSync(bundles.file(name), 'utf8');
      // The SDK is bundled, not taken from the runtime: no bare imports of it remain.
      expect(code, name).not.toMatch(/from\s*["']@aws-sdk\//);
      const { stdout } = await run(process.execPath, [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(bundles.file(name))}); console.log(typeof m.handler);`,
      ]);
      expect(stdout.trim(), name).toBe('function');
    }
  });

  it('families-reconcile: an operator dry run plans the children, the scheduled run creates them', async () => {
    const env = {
      CODER_URL: sim.url,
      CODER_TOKEN_SECRET_ARN: 'coder-token',
      FAMILIES_CONFIG: JSON.stringify({ templates: ['kubernetes-multi'] }),
      LEDGER_TABLE_NAME: 'ledger',
      LOCK_TABLE_NAME: 'locks',
    };
    const dry = await invoke('families-reconcile', { dryRun: true }, env);
    expect(dry.error).toBeUndefined();
    const plan = dry.result as { dryRun: boolean; actions: Array<{ kind: string; outcome: string }> };
    expect(plan.dryRun).toBe(true);
    expect(plan.actions.filter((a) => a.kind === 'create-child').map((a) => a.outcome)).toEqual([
      'planned',
      'planned',
    ]);
    expect(sim.workspacesSnapshot().map((w) => w.name)).toEqual(['my-team']);

    const scheduled = await invoke('families-reconcile', { trigger: 'schedule' }, env);
    expect(scheduled.error).toBeUndefined();
    expect(
      sim
        .workspacesSnapshot()
        .map((w) => w.name)
        .sort(),
    ).toEqual(['my-team', 'my-team-1', 'my-team-2']);
    // The run published its Coder API figures as EMF, and the token never reached the logs.
    expect(scheduled.output).toContain('"CoderApiRequests"');
    expect(scheduled.output).not.toContain(sim.adminToken);
  });

  it('families-webhook: refuses a wrong secret path, ignores a passcode without logging it', async () => {
    const env = { WEBHOOK_SECRET_ARN: 'webhook-secret', FAMILY_QUEUE_URL: 'http://127.0.0.1:9/queue.fifo' };
    const denied = await invoke('families-webhook', functionUrlEvent({ path: '/not-the-secret' }), env);
    expect((denied.result as { statusCode: number }).statusCode).toBe(403);
    const otp = await invoke(
      'families-webhook',
      functionUrlEvent({ body: JSON.stringify(oneTimePasscode()) }),
      env,
    );
    expect((otp.result as { statusCode: number }).statusCode).toBeLessThan(300);
    expect(otp.output).not.toContain(OTP_CODE);
    expect(otp.output).not.toContain(PATH_SECRET);
  });

  it('scaling-preview: lists the next transitions across the DST change', async () => {
    const preview = await invoke(
      'scaling-preview',
      { from: '2026-03-06T00:00:00Z', days: 4 },
      { SCALING_CONFIG: JSON.stringify(seed004ScalingConfig), SCALING_OVERRIDE_TABLE: 'overrides' },
    );
    expect(preview.error).toBeUndefined();
    const text = JSON.stringify(preview.result);
    // 07:00 New York is 12:00Z before the spring change (Friday 6 March) and 11:00Z after (Monday 9 March).
    expect(text).toContain('2026-03-06T12:00:00');
    expect(text).toContain('2026-03-09T11:00:00');
  });
});
