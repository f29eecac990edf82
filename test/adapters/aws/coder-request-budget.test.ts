import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCoderRequestBudget } from '../../../lambdas/adapters/aws/coder-request-budget.js';
import { silentLog } from '../../../lambdas/core/contracts/log-sink.js';
import { type LocalDynamo, startLocalDynamo } from '../../support/dynalite.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await dynamo.createTable({ tableName: 'budget', partitionKey: 'pk' });
});
afterAll(async () => {
  await dynamo.close();
});

/** Most timestamps in any window of `width` that starts at one of them (small inputs: quadratic is fine). */
const busiest = (times: readonly number[], width: number): number =>
  Math.max(0, ...times.map((start) => times.filter((t) => t >= start && t < start + width).length));

describe('DynamoCoderRequestBudget (dynalite)', () => {
  it('holds three processes sharing one deployment to one budget per window', async () => {
    // Prepare: three Lambdas of one deployment, on one clock that stands still (all waits are future slots).
    const now = 1_000_000;
    const make = () =>
      new DynamoCoderRequestBudget({
        documentClient: dynamo.documentClient,
        tableName: 'budget',
        budgetKey: 'coder.example.com',
        requestsPerMinute: 64,
        log: silentLog,
        now: () => now,
      });
    const processes = [make(), make(), make()];

    // Act: each asks for 60 slots, all at once.
    const sendTimes: number[] = [];
    await Promise.all(
      processes.map(async (budget) => {
        for (let i = 0; i < 60; i++) {
          const wait = await budget.reserve(Number.POSITIVE_INFINITY);
          if (wait !== undefined) sendTimes.push(now + wait);
        }
      }),
    );

    // Assess: 180 requests, never more than 64 in any 60 s, with few DynamoDB calls per request.
    expect(sendTimes).toHaveLength(180);
    expect(busiest(sendTimes, 60_000)).toBeLessThanOrEqual(64);
    const calls = processes.reduce((sum, b) => sum + b.calls, 0);
    expect(calls).toBeLessThanOrEqual(180 / 4 + 10);
  });

  it('refuses a slot later than the caller can wait, and keeps it for the next caller', async () => {
    const budget = new DynamoCoderRequestBudget({
      documentClient: dynamo.documentClient,
      tableName: 'budget',
      budgetKey: 'other-coder',
      requestsPerMinute: 16,
      batch: 1,
      log: silentLog,
      now: () => 5_000,
    });
    expect(await budget.reserve(0)).toBe(0);
    expect(await budget.reserve(1_000)).toBeUndefined();
    expect(await budget.reserve(Number.POSITIVE_INFINITY)).toBeGreaterThan(1_000);
  });

  it('paces locally and says so when DynamoDB is unavailable', async () => {
    const warnings: string[] = [];
    const broken = {
      send: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
      },
    } as unknown as DynamoDBDocumentClient;
    const budget = new DynamoCoderRequestBudget({
      documentClient: broken,
      tableName: 'budget',
      budgetKey: 'down',
      requestsPerMinute: 32,
      log: { ...silentLog, warn: (message) => warnings.push(message) },
      now: () => 0,
    });
    const waits: number[] = [];
    for (let i = 0; i < 40; i++) waits.push((await budget.reserve(Number.POSITIVE_INFINITY)) ?? -1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/pacing this process alone/);
    expect(busiest(waits, 60_000)).toBeLessThanOrEqual(32);
  });
});
