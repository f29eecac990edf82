import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import type { MetricsSink } from '../../lambdas/core/contracts/metrics-sink.js';
import { managedKeyName } from '../../lambdas/core/keys/key-names.js';
import { KEY_HEALTH_METRICS } from '../../lambdas/core/keys/metrics.js';
import * as health from '../../lambdas/handlers/keys-health.js';
import * as rotation from '../../lambdas/handlers/keys-rotation.js';
import { DISAGREEING_PROFILE_NAMES, SUPPORTED_PROFILES } from '../../sim/index.js';
import {
  createRotationWorld,
  INITIAL_KEY_NAME,
  ORG,
  PREFIX,
  type RotationWorld,
  runSteps,
} from '../core/keys/support/rotation-fixture.js';

/** A call with no deadline of its own, for the tests' own look at Coder. */
const call = { deadline: NO_DEADLINE };

/**
 * Every supported release, and the builds whose answers disagree with the release table (a v2.26
 * without coder/coder#19378's `offline`, a build of main): the client learns from the answer.
 */
const PROFILES = [...SUPPORTED_PROFILES, ...DISAGREEING_PROFILE_NAMES];

const TOKEN = '11111111-2222-4333-8444-555555555555';
const HOUR = 3_600_000;
// The simulator judges "connected" by its own clock, so the test clock ends at real time.
const ROTATED_AT = Date.now() - 48 * HOUR;
const NEW_KEY = managedKeyName(PREFIX, TOKEN);

/** Records the last value of each metric the handler adds. */
const recordingMetrics = () => {
  const values: Record<string, number> = {};
  const sink: MetricsSink = {
    addMetric: (name, _unit, value) => {
      values[name] = value;
    },
  };
  return { values, sink };
};
type RecordingMetrics = ReturnType<typeof recordingMetrics>;

