import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoBuildParameterStore,
  DynamoFamilyLedger,
} from '../../../lambdas/adapters/aws/family-ledger.js';
import { InMemoryFamilyLedger } from '../../../lambdas/core/families/in-memory.js';
import type { ChildRecord } from '../../../lambdas/core/families/model.js';
import type { FamilyLedger } from '../../../lambdas/core/families/ports.js';
import { type LocalDynamo, startLocalDynamo } from '../../support/dynalite.js';

const family = { owner: 'alice', parent: 'team' };
const intent = (index: number, overrides: Partial<ChildRecord> = {}): ChildRecord => ({
  ...family,
  index,
  childName: `team-${index}`,
  state: 'intent',
  intentAt: 1_000,
  parentId: 'parent-id',
  runId: 'run-1',
  ...overrides,
});

let dynamo: LocalDynamo;
let table = 0;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const implementations: Array<[string, () => Promise<FamilyLedger>]> = [
  [
    'DynamoFamilyLedger (dynalite)',
    async () => {
      const name = `ledger-${++table}`;
      await dynamo.createTable({ tableName: name, partitionKey: 'pk', sortKey: 'sk' });
      return new DynamoFamilyLedger(dynamo.documentClient, name);
    },
  ],
  ['InMemoryFamilyLedger', async () => new InMemoryFamilyLedger()],
];

describe.each(implementations)('%s', (_name, make) => {
  let ledger: FamilyLedger;
  beforeEach(async () => {
    ledger = await make();
  });

  it('writes an intent, confirms it with the workspace id, and loads it per owner and in full', async () => {
    expect(await ledger.beginCreate(intent(1))).toMatchObject({ state: 'intent', intentAt: 1_000 });
    await ledger.confirmChild(family, 1, 'ws-1', 2_000);
    await ledger.beginCreate({ ...intent(1), owner: 'bob', childName: 'team-1' });

    const alice = await ledger.loadOwner('alice');
    expect(alice.children).toEqual([{ ...intent(1), state: 'confirmed', childId: 'ws-1', createdAt: 2_000 }]);
    expect((await ledger.loadAll()).children).toHaveLength(2);
  });

  it('lets a retry reuse its own intent and keeps the first intent time', async () => {
    await ledger.beginCreate(intent(1));
    const again = await ledger.beginCreate(intent(1, { intentAt: 9_000, runId: 'run-2' }));
    expect(again).toMatchObject({ intentAt: 1_000, runId: 'run-2' });
  });

  it('refuses a second create over a confirmed child unless it replaces that exact child', async () => {
    await ledger.beginCreate(intent(1));
    await ledger.confirmChild(family, 1, 'ws-1', 2_000);
    expect(await ledger.beginCreate(intent(1))).toBeUndefined();
    expect(await ledger.beginCreate(intent(1), 'ws-other')).toBeUndefined();
    expect(await ledger.beginCreate(intent(1, { intentAt: 5_000 }), 'ws-1')).toMatchObject({
      state: 'intent',
      intentAt: 5_000,
    });
  });

  it('forgets a child only if it still refers to the given id (or is an intent)', async () => {
    await ledger.beginCreate(intent(1));
    await ledger.confirmChild(family, 1, 'ws-1', 2_000);
    await ledger.beginCreate(intent(2));
    await ledger.forgetChild(family, 1, 'ws-other');
    await ledger.forgetChild(family, 1, undefined);
    expect((await ledger.loadOwner('alice')).children.map((c) => c.index)).toEqual([1, 2]);
    await ledger.forgetChild(family, 1, 'ws-1');
    await ledger.forgetChild(family, 2, undefined);
    expect((await ledger.loadOwner('alice')).children).toEqual([]);
  });

  it('keeps the first parent-missing time and clears it', async () => {
    await ledger.setParentMissing(family, 100);
    await ledger.setParentMissing(family, 200);
    expect((await ledger.loadAll()).missing).toEqual([{ ...family, since: 100 }]);
    await ledger.clearParentMissing(family);
    expect((await ledger.loadAll()).missing).toEqual([]);
  });

  it('counts consecutive and hard failures and clears them', async () => {
    await ledger.recordFailure(family, { at: 10, hard: false, parentBuildId: 'b1', error: 'timeout' });
    const second = await ledger.recordFailure(family, {
      at: 20,
      hard: true,
      parentBuildId: 'b1',
      error: 'validation',
    });
    expect(second).toEqual({
      ...family,
      consecutive: 2,
      hard: 1,
      lastFailureAt: 20,
      parentBuildId: 'b1',
      lastError: 'validation',
    });
    expect((await ledger.loadOwner('alice')).failures).toEqual([second]);
    await ledger.clearFailures(family);
    expect((await ledger.loadOwner('alice')).failures).toEqual([]);
  });

  it('lets only one of two concurrent creates of the same child index through', async () => {
    const results = await Promise.all([
      ledger.beginCreate(intent(3, { childName: 'team-3' })),
      ledger.beginCreate(intent(3, { childName: 'other-name' })),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe('DynamoBuildParameterStore (dynalite)', () => {
  it('round-trips parameters for more builds than one batch holds', async () => {
    await dynamo.createTable({ tableName: 'params', partitionKey: 'pk', sortKey: 'sk' });
    const store = new DynamoBuildParameterStore(dynamo.documentClient, 'params', () => 0);
    const entries = new Map(
      Array.from({ length: 130 }, (_, i) => [`build-${i}`, [{ name: 'n', value: String(i) }]]),
    );

    await store.putMany(entries);
    const found = await store.getMany([...entries.keys(), 'unknown']);

    expect(found.size).toBe(130);
    expect(found.get('build-129')).toEqual([{ name: 'n', value: '129' }]);
  });
});
