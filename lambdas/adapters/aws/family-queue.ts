import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import {
  type FamilyWorkItem,
  familyDeduplicationId,
  familyMessageGroupId,
} from '../../core/families/webhook/work-item.js';

/** Where the webhook puts family work. */
export interface FamilyWorkQueue {
  /** Sends every item, or throws; a retry of the same items is deduplicated by message id. */
  enqueue(items: readonly FamilyWorkItem[]): Promise<void>;
}

/** How the worker asks for a message to come back sooner than the queue's visibility timeout. */
export interface FamilyRetryScheduler {
  retryAfter(receiptHandle: string, delaySeconds: number): Promise<void>;
}

export class FamilyQueueError extends Error {
  override readonly name = 'FamilyQueueError';
}

/** SQS allows 10 entries per SendMessageBatch. */
const BATCH_SIZE = 10;
/** SQS caps a message's visibility at 12 hours. */
const MAX_VISIBILITY_SECONDS = 12 * 3600;

/** The exact SQS entry for one work item: its group, its deduplication id and the minimal body. */
export const toSendEntry = (item: FamilyWorkItem, index: number): SendMessageBatchRequestEntry => ({
  Id: `m${index}`,
  MessageGroupId: familyMessageGroupId(item),
  MessageDeduplicationId: familyDeduplicationId(item),
  MessageBody: JSON.stringify(item),
});

/** SendMessageBatch calls in flight at once for one enqueue. */
const PARALLEL_SENDS = 10;

/**
 * The entries split into at most `lanes` lanes, each message group whole in one lane and in its
 * original order; a group goes to the lane with the fewest entries so far.
 */
export const sendLanes = (
  items: readonly FamilyWorkItem[],
  lanes: number,
): SendMessageBatchRequestEntry[][] => {
  const groups = new Map<string, SendMessageBatchRequestEntry[]>();
  items.forEach((item, index) => {
    const entry = toSendEntry(item, index);
    const group = entry.MessageGroupId ?? '';
    groups.set(group, [...(groups.get(group) ?? []), entry]);
  });
  const out: SendMessageBatchRequestEntry[][] = [];
  for (const entries of groups.values()) {
    if (out.length < lanes) {
      out.push([...entries]);
      continue;
    }
    const shortest = out.reduce((a, b) => (b.length < a.length ? b : a));
    shortest.push(...entries);
  }
  return out;
};

/** The SQS FIFO queue between the webhook and the worker. */
export class SqsFamilyWorkQueue implements FamilyWorkQueue, FamilyRetryScheduler {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(items: readonly FamilyWorkItem[]): Promise<void> {
    // Lanes run in parallel (a 1,500-workspace audit batch is 15 round trips, not 150); each
    // message group lives in one lane, sent batch after batch, so an owner's messages keep order.
    await Promise.all(
      sendLanes(items, PARALLEL_SENDS).map(async (lane) => {
        for (let start = 0; start < lane.length; start += BATCH_SIZE) {
          await this.sendBatch(lane.slice(start, start + BATCH_SIZE));
        }
      }),
    );
  }

  private async sendBatch(entries: SendMessageBatchRequestEntry[]): Promise<void> {
    const result = await this.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
    );
    const failed = result.Failed ?? [];
    if (failed.length > 0) {
      const codes = [...new Set(failed.map((f) => f.Code ?? 'unknown'))].join(', ');
      throw new FamilyQueueError(
        `SQS rejected ${failed.length} of ${entries.length} family work messages (${codes})`,
      );
    }
  }

  async retryAfter(receiptHandle: string, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.round(delaySeconds))),
      }),
    );
  }
}