describe.each(PROFILES)('provisioner key health handler, Coder %s', (coderVersion) => {
  let world: RotationWorld;
  let metrics: RecordingMetrics;
  let clock: number;
  let check: ReturnType<typeof health.makeHandler>;

  beforeEach(async () => {
    // Prepare: a finished rotation; daemon prov-0 is still on the previous key.
    world = await createRotationWorld(coderVersion);
    const rotate = rotation.makeHandler({
      secrets: world.secrets,
      keys: world.keys,
      log: world.log,
      now: () => new Date(ROTATED_AT),
      managedPrefix: PREFIX,
    });
    world.model.startRotation(world.secretArn, TOKEN);
    await runSteps(rotate, world.secretArn, TOKEN);
    world.model.completeRotation(world.secretArn, TOKEN);
    metrics = recordingMetrics();
    clock = ROTATED_AT + 48 * HOUR;
    check = health.makeHandler({
      secrets: world.secrets,
      keys: world.keys,
      log: world.log,
      metrics: metrics.sink,
      now: () => new Date(clock),
      secretId: world.secretArn,
      managedPrefix: PREFIX,
      previousKeyGraceMs: 24 * HOUR,
    });
  });
  afterEach(() => world.close());

  /** prov-0, the daemon on the previous key, went offline `ago` before the clock. */
  const daemonLastSeenOnOldKey = (ago: number): void => {
    world.sim.seed.removeProvisionerDaemon('prov-0');
    world.sim.seed.provisionerDaemon({
      name: 'prov-0',
      keyName: INITIAL_KEY_NAME,
      status: 'offline',
      lastSeenAt: new Date(clock - ago).toISOString(),
    });
  };
  const liveKeyNames = async () => (await world.keys.listKeys(ORG, call)).map((k) => k.name).sort();

  it('keeps the previous key while a daemon uses it, and publishes the figures', async () => {
    const report = await check({ action: 'check' });

    expect(report.deleted).toEqual([]);
    expect(await liveKeyNames()).toEqual([INITIAL_KEY_NAME, NEW_KEY, 'team-key'].sort());
    expect(report.plan).toContainEqual({
      kind: 'keep',
      keyName: INITIAL_KEY_NAME,
      role: 'previous',
      reason: '1 daemon(s) are still connected with it',
    });
    expect(metrics.values).toEqual({
      [KEY_HEALTH_METRICS.currentKeyAgeDays]: 2,
      [KEY_HEALTH_METRICS.daemonsOnNonCurrentKey]: 1,
      [KEY_HEALTH_METRICS.oldKeyInUseHours]: 48,
      [KEY_HEALTH_METRICS.managedKeyCount]: 2,
      [KEY_HEALTH_METRICS.keysDeleted]: 0,
      [KEY_HEALTH_METRICS.currentKeyMissing]: 0,
    });
  });

  it('removes the previous key once its daemon has moved and the grace period has passed', async () => {
    world.sim.seed.removeProvisionerDaemon('prov-0');
    world.sim.seed.provisionerDaemon({ name: 'prov-0b', keyName: NEW_KEY });

    const report = await check({ action: 'check' });

    expect(report.deleted).toEqual([INITIAL_KEY_NAME]);
    expect(await liveKeyNames()).toEqual([NEW_KEY, 'team-key'].sort());
    expect(await world.keys.identifyKey(world.initialKey, call)).toBeUndefined();
    expect(metrics.values[KEY_HEALTH_METRICS.daemonsOnNonCurrentKey]).toBe(0);
    expect(metrics.values[KEY_HEALTH_METRICS.oldKeyInUseHours]).toBe(0);
    expect(metrics.values[KEY_HEALTH_METRICS.managedKeyCount]).toBe(1);
    expect(metrics.values[KEY_HEALTH_METRICS.keysDeleted]).toBe(1);
  });

  it('waits out the grace period after the daemon was last seen on the old key', async () => {
    daemonLastSeenOnOldKey(2 * HOUR);

    const early = await check({ action: 'check' });
    clock += 23 * HOUR;
    const late = await check({ action: 'check' });

    expect(early.deleted).toEqual([]);
    expect(early.plan.find((a) => a.keyName === INITIAL_KEY_NAME)?.reason).toMatch(/unused for 2\.0h/);
    expect(late.deleted).toEqual([INITIAL_KEY_NAME]);
  });

  it('a dry run with "at" computes ages and idle times as of that time, and deletes nothing', async () => {
    // Prepare: the daemon left the old key 2 hours ago; the grace period is 24 hours.
    daemonLastSeenOnOldKey(2 * HOUR);
    const at = new Date(clock + 23 * HOUR).toISOString();

    // Act
    const now = await check({ dryRun: true });
    const later = await check({ dryRun: true, at });

    // Assess
    expect(now.plan.filter((a) => a.kind === 'delete')).toEqual([]);
    expect(now).not.toHaveProperty('at');
    expect(later).toMatchObject({ action: 'check', dryRun: true, at, deleted: [] });
    expect(later.plan.filter((a) => a.kind === 'delete').map((a) => a.keyName)).toEqual([INITIAL_KEY_NAME]);
    expect(now.figures.currentKeyAgeDays).toBe(2);
    expect(later.figures.currentKeyAgeDays).toBeCloseTo(2 + 23 / 24, 1);
    expect(await liveKeyNames()).toContain(INITIAL_KEY_NAME);
    expect(metrics.values).toEqual({});
  });

  it.each([
    [{ action: 'check', at: '2026-03-09T12:00:00Z' }, /at: checks as of another time only in a dry run/],
    [{ action: 'status', at: '2026-03-09T12:00:00Z' }, /at: checks as of another time only in a dry run/],
    [{ dryRun: true, at: 'tomorrow' }, /at: must be an ISO 8601 date-time with a zone/],
  ])('refuses %j: a real check always runs as of now', async (event, message) => {
    const before = await liveKeyNames();
    await expect(check(event)).rejects.toThrow(message);
    expect(await liveKeyNames()).toEqual(before);
  });

  it('a dry run reports what it would delete and deletes nothing', async () => {
    world.sim.seed.removeProvisionerDaemon('prov-0');

    const report = await check({ dryRun: true });

    expect(report).toMatchObject({ action: 'check', dryRun: true, deleted: [] });
    expect(report.plan.filter((a) => a.kind === 'delete').map((a) => a.keyName)).toEqual([INITIAL_KEY_NAME]);
    expect(await liveKeyNames()).toContain(INITIAL_KEY_NAME);
    expect(metrics.values).toEqual({});
  });

  it('status reports keys, daemons per key and ages, and changes nothing', async () => {
    const report = await check({ action: 'status' });

    expect(report.action).toBe('status');
    expect(report.deleted).toEqual([]);
    expect(report.daemonsPerKey).toEqual({ [INITIAL_KEY_NAME]: ['prov-0'] });
    expect(report.figures.keys.map((k) => [k.name, k.role, k.managed]).sort()).toEqual(
      [
        [INITIAL_KEY_NAME, 'previous', true],
        [NEW_KEY, 'current', true],
        ['team-key', 'other', false],
      ].sort(),
    );
    expect(report.figures.currentKeyAgeDays).toBe(2);
    expect(report.figures.keys.find((k) => k.name === INITIAL_KEY_NAME)?.connectedDaemons).toEqual([
      'prov-0',
    ]);
    expect(metrics.values).toEqual({});
    const json = JSON.stringify(report) + world.log.text();
    for (const secret of world.plaintexts()) expect(json).not.toContain(secret);
  });

  it('flags a current key that was deleted in Coder', async () => {
    await world.keys.deleteKey(ORG, NEW_KEY, call);

    const report = await check({ action: 'check' });

    expect(report.figures.currentKeyMissing).toBe(true);
    expect(metrics.values[KEY_HEALTH_METRICS.currentKeyMissing]).toBe(1);
  });

  it('does not delete the key of a rotation in progress', async () => {
    const next = '99999999-2222-4333-8444-555555555555';
    world.model.startRotation(world.secretArn, next);
    await world.keys.createKey(ORG, { name: managedKeyName(PREFIX, next), tags: {} }, call);

    const report = await check({ action: 'check' });

    expect(report.plan).toContainEqual(
      expect.objectContaining({ keyName: managedKeyName(PREFIX, next), kind: 'keep', role: 'pending' }),
    );
  });

  it('rejects a malformed request, naming the field', async () => {
    await expect(check({ action: 'rotate' })).rejects.toThrow(/action/);
  });

  it("reports the schedule's scheduled time back", async () => {
    const report = await check({ action: 'status', scheduledTime: '2026-03-09T12:00:00Z' });
    expect(report).toMatchObject({ action: 'status', scheduledTime: '2026-03-09T12:00:00Z' });
  });

  it('rejects a misspelt dry run instead of running a real check that deletes keys', async () => {
    // Prepare: a key the check would delete.
    const before = (await world.keys.listKeys(ORG, call)).map((k) => k.name);
    // Act / Assess
    await expect(check({ dryrun: true })).rejects.toThrow(/dryrun/);
    expect((await world.keys.listKeys(ORG, call)).map((k) => k.name)).toEqual(before);
  });
});
