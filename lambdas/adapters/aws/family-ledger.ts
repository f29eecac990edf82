import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  BuildParameter,
  ChildRecord,
  FailureRecord,
  FamilyKey,
  LedgerState,
  ParentMissingRecord,
} from '../../core/families/model.js';
import type { FamilyLedger } from '../../core/families/ports.js';

/**
 * The ownership ledger in one DynamoDB table (string keys `pk`, `sk`; TTL attribute `ttl`).
 *
 * | pk               | sk                          | item                                        |
 * |------------------|-----------------------------|---------------------------------------------|
 * | `owner#<owner>`  | `child#<parent>#<index:000>`| a child: intent, then confirmed with its id |
 * | `owner#<owner>`  | `missing#<parent>`          | when the parent was first seen missing      |
 * | `owner#<owner>`  | `failures#<parent>`         | consecutive failures and backoff            |
 * | `build#<id>`     | `parameters`                | cached build parameters (immutable), TTL    |
 *
 * One partition per owner: a webhook-scoped reconcile reads it with a single Query, and resolves
 * "is this workspace a child, and whose" from it without an index.
 */
export class DynamoFamilyLedger implements FamilyLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async loadAll(): Promise<LedgerState> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'begins_with(pk, :owner)',
          ExpressionAttributeValues: { ':owner': 'owner#' },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return toLedgerState(items);
  }

  async loadOwner(owner: string): Promise<LedgerState> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ownerPk(owner.toLowerCase()) },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return toLedgerState(items);
  }

  async beginCreate(intent: ChildRecord, replacesChildId?: string): Promise<ChildRecord | undefined> {
    const key = childItemKey(intent.owner, intent.parent, intent.index);
    const item = {
      ...key,
      type: 'child',
      ...stripUndefined({ ...intent, state: 'intent', childId: undefined, createdAt: undefined }),
    };
    if (
      await this.conditional(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
    ) {
      return fromChildItem(item);
    }
    const existing = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    const current = existing.Item ? fromChildItem(existing.Item) : undefined;
    if (!current) {
      // Deleted between our put and our read: try once more from scratch.
      const retried = await this.conditional(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return retried ? fromChildItem(item) : undefined;
    }
    if (current.state === 'intent' && current.childName.toLowerCase() === intent.childName.toLowerCase()) {
      // An earlier attempt's intent: keep its time, so a workspace that attempt created is still ours.
      const ok = await this.conditional(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET runId = :run, parentId = :parentId',
          ConditionExpression: '#state = :intent AND intentAt = :at',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':run': intent.runId,
            ':parentId': intent.parentId,
            ':intent': 'intent',
            ':at': current.intentAt,
          },
        }),
      );
      return ok ? { ...intent, intentAt: current.intentAt } : undefined;
    }
    if (
      current.state === 'confirmed' &&
      replacesChildId !== undefined &&
      current.childId === replacesChildId
    ) {
      const ok = await this.conditional(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: '#state = :confirmed AND childId = :replaces',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':confirmed': 'confirmed', ':replaces': replacesChildId },
        }),
      );
      return ok ? fromChildItem(item) : undefined;
    }
    return undefined;
  }

  async confirmChild(key: FamilyKey, index: number, childId: string, at: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: childItemKey(key.owner, key.parent, index),
        UpdateExpression: 'SET #state = :confirmed, childId = :id, createdAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':confirmed': 'confirmed', ':id': childId, ':at': at },
      }),
    );
  }

  async forgetChild(key: FamilyKey, index: number, childId: string | undefined): Promise<void> {
    await this.conditional(
      new DeleteCommand({
        TableName: this.tableName,
        Key: childItemKey(key.owner, key.parent, index),
        ...(childId === undefined
          ? {
              ConditionExpression: '#state = :intent',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':intent': 'intent' },
            }
          : { ConditionExpression: 'childId = :id', ExpressionAttributeValues: { ':id': childId } }),
      }),
    );
  }

  async setParentMissing(key: FamilyKey, since: number): Promise<void> {
    await this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: ownerPk(key.owner), sk: `missing#${key.parent}`, type: 'missing', ...key, since },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async clearParentMissing(key: FamilyKey): Promise<void> {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: ownerPk(key.owner), sk: `missing#${key.parent}` },
      }),
    );
  }

  async recordFailure(
    key: FamilyKey,
    failure: { at: number; hard: boolean; parentBuildId: string | undefined; error: string },
  ): Promise<FailureRecord> {
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: ownerPk(key.owner), sk: `failures#${key.parent}` },
        UpdateExpression:
          'SET #type = :type, #owner = :owner, #parent = :parent, lastFailureAt = :at, lastError = :error, parentBuildId = :build ADD consecutive :one, #hard :hard',
        ExpressionAttributeNames: {
          '#type': 'type',
          '#owner': 'owner',
          '#parent': 'parent',
          '#hard': 'hard',
        },
        ExpressionAttributeValues: {
          ':type': 'failures',
          ':owner': key.owner,
          ':parent': key.parent,
          ':at': failure.at,
          ':error': failure.error.slice(0, 1000),
          ':build': failure.parentBuildId ?? null,
          ':one': 1,
          ':hard': failure.hard ? 1 : 0,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return fromFailureItem(result.Attributes ?? {});
  }

  async clearFailures(key: FamilyKey): Promise<void> {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: ownerPk(key.owner), sk: `failures#${key.parent}` },
      }),
    );
  }

  /** Sends a conditional write; false when the condition did not hold. */
  private async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      // The union confuses send()'s overloads; each member is a valid command for this client.
      await this.client.send(command as PutCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

/** Build parameters cached in the ledger table, so a cold Lambda does not re-read them from Coder. */
export class DynamoBuildParameterStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Epoch ms, for the TTL. */
    private readonly now: () => number = Date.now,
    private readonly ttlDays = 30,
  ) {}

  async getMany(buildIds: readonly string[]): Promise<Map<string, BuildParameter[]>> {
    const found = new Map<string, BuildParameter[]>();
    const ids = [...new Set(buildIds)];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + 100).map((id) => buildKey(id));
      for (let attempt = 0; keys && keys.length > 0 && attempt < 5; attempt++) {
        const result: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: keys,
                ProjectionExpression: 'pk, #parameters',
                ExpressionAttributeNames: { '#parameters': 'parameters' },
              },
            },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const id = String(item.pk).slice('build#'.length);
          if (Array.isArray(item.parameters)) found.set(id, item.parameters as BuildParameter[]);
        }
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }

  async putMany(entries: ReadonlyMap<string, readonly BuildParameter[]>): Promise<void> {
    const ttl = Math.floor(this.now() / 1000) + this.ttlDays * 86_400;
    const requests = [...entries].map(([id, parameters]) => ({
      PutRequest: { Item: { ...buildKey(id), type: 'build-parameters', parameters, ttl } },
    }));
    for (let i = 0; i < requests.length; i += 25) {
      let batch: typeof requests | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; batch && batch.length > 0 && attempt < 5; attempt++) {
        const result: BatchWriteCommandOutput = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: batch } }),
        );
        batch = result.UnprocessedItems?.[this.tableName] as typeof requests | undefined;
      }
    }
  }
}

