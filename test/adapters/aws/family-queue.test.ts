import 'aws-sdk-client-mock-vitest/extend';
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  FamilyQueueError,
  InMemoryFamilyQueue,
  SqsFamilyWorkQueue,
} from '../../../lambdas/adapters/aws/family-queue.js';
import type { FamilyWorkItem } from '../../../lambdas/core/families/webhook/work-item.js';
import { IDS } from '../../core/families/webhook/fixtures.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/families.fifo';
const sqs = mockClient(SQSClient);

const item = (n: number, overrides: Partial<FamilyWorkItem> = {}): FamilyWorkItem => ({
  v: 1,
  source: 'notification',
  event: 'workspace_created',
  messageId: `msg-00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  workspaceId: IDS.workspace,
  workspaceName: 'my-team',
  ownerId: IDS.owner,
  ownerName: 'alice',
  ...overrides,
});

describe('SqsFamilyWorkQueue', () => {
  beforeEach(() => {
    sqs.reset();
  });

  it('sends each item with the owner as group, the message id as deduplication id and only the work item as body', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const queue = new SqsFamilyWorkQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);

    // Act
    await queue.enqueue([item(1)]);

    // Assess
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: QUEUE_URL,
      Entries: [
        {
          Id: 'm0',
          MessageGroupId: `owner-${IDS.owner}`,
          MessageDeduplicationId: 'msg-00000000-0000-4000-8000-000000000001',
          MessageBody: JSON.stringify(item(1)),
        },
      ],
    });
    const body = JSON.parse(
      sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageBody ?? '',
    );
    expect(Object.keys(body).sort()).toEqual(
      ['event', 'messageId', 'ownerId', 'ownerName', 'source', 'v', 'workspaceId', 'workspaceName'].sort(),
    );
  });

  it('sends in batches of ten, in order', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const queue = new SqsFamilyWorkQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);

    await queue.enqueue(Array.from({ length: 23 }, (_, i) => item(i)));

    const batches = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(batches.flat().map((e) => e.Id)).toEqual(Array.from({ length: 23 }, (_, i) => `m${i}`));
  });

  it("sends a large audit batch in parallel lanes, keeping each owner's messages in order", async () => {
    // Prepare: 1,500 workspaces of 60 owners; each call takes a moment, so overlap shows.
    let inFlight = 0;
    let maxInFlight = 0;
    sqs.on(SendMessageBatchCommand).callsFake(async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight -= 1;
      return { Successful: [], Failed: [] };
    });
    const queue = new SqsFamilyWorkQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);
    const items = Array.from({ length: 1500 }, (_, i) =>
      item(i, { ownerId: `00000000-0000-4000-8000-${String(i % 60).padStart(12, '0')}` }),
    );

    // Act
    await queue.enqueue(items);

    // Assess
    expect(maxInFlight).toBe(10);
    const sent = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(sent).toHaveLength(1500);
    const order = new Map<string, number[]>();
    for (const entry of sent) {
      const n = Number(entry.Id?.slice(1));
      order.set(entry.MessageGroupId ?? '', [...(order.get(entry.MessageGroupId ?? '') ?? []), n]);
    }
    for (const ns of order.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
  });

  it('throws when SQS rejects an entry, naming only the error codes', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: 'm0', Code: 'InternalError', SenderFault: false, Message: 'internal' }],
    });
    const queue = new SqsFamilyWorkQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);

    await expect(queue.enqueue([item(1)])).rejects.toThrow(
      new FamilyQueueError('SQS rejected 1 of 1 family work messages (InternalError)'),
    );
  });

  it('lets an SQS service error through to the caller', async () => {
    sqs.on(SendMessageBatchCommand).rejects(
      new SQSServiceException({
        name: 'ServiceUnavailable',
        $fault: 'server',
        $metadata: {},
        message: 'down',
      }),
    );
    const queue = new SqsFamilyWorkQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);

    await expect(queue.enqueue([item(1)])).rejects.toThrow('down');
  });

  it('brings a message back sooner by changing its visibility, within SQS limits', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const queue = new SqsFamilyWorkQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);

    await queue.retryAfter('receipt-1', 30.4);
    await queue.retryAfter('receipt-2', 10 ** 9);

    expect(sqs).toHaveReceivedNthCommandWith(ChangeMessageVisibilityCommand, 1, {
      QueueUrl: QUEUE_URL,
      ReceiptHandle: 'receipt-1',
      VisibilityTimeout: 30,
    });
    expect(sqs).toHaveReceivedNthCommandWith(ChangeMessageVisibilityCommand, 2, {
      QueueUrl: QUEUE_URL,
      ReceiptHandle: 'receipt-2',
      VisibilityTimeout: 43_200,
    });
  });
});

describe('InMemoryFamilyQueue', () => {
  it('drops a second send of the same message id within the deduplication window, not after', async () => {
    let now = 0;
    const queue = new InMemoryFamilyQueue({ now: () => now });

    await queue.enqueue([item(1)]);
    await queue.enqueue([item(1)]);
    now = 300_001;
    await queue.enqueue([item(1)]);

    expect(queue.sent).toHaveLength(3);
    expect(queue.depth).toBe(2);
  });

  it('delivers a batch in order, holds back a group while any of its messages is in flight, and redelivers in order', async () => {
    let now = 0;
    const queue = new InMemoryFamilyQueue({ now: () => now, visibilityTimeoutMs: 1000 });
    const other = '11111111-2222-4333-8444-555555555555';
    await queue.enqueue([item(1), item(2), item(3, { ownerId: other })]);
    const ids = (records: ReturnType<typeof queue.receive>) =>
      records.map((r) => JSON.parse(r.body).messageId);

    const first = queue.receive();
    expect(ids(first)).toEqual([item(1).messageId, item(2).messageId, item(3).messageId]);
    expect(first[0]?.attributes).toMatchObject({
      MessageGroupId: `owner-${IDS.owner}`,
      ApproximateReceiveCount: '1',
    });
    expect(queue.receive()).toEqual([]);

    // The first owner's messages failed (the second one short-circuited); the other owner's succeeded.
    queue.settle(first, [first[0]?.messageId ?? '', first[1]?.messageId ?? '']);
    now = 1000;

    expect(ids(queue.receive())).toEqual([item(1).messageId, item(2).messageId]);
  });

  it('redelivers a failed message after its visibility timeout and dead-letters it after maxReceiveCount', async () => {
    let now = 0;
    const queue = new InMemoryFamilyQueue({ now: () => now, maxReceiveCount: 2, visibilityTimeoutMs: 1000 });
    await queue.enqueue([item(1)]);

    const first = queue.receive();
    queue.settle(
      first,
      first.map((r) => r.messageId),
    );
    expect(queue.receive()).toEqual([]);
    now = 1000;
    const second = queue.receive();
    expect(second[0]?.attributes.ApproximateReceiveCount).toBe('2');
    queue.settle(
      second,
      second.map((r) => r.messageId),
    );
    now = 2000;

    expect(queue.receive()).toEqual([]);
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.depth).toBe(0);
  });

  it('honours a shortened visibility from retryAfter', async () => {
    let now = 0;
    const queue = new InMemoryFamilyQueue({ now: () => now, visibilityTimeoutMs: 60_000 });
    await queue.enqueue([item(1)]);
    const [record] = queue.receive();
    await queue.retryAfter(record?.receiptHandle ?? '', 5);
    queue.settle(record ? [record] : [], [record?.messageId ?? '']);

    now = 5000;
    expect(queue.receive()).toHaveLength(1);
  });
});
