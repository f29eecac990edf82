import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoOverrideStore,
  OVERRIDE_PARTITION_KEY,
  OVERRIDE_TTL_ATTRIBUTE,
} from '../../../lambdas/adapters/aws/scaling-override-store.js';
import { InMemoryOverrideStore } from '../../../lambdas/core/scaling/in-memory.js';
import { OverrideConflictError, type OverrideStore } from '../../../lambdas/core/scaling/ports.js';
import { type LocalDynamo, startLocalDynamo } from '../../support/dynalite.js';

let dynamo: LocalDynamo;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const override = {
  profile: 'peak',
  until: '2026-03-10T02:00:00.000Z',
  reason: 'release night',
  setAt: '2026-03-09T20:00:00.000Z',
};

const dynamoStore = async (): Promise<{ store: OverrideStore; tableName: string }> => {
  const tableName = `overrides-${++tableCount}`;
  // dynalite has no TTL API; the table's TTL setting is asserted in the CDK test.
  await dynamo.createTable({ tableName, partitionKey: OVERRIDE_PARTITION_KEY });
  return {
    store: new DynamoOverrideStore({
      documentClient: dynamo.documentClient,
      tableName,
      clusterName: 'coder',
    }),
    tableName,
  };
};

describe.each([
  ['DynamoDB (dynalite)', async () => (await dynamoStore()).store],
  ['in memory', async () => new InMemoryOverrideStore()],
])('override store: %s', (_name, create) => {
  it('stores, reads back, and clears an override', async () => {
    const store = await create();
    expect(await store.get(new Date('2026-03-09T21:00:00Z'))).toBeUndefined();

    const stored = await store.put(override, undefined);

    expect(stored).toEqual({ override, version: 1 });
    expect(await store.get(new Date('2026-03-09T21:00:00Z'))).toEqual({ override, version: 1 });
    expect(await store.clear()).toBe(true);
    expect(await store.get(new Date('2026-03-09T21:00:00Z'))).toBeUndefined();
    expect(await store.clear()).toBe(false);
  });

  it('ignores an override once it has expired, even before TTL removes it', async () => {
    const store = await create();
    await store.put(override, undefined);
    expect(await store.get(new Date('2026-03-10T01:59:59Z'))).toBeDefined();
    expect(await store.get(new Date('2026-03-10T02:00:00Z'))).toBeUndefined();
  });

  it('refuses a write based on a stale read', async () => {
    const store = await create();
    const first = await store.put(override, undefined);
    await expect(store.put({ ...override, profile: 'off-hours' }, undefined)).rejects.toBeInstanceOf(
      OverrideConflictError,
    );
    const second = await store.put({ ...override, reason: 'extended' }, first.version);
    expect(second.version).toBe(2);
    await expect(store.put({ ...override, reason: 'late' }, first.version)).rejects.toBeInstanceOf(
      OverrideConflictError,
    );
  });

  it('lets a new override replace an expired one that TTL has not removed yet', async () => {
    const store = await create();
    await store.put(override, undefined);
    const next = { ...override, until: '2026-03-11T02:00:00.000Z', setAt: '2026-03-10T12:00:00.000Z' };
    await expect(store.put(next, undefined)).resolves.toMatchObject({ override: next });
  });
});

describe('DynamoOverrideStore', () => {
  it('writes the TTL attribute in epoch seconds', async () => {
    const { store, tableName } = await dynamoStore();
    await store.put(override, undefined);

    const { Item } = await dynamo.documentClient.send(
      new GetCommand({ TableName: tableName, Key: { [OVERRIDE_PARTITION_KEY]: 'override#coder' } }),
    );
    expect(Item).toMatchObject({
      [OVERRIDE_TTL_ATTRIBUTE]: Date.parse(override.until) / 1000,
      version: 1,
      reason: 'release night',
    });
  });
});
