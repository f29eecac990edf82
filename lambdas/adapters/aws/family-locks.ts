import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { FamilyLocks } from '../../core/families/ports.js';

/**
 * Family locks as DynamoDB leases (string keys `pk`, `sk`; TTL attribute `ttl` cleans up leases
 * of crashed runs). Acquiring is one conditional put that succeeds when nobody holds the key,
 * the lease has expired, or the holder is us; releasing deletes only our own lease. The table
 * can be the ledger table: lock items live under their own `lock#` partition keys.
 */
export class DynamoFamilyLocks implements FamilyLocks {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async tryAcquire(key: string, holder: string, leaseMs: number, now: number): Promise<boolean> {
    const expiresAt = now + leaseMs;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: lockPk(key), sk: 'lock', holder, expiresAt, ttl: Math.ceil(expiresAt / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now OR #holder = :holder',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#holder': 'holder' },
          ExpressionAttributeValues: { ':now': now, ':holder': holder },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Extends the lease only while it is still `holder`'s: a condition on the holder, never a put, so a late renewal cannot recreate a released lock. */
  async renew(key: string, holder: string, leaseMs: number, now: number): Promise<boolean> {
    const expiresAt = now + leaseMs;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: lockPk(key), sk: 'lock' },
          UpdateExpression: 'SET #expiresAt = :expiresAt, #ttl = :ttl',
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#ttl': 'ttl', '#holder': 'holder' },
          ExpressionAttributeValues: {
            ':expiresAt': expiresAt,
            ':ttl': Math.ceil(expiresAt / 1000) + 3600,
            ':holder': holder,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Takes the lease whoever holds it: a put without a condition (continuation.ts). */
  async supersede(key: string, holder: string, leaseMs: number, now: number): Promise<void> {
    const expiresAt = now + leaseMs;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: lockPk(key), sk: 'lock', holder, expiresAt, ttl: Math.ceil(expiresAt / 1000) + 3600 },
      }),
    );
  }

  async isHeld(key: string, now: number): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: lockPk(key), sk: 'lock' },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.expiresAt === 'number' && Item.expiresAt > now;
  }

  async release(key: string, holder: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: lockPk(key), sk: 'lock' },
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#holder': 'holder' },
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      // Someone took over an expired lease: theirs now, nothing to release.
      if (!isConditionFailure(error)) throw error;
    }
  }
}

const lockPk = (key: string): string => `lock#${key}`;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');