const ownerPk = (owner: string): string => `owner#${owner}`;
const buildKey = (id: string): { pk: string; sk: string } => ({ pk: `build#${id}`, sk: 'parameters' });
const childItemKey = (owner: string, parent: string, index: number): { pk: string; sk: string } => ({
  pk: ownerPk(owner),
  sk: `child#${parent}#${String(index).padStart(3, '0')}`,
});

const stripUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

const toLedgerState = (items: readonly Record<string, unknown>[]): LedgerState => {
  const children: ChildRecord[] = [];
  const missing: ParentMissingRecord[] = [];
  const failures: FailureRecord[] = [];
  for (const item of items) {
    const sk = String(item.sk ?? '');
    if (sk.startsWith('child#')) children.push(fromChildItem(item));
    else if (sk.startsWith('missing#')) {
      missing.push({ owner: String(item.owner), parent: String(item.parent), since: Number(item.since) });
    } else if (sk.startsWith('failures#')) failures.push(fromFailureItem(item));
  }
  return { children, missing, failures };
};

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

const fromChildItem = (item: Record<string, unknown>): ChildRecord => ({
  owner: String(item.owner),
  parent: String(item.parent),
  index: Number(item.index),
  childName: String(item.childName),
  state: item.state === 'confirmed' ? 'confirmed' : 'intent',
  intentAt: Number(item.intentAt),
  parentId: String(item.parentId ?? ''),
  runId: String(item.runId ?? ''),
  childId: optionalString(item.childId),
  createdAt: typeof item.createdAt === 'number' ? item.createdAt : undefined,
});

const fromFailureItem = (item: Record<string, unknown>): FailureRecord => ({
  owner: String(item.owner),
  parent: String(item.parent),
  consecutive: Number(item.consecutive ?? 0),
  hard: Number(item.hard ?? 0),
  lastFailureAt: Number(item.lastFailureAt ?? 0),
  parentBuildId: optionalString(item.parentBuildId),
  lastError: optionalString(item.lastError),
});
