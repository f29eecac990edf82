import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoFamilyLocks } from '../../../lambdas/adapters/aws/family-locks.js';
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
    async (): Promise<FamilyLocks> => {
      const name = `locks-${++table}`;
      await dynamo.createTable({ tableName: name, partitionKey: 'pk', sortKey: 'sk' });
      return new DynamoFamilyLocks(dynamo.documentClient, name);
    },
  ],
  ['InMemoryFamilyLocks', async (): Promise<FamilyLocks> => new InMemoryFamilyLocks()],
])('%s', (_name, make) => {
  let locks: FamilyLocks;
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
});
