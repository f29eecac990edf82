import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoFamilyLocks } from '../../../lambdas/adapters/aws/family-locks.js';
import type { ContinuationLocks } from '../../../lambdas/core/families/continuation.js';
import { InMemoryFamilyLocks } from '../../../lambdas/core/families/in-memory.js';
import type { FamilyLocks } from '../../../lambdas/core/families/ports.js';
import { type LocalDynamo, startLocalDynamo } from '../../support/dynalite.js';

let dynamo: LocalDynamo;
let table = 0;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

describe.each([
  [
    'DynamoFamilyLocks (dynalite)',
    async (): Promise<FamilyLocks & ContinuationLocks> => {
      const name = `locks-${++table}`;
      await dynamo.createTable({ tableName: name, partitionKey: 'pk', sortKey: 'sk' });
      return new DynamoFamilyLocks(dynamo.documentClient, name);
    },
  ],
  ['InMemoryFamilyLocks', async (): Promise<FamilyLocks & ContinuationLocks> => new InMemoryFamilyLocks()],
])('%s', (_name, make) => {
  let locks: FamilyLocks & ContinuationLocks;
  beforeEach(async () => {
    locks = await make();
  });

  it('gives a family to one holder at a time until released', async () => {
    expect(await locks.tryAcquire('family#alice/team', 'run-a', 60_000, 1_000)).toBe(true);
    expect(await locks.tryAcquire('family#alice/team', 'run-b', 60_000, 2_000)).toBe(false);
    expect(await locks.tryAcquire('family#alice/other', 'run-b', 60_000, 2_000)).toBe(true);
    await locks.release('family#alice/team', 'run-b');
    expect(await locks.tryAcquire('family#alice/team', 'run-b', 60_000, 3_000)).toBe(false);
    await locks.release('family#alice/team', 'run-a');
    expect(await locks.tryAcquire('family#alice/team', 'run-b', 60_000, 3_000)).toBe(true);
  });

  it('supersedes a lease whoever holds it (a scheduled run replacing the pending continuation)', async () => {
    await locks.tryAcquire('continuation', 'chain-1', 60_000, 0);
    await locks.supersede('continuation', 'chain-2', 60_000, 1_000);
    await locks.release('continuation', 'chain-1');
    expect(await locks.tryAcquire('continuation', 'chain-3', 60_000, 2_000)).toBe(false);
    await locks.release('continuation', 'chain-2');
    expect(await locks.tryAcquire('continuation', 'chain-3', 60_000, 2_000)).toBe(true);
  });

  it('says whether a key is held: an unexpired lease, whoever holds it', async () => {
    expect(await locks.isHeld('continuation', 0)).toBe(false);
    await locks.tryAcquire('continuation', 'chain', 60_000, 0);
    expect(await locks.isHeld('continuation', 59_999)).toBe(true);
    expect(await locks.isHeld('continuation', 60_000)).toBe(false);
    await locks.release('continuation', 'chain');
    expect(await locks.isHeld('continuation', 1)).toBe(false);
  });

  it('lets another run take over a lease left by a crashed run once it expires', async () => {
    await locks.tryAcquire('family#alice/team', 'crashed', 60_000, 0);
    expect(await locks.tryAcquire('family#alice/team', 'next', 60_000, 59_999)).toBe(false);
    expect(await locks.tryAcquire('family#alice/team', 'next', 60_000, 60_001)).toBe(true);
    await locks.release('family#alice/team', 'crashed');
    expect(await locks.tryAcquire('family#alice/team', 'third', 60_000, 60_002)).toBe(false);
  });

  it('admits exactly one of many concurrent acquirers', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => locks.tryAcquire('family#bob/lab', `run-${i}`, 60_000, 1_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('renews only its own lease, and a renewal after the release never brings the lock back', async () => {
    // Prepare: run-a holds the family.
    expect(await locks.tryAcquire('family#carol/ml', 'run-a', 60_000, 1_000)).toBe(true);
    // Act / Assess: its renewal extends the lease past the first expiry.
    expect(await locks.renew('family#carol/ml', 'run-a', 60_000, 50_000)).toBe(true);
    expect(await locks.tryAcquire('family#carol/ml', 'run-b', 60_000, 70_000)).toBe(false);
    // Another holder cannot renew it.
    expect(await locks.renew('family#carol/ml', 'run-b', 60_000, 70_000)).toBe(false);
    // Released, then a renewal that was in flight lands: the lock stays free.
    await locks.release('family#carol/ml', 'run-a');
    expect(await locks.renew('family#carol/ml', 'run-a', 60_000, 71_000)).toBe(false);
    expect(await locks.tryAcquire('family#carol/ml', 'run-c', 60_000, 71_001)).toBe(true);
  });

  it('a renewal finds the lease gone once another run took it over after it expired', async () => {
    await locks.tryAcquire('family#dan/x', 'slow', 60_000, 0);
    expect(await locks.tryAcquire('family#dan/x', 'next', 60_000, 60_001)).toBe(true);
    expect(await locks.renew('family#dan/x', 'slow', 60_000, 60_002)).toBe(false);
  });
});
