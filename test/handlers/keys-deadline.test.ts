/**
 * The provisioner key Lambdas within the deadline lambdaHandler hands them: every Coder call of a
 * rotation step or a key-health check stops at it, and none waits past it. Over the Coder
 * simulator and a Secrets Manager model, as the other key handler tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import { managedKeyName } from '../../lambdas/core/keys/key-names.js';
import * as health from '../../lambdas/handlers/keys-health.js';
import * as rotation from '../../lambdas/handlers/keys-rotation.js';
import {
  createRotationWorld,
  INITIAL_KEY_NAME,
  ORG,
  PREFIX,
  type RotationWorld,
  runSteps,
} from '../core/keys/support/rotation-fixture.js';

const TOKEN = '3c4d5e6f-7a8b-4c9d-8e0f-a1b2c3d4e5f6';
const HOUR = 3_600_000;
const NOW = new Date('2026-06-10T12:00:00Z');
const CREATE_KEY_ROUTE = 'POST /api/v2/organizations/{organization}/provisionerkeys';

/** The deadline of an invocation with `ms` left, as lambdaHandler passes it. */
const withLeft = (ms: number) => ({ deadline: { remainingMs: () => ms } });

describe("the key rotation handler within the invocation's deadline", () => {
  let world: RotationWorld;
  let rotate: ReturnType<typeof rotation.makeHandler>;
  const createSecret = () => ({ Step: 'createSecret', SecretId: world.secretArn, ClientRequestToken: TOKEN });
  const liveKeyNames = async () =>
    (await world.keys.listKeys(ORG, { deadline: NO_DEADLINE })).map((k) => k.name).sort();

  beforeEach(async () => {
    world = await createRotationWorld();
    rotate = rotation.makeHandler({
      secrets: world.secrets,
      keys: world.keys,
      log: world.log,
      now: () => NOW,
      managedPrefix: PREFIX,
    });
    world.model.startRotation(world.secretArn, TOKEN);
  });
  afterEach(() => world.close());

  it('with no time left, sends nothing to Coder and fails the step, leaving no pending value', async () => {
    // Prepare
    const keysBefore = await liveKeyNames();
    const requestsBefore = world.sim.totalRequests();

    // Act
    const outcome = rotate(createSecret(), withLeft(0));

    // Assess: a clean stop (Secrets Manager runs the step again), not a key created late.
    await expect(outcome).rejects.toMatchObject({ kind: 'deadline', step: 'send' });
    expect(world.sim.totalRequests()).toBe(requestsBefore);
    expect(await liveKeyNames()).toEqual(keysBefore);
    expect(world.model.valueAt(world.secretArn, 'AWSPENDING')).toBeUndefined();
  });

  it("does not wait out Coder's 60 s Retry-After with 30 s left; the step run again converges", async () => {
    // Prepare: Coder answers the key creation 429, Retry-After 60 s.
    world.sim.setFaults({
      rateLimitBurst: 1,
      rateLimitBurstRetryAfterSeconds: 60,
      routes: [CREATE_KEY_ROUTE],
    });

    // Act
    const first = await rotate(createSecret(), withLeft(30_000)).catch((error: unknown) => error);

    // Assess: stopped before the wait, nothing created; Secrets Manager's retry then creates the key.
    expect(first).toMatchObject({ kind: 'deadline', step: 'retry-after', waitMs: 60_000 });
    expect(await liveKeyNames()).not.toContain(managedKeyName(PREFIX, TOKEN));
    await expect(rotate(createSecret(), withLeft(30_000))).resolves.toMatchObject({
      outcome: 'pending_created',
    });
    expect(await liveKeyNames()).toContain(managedKeyName(PREFIX, TOKEN));
  });
});

describe("the key-health handler within the invocation's deadline", () => {
  let world: RotationWorld;

  beforeEach(async () => {
    // Prepare: a finished rotation two days ago, the daemon moved to the new key: the previous key may go.
    world = await createRotationWorld();
    const rotatedAt = Date.now() - 48 * HOUR;
    const rotate = rotation.makeHandler({
      secrets: world.secrets,
      keys: world.keys,
      log: world.log,
      now: () => new Date(rotatedAt),
      managedPrefix: PREFIX,
    });
    world.model.startRotation(world.secretArn, TOKEN);
    await runSteps(rotate, world.secretArn, TOKEN);
    world.model.completeRotation(world.secretArn, TOKEN);
    world.sim.seed.removeProvisionerDaemon('prov-0');
    world.sim.seed.provisionerDaemon({ name: 'prov-0b', keyName: managedKeyName(PREFIX, TOKEN) });
  });
  afterEach(() => world.close());

  it('with no time left, sends nothing to Coder and deletes nothing', async () => {
    // Prepare
    const check = health.makeHandler({
      secrets: world.secrets,
      keys: world.keys,
      log: world.log,
      metrics: { addMetric: () => {} },
      now: () => new Date(),
      secretId: world.secretArn,
      managedPrefix: PREFIX,
      previousKeyGraceMs: 24 * HOUR,
    });
    const requestsBefore = world.sim.totalRequests();

    // Act
    const outcome = check({ action: 'check' }, withLeft(0));

    // Assess: the check stops; the previous key it would have deleted is still there for tomorrow's.
    await expect(outcome).rejects.toMatchObject({ kind: 'deadline' });
    expect(world.sim.totalRequests()).toBe(requestsBefore);
    const names = (await world.keys.listKeys(ORG, { deadline: NO_DEADLINE })).map((k) => k.name);
    expect(names).toContain(INITIAL_KEY_NAME);
    // With time, the same check deletes it: the stop above was the deadline, not the plan.
    await expect(check({ action: 'check' }, withLeft(60_000))).resolves.toMatchObject({
      deleted: [INITIAL_KEY_NAME],
    });
  });
});
