/**
 * One Coder request budget shared by every Lambda of a deployment. They all use one token and one
 * egress address, so Coder counts them as one caller (coderd/httpmw/ratelimit.go keys by user, or
 * by client address before coder/coder#22049); per-process pacing alone would let three Lambdas
 * spend three budgets.
 *
 * The budget is a GCRA "theoretical arrival time" (`tat`) in one DynamoDB item, the same scheme as
 * the client's local pacing (adapters/coder/rate-limiter.ts). A process reserves `batch` slots per
 * call with one conditional UpdateItem and no read:
 *   - `tat >= now`: SET tat = tat + batch × interval (the slots follow the last reservation);
 *   - otherwise:    SET tat = now + batch × interval (the bucket had refilled).
 * Reserved slots not used before a run ends are simply lost, which only errs on the safe side.
 * If DynamoDB cannot be reached the process paces itself locally at the same rate and says so.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LogSink } from '../../core/contracts/log-sink.js';
import { RouteRateLimiter } from '../coder/rate-limiter.js';
import type { SharedRequestBudget } from '../coder/transport.js';

export interface CoderRequestBudgetOptions {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Whose budget: every Lambda talking to the same Coder with the same token, e.g. Coder's host. */
  readonly budgetKey: string;
  /** Requests per window for the whole deployment. */
  readonly requestsPerMinute: number;
  /** @default 60000 (only the benchmark scales it) */
  readonly windowMs?: number;
  /** Slots reserved per DynamoDB call. @default 8 */
  readonly batch?: number;
  readonly log: LogSink;
  /** Epoch ms. */
  readonly now?: () => number;
  /** How long to pace locally after a DynamoDB failure before trying it again. @default 30000 */
  readonly retryDynamoAfterMs?: number;
}

export class DynamoCoderRequestBudget implements SharedRequestBudget {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private readonly batch: number;
  private readonly now: () => number;
  /** Reserved slot times (epoch ms), earliest first. */
  private slots: number[] = [];
  /** DynamoDB reservations in flight (several, so one slow call does not stall every request). */
  private readonly refills = new Set<Promise<void>>();
  /** Callers waiting for a slot. */
  private waiting = 0;
  /** The last reservation found the bucket idle (`tat` in the past): try that branch first. */
  private idle = true;
  private readonly local: RouteRateLimiter;
  private localUntil = 0;
  /** DynamoDB calls made, for the benchmark's overhead figure. */
  calls = 0;

  constructor(private readonly options: CoderRequestBudgetOptions) {
    const perWindow = Math.floor(options.requestsPerMinute);
    if (!(perWindow >= 1)) throw new RangeError(`requestsPerMinute must be at least 1, got ${perWindow}`);
    const windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
    // Same sizing as the local limiter, so httprate's two-window estimate stays within the budget.
    this.local = new RouteRateLimiter({ limit: perWindow, windowMs, now: this.now, sleep: async () => {} });
    this.intervalMs = this.local.intervalMs;
    this.toleranceMs = (this.local.burst - 1) * this.intervalMs;
    this.batch = Math.max(1, Math.min(options.batch ?? 8, this.local.burst));
  }

  async reserve(maxWaitMs: number): Promise<number | undefined> {
    const started = this.now();
    for (;;) {
      if (this.now() < this.localUntil) return this.local.tryReserve('deployment', maxWaitMs);
      const slot = this.slots[0];
      if (slot !== undefined) {
        const wait = Math.max(0, slot - this.now());
        if (wait > maxWaitMs - (this.now() - started)) return undefined;
        this.slots.shift();
        return wait;
      }
      if (this.now() - started > maxWaitMs) return undefined;
      this.waiting++;
      try {
        await this.nextRefill();
      } finally {
        this.waiting--;
      }
    }
  }

  /** Joins a reservation in flight that still has slots for this caller, or starts one (at most 4). */
  private nextRefill(): Promise<void> {
    const covered = this.refills.size * this.batch;
    if (this.refills.size >= 4 || (this.refills.size > 0 && this.waiting <= covered)) {
      return Promise.race(this.refills);
    }
    const refill: Promise<void> = this.refill().finally(() => this.refills.delete(refill));
    this.refills.add(refill);
    return refill;
  }

  private async refill(): Promise<void> {
    try {
      const start = await this.take(this.batch);
      for (let k = 0; k < this.batch; k++) this.slots.push(start + k * this.intervalMs - this.toleranceMs);
      // Reservations in flight can answer out of order.
      this.slots.sort((a, b) => a - b);
    } catch (error) {
      const retryAfter = this.options.retryDynamoAfterMs ?? 30_000;
      this.localUntil = this.now() + retryAfter;
      this.options.log.warn(
        'shared Coder request budget unavailable; pacing this process alone until DynamoDB answers again',
        {
          table: this.options.tableName,
          requestsPerMinute: this.options.requestsPerMinute,
          retryInMs: retryAfter,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        },
      );
    }
  }

  /** Reserves `n` slots; returns the time of the first. */
  private async take(n: number): Promise<number> {
    const key = { pk: `coder-budget#${this.options.budgetKey}` };
    const span = n * this.intervalMs;
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.now();
      if (this.idle && (await this.startFresh(key, now, span))) return now;
      this.calls++;
      try {
        const out = await this.options.documentClient.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: key,
            UpdateExpression: 'SET #tat = #tat + :span',
            ConditionExpression: '#tat >= :now',
            ExpressionAttributeNames: { '#tat': 'tat' },
            ExpressionAttributeValues: { ':span': span, ':now': now },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        this.idle = false;
        return Number(out.Attributes?.tat) - span;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      if (await this.startFresh(key, now, span)) return now;
    }
    throw new Error('the shared Coder request budget is too contended (5 conditional updates in a row lost)');
  }

  /** The bucket had refilled (`tat` in the past or absent): start the reservation at `now`. */
  private async startFresh(key: { pk: string }, now: number, span: number): Promise<boolean> {
    this.calls++;
    try {
      await this.options.documentClient.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: key,
          UpdateExpression: 'SET #tat = :end',
          ConditionExpression: 'attribute_not_exists(#tat) OR #tat < :now',
          ExpressionAttributeNames: { '#tat': 'tat' },
          ExpressionAttributeValues: { ':end': now + span, ':now': now },
        }),
      );
      this.idle = true;
      return true;
    } catch (error) {
      // Another process's reservations run past now: add to them instead.
      if (!isConditionFailure(error)) throw error;
      this.idle = false;
      return false;
    }
  }
}

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');
