import type { AddressInfo } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  createTable(table: TableSpec): Promise<void>;
  close(): Promise<void>;
}

export interface TableSpec {
  readonly tableName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

/**
 * A real DynamoDB API (dynalite, in memory) on an ephemeral 127.0.0.1 port, for store tests.
 * Tables are created instantly so tests don't wait for ACTIVE.
 */
export const startLocalDynamo = async (): Promise<LocalDynamo> => {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    endpoint,
    client,
    documentClient,
    // dynalite has no UpdateTimeToLive; stores must ignore expired items on read anyway (DynamoDB
    // deletes them up to days late), and the CDK tests check the TTL setting of the real tables.
    async createTable({ tableName, partitionKey, sortKey }) {
      const keys: Array<[string, 'HASH' | 'RANGE']> = [[partitionKey, 'HASH']];
      if (sortKey) keys.push([sortKey, 'RANGE']);
      const KeySchema: KeySchemaElement[] = keys.map(([AttributeName, KeyType]) => ({
        AttributeName,
        KeyType,
      }));
      const AttributeDefinitions: AttributeDefinition[] = keys.map(([AttributeName]) => ({
        AttributeName,
        AttributeType: 'S',
      }));
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          KeySchema,
          AttributeDefinitions,
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
};
