/**
 * Two deployments of the controller in one Coder organization (issue 19, finding 4): staging and
 * production, each rotating its own provisioner key, both configured with the defaults. At night
 * one pool's daemons are scaled to 0; the other deployment's daily key-health check must not take
 * that pool's current key for its own and delete it. Before the fix both defaulted to the prefix
 * `cfc-rot`, and each check deleted the other's current key as "managed, neither current nor
 * previous, no daemon connected".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerVersionStore } from '../../lambdas/adapters/aws/secret-versions.js';
import { CoderClient } from '../../lambdas/adapters/coder/index.js';
import { CoderProvisionerKeyDirectory } from '../../lambdas/adapters/coder/provisioner-keys.js';
import { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { provisionerKeyRotationConfigSchema } from '../../lambdas/core/keys/config.js';
import * as health from '../../lambdas/handlers/keys-health.js';
import * as rotation from '../../lambdas/handlers/keys-rotation.js';
import { type CoderSimulator, SUPPORTED_PROFILES, startCoderSimulator } from '../../sim/index.js';
import { runSteps } from '../core/keys/support/rotation-fixture.js';
import { SecretsManagerModel } from '../core/keys/support/secrets-manager-model.js';

/** A call with no deadline of its own, for the tests' own look at Coder. */
const call = { deadline: NO_DEADLINE };

const ORG = 'coder';
const HOUR = 3_600_000;

interface Deployment {
  readonly name: 'staging' | 'production';
  readonly secretArn: string;
  /** The key the deployment's rotation created (AWSCURRENT). */
  keyName: string;
}

describe.each(SUPPORTED_PROFILES)('two deployments in one Coder organization, Coder %s', (coderVersion) => {
  let sim: CoderSimulator;
  let model: SecretsManagerModel;
  let keys: CoderProvisionerKeyDirectory;
  let secrets: SecretsManagerVersionStore;
  let deployments: Record<Deployment['name'], Deployment>;

  /** Rotates one deployment's secret once, with the given config's prefix, and records its key. */
  const rotate = async (d: Deployment, managedPrefix: string | undefined, token: string): Promise<void> => {
    const handler = rotation.makeHandler({
      secrets,
      keys,
      log: silentLog,
      now: () => new Date(Date.now() - 72 * HOUR),
      managedPrefix,
    });
    model.startRotation(d.secretArn, token);
    await runSteps(handler, d.secretArn, token);
    model.completeRotation(d.secretArn, token);
    d.keyName = (
      JSON.parse(model.valueOfVersion(d.secretArn, token) as string) as { keyName: string }
    ).keyName;
  };

  /** One deployment's daily key-health check, as scheduled (deletes what it judges stale). */
  const dailyCheck = (d: Deployment, managedPrefix: string | undefined, graceHours: number) =>
    health.makeHandler({
      secrets,
      keys,
      log: silentLog,
      metrics: { addMetric: () => {} },
      // The simulator judges "connected" by its own clock: the check runs at real time.
      now: () => new Date(),
      secretId: d.secretArn,
      managedPrefix,
      previousKeyGraceMs: graceHours * HOUR,
    })({ action: 'check' });

  const liveKeyNames = async () => (await keys.listKeys(ORG, call)).map((k) => k.name).sort();

  beforeEach(async () => {
    sim = await startCoderSimulator({ buildDurationMs: 1, coderVersion });
    model = new SecretsManagerModel();
    const secretOf = (name: Deployment['name']) => {
      const arn = model.createSecret(
        `${name}/provisioner-key`,
        JSON.stringify({ organization: ORG, tags: { pool: name } }),
        `${name}-initial`,
      );
      model.setRotationEnabled(arn, true);
      return arn;
    };
    deployments = {
      staging: { name: 'staging', secretArn: secretOf('staging'), keyName: '' },
      production: { name: 'production', secretArn: secretOf('production'), keyName: '' },
    };
    const client = new CoderClient({
      baseUrl: sim.url,
      token: sim.adminToken,
      rateLimitPerMinute: false,
      sleep: async () => {},
    });
    keys = new CoderProvisionerKeyDirectory(client);
    secrets = new SecretsManagerVersionStore(model.client);
  });
  afterEach(() => sim.close());

  it('with the default config, neither deletes the other’s key when the other pool is scaled to 0', async () => {
    // Prepare: both deployments with the defaults; each rotated once.
    const config = provisionerKeyRotationConfigSchema.parse({ organization: ORG });
    const { staging, production } = deployments;
    await rotate(staging, config.managedPrefix, '11111111-1111-4111-8111-111111111111');
    await rotate(production, config.managedPrefix, '22222222-2222-4222-8222-222222222222');
    // Day: both pools run. Night: production's daemons are scaled to 0 and gone from Coder's list.
    sim.seed.provisionerDaemon({ name: 'staging-prov-0', keyName: staging.keyName });

    // Act: both daily checks run at night.
    const stagingReport = await dailyCheck(staging, config.managedPrefix, 24);
    const productionReport = await dailyCheck(production, config.managedPrefix, 24);

    // Assess: every deployment's current key is still in Coder; nothing was deleted.
    expect(stagingReport.deleted).toEqual([]);
    expect(productionReport.deleted).toEqual([]);
    expect(await liveKeyNames()).toEqual([production.keyName, staging.keyName].sort());
    expect(stagingReport.managedPrefix).not.toBe(productionReport.managedPrefix);
    expect(stagingReport.plan).toContainEqual(
      expect.objectContaining({ keyName: production.keyName, kind: 'keep', role: 'unmanaged' }),
    );
    expect(stagingReport.figures.currentKeyMissing).toBe(false);
    expect(productionReport.figures.currentKeyMissing).toBe(false);
  });

  it('even with one prefix set in both configs, a key whose daemons were seen within the grace is kept', async () => {
    // Prepare: an old config that set the shared prefix explicitly in both deployments.
    const shared = 'cfc-rot';
    const { staging, production } = deployments;
    // Each pool's daemons connect with their deployment's key as soon as it is rotated.
    await rotate(staging, shared, '33333333-3333-4333-8333-333333333333');
    sim.seed.provisionerDaemon({ name: 'staging-prov-0', keyName: staging.keyName });
    await rotate(production, shared, '44444444-4444-4444-8444-444444444444');
    sim.seed.provisionerDaemon({ name: 'production-prov-0', keyName: production.keyName });
    // Production's pool went to 0 nine hours ago: its daemons are offline, last seen then.
    sim.seed.removeProvisionerDaemon('production-prov-0');
    sim.seed.provisionerDaemon({
      name: 'production-prov-0',
      keyName: production.keyName,
      status: 'offline',
      lastSeenAt: new Date(Date.now() - 9 * HOUR).toISOString(),
    });

    // Act
    const report = await dailyCheck(staging, shared, 24);

    // Assess
    expect(report.deleted).toEqual([]);
    expect(report.plan).toContainEqual(
      expect.objectContaining({ keyName: production.keyName, kind: 'keep', role: 'in_use' }),
    );
    expect(await liveKeyNames()).toContain(production.keyName);
  });
});