interface StoredMessage {
  readonly messageId: string;
  readonly groupId: string;
  readonly deduplicationId: string;
  readonly body: string;
  readonly sequenceNumber: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

export interface InMemoryFamilyQueueOptions {
  /** SQS FIFO's deduplication interval. @default 300000 (5 minutes) */
  readonly deduplicationWindowMs?: number;
  /** Receives after which a message moves to the dead-letter list. @default 5 */
  readonly maxReceiveCount?: number;
  /** Visibility timeout of a received message. @default 60000 */
  readonly visibilityTimeoutMs?: number;
  readonly now?: () => number;
}

/**
 * An in-memory SQS FIFO queue with the semantics the worker depends on, for tests and local runs:
 * deduplication by id within a window, strict order per message group, one group in flight at a
 * time, visibility timeouts, receive counts and a dead-letter list after `maxReceiveCount`.
 */
export class InMemoryFamilyQueue implements FamilyWorkQueue, FamilyRetryScheduler {
  private readonly messages: StoredMessage[] = [];
  private readonly deduplication = new Map<string, number>();
  private readonly inFlight = new Map<string, StoredMessage>();
  private sequence = 0;
  readonly deadLetters: Array<{ readonly body: string; readonly groupId: string }> = [];
  /** Every entry a sender offered, accepted or deduplicated, in order. */
  readonly sent: Array<{
    readonly groupId: string;
    readonly deduplicationId: string;
    readonly body: string;
  }> = [];
  private readonly windowMs: number;
  private readonly maxReceiveCount: number;
  private readonly visibilityMs: number;
  private readonly now: () => number;

  constructor(options: InMemoryFamilyQueueOptions = {}) {
    this.windowMs = options.deduplicationWindowMs ?? 300_000;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.visibilityMs = options.visibilityTimeoutMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async enqueue(items: readonly FamilyWorkItem[]): Promise<void> {
    items.forEach((item, index) => {
      const entry = toSendEntry(item, index);
      const groupId = entry.MessageGroupId ?? '';
      const deduplicationId = entry.MessageDeduplicationId ?? '';
      const body = entry.MessageBody ?? '';
      this.sent.push({ groupId, deduplicationId, body });
      const now = this.now();
      const seenAt = this.deduplication.get(deduplicationId);
      if (seenAt !== undefined && now - seenAt < this.windowMs) return;
      this.deduplication.set(deduplicationId, now);
      this.sequence += 1;
      this.messages.push({
        messageId: randomUUID(),
        groupId,
        deduplicationId,
        body,
        sequenceNumber: this.sequence,
        receiveCount: 0,
        visibleAt: 0,
      });
    });
  }

  /** Messages waiting or in flight (not yet deleted). */
  get depth(): number {
    return this.messages.length;
  }

  /**
   * Receives up to `max` messages like an SQS FIFO event source: oldest first, and never a message
   * whose group has an earlier message in flight or invisible. Messages received more than
   * `maxReceiveCount` times move to the dead-letter list instead.
   */
  receive(max = 10): SQSRecord[] {
    const now = this.now();
    const blockedGroups = new Set<string>();
    const batch: SQSRecord[] = [];
    for (const message of [...this.messages]) {
      if (batch.length >= max) break;
      if (blockedGroups.has(message.groupId)) continue;
      if (message.visibleAt > now) {
        blockedGroups.add(message.groupId);
        continue;
      }
      if (message.receiveCount >= this.maxReceiveCount) {
        this.remove(message);
        this.deadLetters.push({ body: message.body, groupId: message.groupId });
        continue;
      }
      message.receiveCount += 1;
      message.visibleAt = now + this.visibilityMs;
      message.receiptHandle = randomUUID();
      this.inFlight.set(message.receiptHandle, message);
      batch.push(this.toRecord(message, now));
    }
    return batch;
  }

  /** Deletes the batch's messages except the failed ones, as the Lambda event source does. */
  settle(batch: readonly SQSRecord[], failedMessageIds: readonly string[]): void {
    const failed = new Set(failedMessageIds);
    for (const record of batch) {
      const message = this.inFlight.get(record.receiptHandle);
      if (!message) continue;
      this.inFlight.delete(record.receiptHandle);
      if (!failed.has(record.messageId)) this.remove(message);
    }
  }

  async retryAfter(receiptHandle: string, delaySeconds: number): Promise<void> {
    const message = this.inFlight.get(receiptHandle);
    if (message) message.visibleAt = this.now() + delaySeconds * 1000;
  }

  private remove(message: StoredMessage): void {
    const index = this.messages.indexOf(message);
    if (index >= 0) this.messages.splice(index, 1);
  }

  private toRecord(message: StoredMessage, now: number): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle ?? '',
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(now),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(now),
        SequenceNumber: String(message.sequenceNumber).padStart(20, '0'),
        MessageGroupId: message.groupId,
        MessageDeduplicationId: message.deduplicationId,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:families.fifo',
      awsRegion: 'us-east-1',
    };
  }
}
