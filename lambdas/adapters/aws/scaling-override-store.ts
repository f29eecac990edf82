import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { OVERRIDE_PARTITION_KEY, OVERRIDE_TTL_ATTRIBUTE } from '../../contracts/scaling-override-table.js';
import type { ScalingOverride } from '../../core/scaling/calendar.js';
import { OverrideConflictError, type OverrideStore, type StoredOverride } from '../../core/scaling/ports.js';

// The table's layout is shared with the construct through lambdas/contracts/; re-exported for callers.
export { OVERRIDE_PARTITION_KEY, OVERRIDE_TTL_ATTRIBUTE };

interface OverrideItem {
  pk: string;
  profile: string;
  until: string;
  reason: string;
  setAt: string;
  version: number;
  expiresAt: number;
}

/**
 * The operator override in DynamoDB: one item per cluster. TTL removes it some time after it
 * expires, so reads also ignore an item whose `until` has passed. Writes are conditional on the
 * version read before, so two operators (or the CLI and the Lambda) cannot overwrite each other
 * unknowingly.
 */
export class DynamoOverrideStore implements OverrideStore {
  private readonly key: string;

  constructor(
    private readonly options: {
      readonly documentClient: DynamoDBDocumentClient;
      readonly tableName: string;
      /** One override per cluster. */
      readonly clusterName: string;
    },
  ) {
    this.key = `override#${options.clusterName}`;
  }

  async get(now: Date): Promise<StoredOverride | undefined> {
    const { Item } = await this.options.documentClient.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: { [OVERRIDE_PARTITION_KEY]: this.key },
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return undefined;
    const item = Item as OverrideItem;
    if (Date.parse(item.until) <= now.getTime()) return undefined;
    return {
      override: { profile: item.profile, until: item.until, reason: item.reason, setAt: item.setAt },
      version: item.version,
    };
  }

  async put(override: ScalingOverride, expectedVersion: number | undefined): Promise<StoredOverride> {
    const until = new Date(override.until);
    const setAt = new Date(override.setAt);
    const item: OverrideItem = {
      pk: this.key,
      profile: override.profile,
      until: until.toISOString(),
      reason: override.reason,
      setAt: setAt.toISOString(),
      version: (expectedVersion ?? 0) + 1,
      expiresAt: Math.ceil(until.getTime() / 1000),
    };
    try {
      await this.options.documentClient.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: item,
          // No live override expected: none there, or only an expired one TTL has not removed yet.
          ConditionExpression:
            expectedVersion === undefined
              ? 'attribute_not_exists(#pk) OR #expiresAt <= :now'
              : '#version = :expected AND #expiresAt > :now',
          ExpressionAttributeNames:
            expectedVersion === undefined
              ? { '#pk': OVERRIDE_PARTITION_KEY, '#expiresAt': OVERRIDE_TTL_ATTRIBUTE }
              : { '#version': 'version', '#expiresAt': OVERRIDE_TTL_ATTRIBUTE },
          ExpressionAttributeValues:
            expectedVersion === undefined
              ? { ':now': Math.floor(setAt.getTime() / 1000) }
              : { ':expected': expectedVersion, ':now': Math.floor(setAt.getTime() / 1000) },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new OverrideConflictError(
          `The scaling override for cluster ${this.options.clusterName} changed since it was read (expected ${
            expectedVersion === undefined ? 'none' : `version ${expectedVersion}`
          }); read it again and retry`,
        );
      }
      throw error;
    }
    return {
      override: { profile: item.profile, until: item.until, reason: item.reason, setAt: item.setAt },
      version: item.version,
    };
  }

  async clear(): Promise<boolean> {
    const { Attributes } = await this.options.documentClient.send(
      new DeleteCommand({
        TableName: this.options.tableName,
        Key: { [OVERRIDE_PARTITION_KEY]: this.key },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }
}
