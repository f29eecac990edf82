import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ContinuationEvent, ContinuationQueue } from '../../core/families/continuation.js';

/** SQS delays a message by at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;

/**
 * Continuations as delayed SQS messages on a standard queue the reconcile function consumes (one
 * message per invocation). SQS delays to the second, so a paced run's slots are refilled as its
 * jobs finish (EventBridge Scheduler's one-time schedules fire within a minute: too coarse here).
 */
export class SqsContinuationQueue implements ContinuationQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(event: ContinuationEvent, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(event),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
      }),
    );
  }
}
