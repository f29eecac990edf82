/**
 * Deadline-aware runs: a run with little time left against a slow Coder stops cleanly, releases its
 * locks and reports what is left; the next run finishes the work with no duplicate and no wrongful
 * delete. The run's time is spent by what the simulator records, not by the wall clock: every
 * request Coder receives costs 1.5 s of the Lambda's time, so "20 s left" runs out after the same
 * requests however loaded the machine is (a wall-clock deadline ran out before the families were
 * even read on a busy machine).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { Deadline } from '../../lambdas/core/contracts/deadline.js';
import { FAMILY_METRICS, familyRunMetrics } from '../../lambdas/core/families/metrics.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { COUNT, type FamilyHarness, startFamilyHarness, TEMPLATE } from './harness.js';

/** What one request to a slow Coder costs the run. */
const REQUEST_MS = 1500;
/** `seconds` of the run's time left from now, spent REQUEST_MS by each request the simulator records. */
const requestDeadline = (harness: FamilyHarness, seconds: number): Deadline => {
  const start = harness.sim.totalRequests();
  return { remainingMs: () => seconds * 1000 - (harness.sim.totalRequests() - start) * REQUEST_MS };
};

const USERS = ['alice', 'bob', 'carol'];
let h: FamilyHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const seedFamilies = (harness: FamilyHarness): void => {
  for (const owner of USERS) {
    for (let p = 0; p < 4; p++) {
      harness.sim.seed.workspace({
        owner,
        name: `proj${p}`,
        template: TEMPLATE,
        parameters: { [COUNT]: '3' },
      });
    }
  }
};

const liveNames = (harness: FamilyHarness): string[] =>
  harness.sim
    .workspacesSnapshot()
    .filter((w) => !w.deleted && w.status !== 'deleted')
    .map((w) => `${w.ownerName}/${w.name}`)
    .sort();

describe('a run against its deadline', () => {
  it('with 20 s left against a slow Coder: stops, releases its locks, reports what is left; the next run finishes', async () => {
    h = await startFamilyHarness({
      users: USERS,
      sim: { faults: { latencyMs: 150 } },
      config: { createConcurrency: 2 },
    });
    seedFamilies(h);
    const before = liveNames(h);

    const cut = await reconcileFamilies(h.deps, {
      scope: { kind: 'all' },
      dryRun: false,
      trigger: 'schedule',
      deadline: requestDeadline(h, 20),
    });

    expect(cut.incomplete).toMatchObject({ reason: 'deadline' });
    expect(cut.incomplete?.familiesLeft).toBeGreaterThan(0);
    expect(cut.summary.created).toBeLessThan(36);
    expect(cut.failures).toBe(0);
    expect(familyRunMetrics(cut)).toContainEqual({ name: FAMILY_METRICS.cutShort, value: 1 });
    const locks = await h.dynamo.documentClient.send(new ScanCommand({ TableName: 'locks' }));
    expect(locks.Items ?? []).toEqual([]);
    // Nothing was held against the family: no failure record, so no backoff for the next run.
    expect((await h.ledger.loadAll()).failures).toEqual([]);

    const next = await reconcileFamilies(h.deps, {
      scope: { kind: 'all' },
      dryRun: false,
      trigger: 'schedule',
    });
    expect(next.incomplete).toBeUndefined();
    expect(next.failures).toBe(0);
    expect(cut.summary.created + next.summary.created).toBe(36);

    const expected = [...before];
    for (const owner of USERS)
      for (let p = 0; p < 4; p++) for (let i = 1; i <= 3; i++) expected.push(`${owner}/proj${p}-${i}`);
    expect(liveNames(h)).toEqual(expected.sort());
    const deletes = h.sim
      .exchanges()
      .filter((e) => (e.requestBody as { transition?: string } | undefined)?.transition === 'delete');
    expect(deletes).toEqual([]);
    const settled = await reconcileFamilies(h.deps, {
      scope: { kind: 'all' },
      dryRun: false,
      trigger: 'schedule',
    });
    expect(settled.actions).toEqual([]);
  });

  it('ends cleanly with a report when Retry-After is longer than the time left', async () => {
    const slept: number[] = [];
    h = await startFamilyHarness({
      users: USERS,
      sim: { faults: { rateLimitBurst: 1000, rateLimitBurstRetryAfterSeconds: 60 } },
      client: {
        // Sleeping moves a virtual clock instead of waiting.
        sleep: async (ms) => {
          slept.push(ms);
        },
      },
    });
    seedFamilies(h);
    const started = Date.now();

    const report = await reconcileFamilies(h.deps, {
      scope: { kind: 'all' },
      dryRun: false,
      trigger: 'schedule',
      deadline: { remainingMs: () => 90_000 - slept.reduce((a, b) => a + b, 0) - (Date.now() - started) },
    });

    // One 60 s wait fits in 90 s; the second would not, so the run stops instead of sleeping past it.
    expect(slept).toEqual([60_000]);
    expect(report.incomplete).toMatchObject({ reason: 'deadline', familiesLeft: undefined });
    expect(report.incomplete?.detail).toMatch(/retry-after/);
    expect(report.coder.throttled).toBeGreaterThan(0);
    expect(report.failures).toBe(0);
  });
});
