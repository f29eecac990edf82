import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ReconcileReport, reconcileFamilies } from '../../lambdas/core/families/run.js';
import { COUNT, type FamilyHarness, startFamilyHarness, TEMPLATE } from './harness.js';

const all = { scope: { kind: 'all' as const }, dryRun: false, trigger: 'schedule' as const };
const MINUTE = 60_000;
const MAX_RUNS = 15;

/** Runs scheduled reconciles (a failed run is what a Lambda error would be) until one changes nothing. */
const converge = async (
  h: FamilyHarness,
): Promise<{ runs: number; failedRuns: number; reports: ReconcileReport[] }> => {
  const reports: ReconcileReport[] = [];
  let failedRuns = 0;
  for (let run = 1; run <= MAX_RUNS; run++) {
    try {
      const report = await reconcileFamilies(h.deps, all);
      reports.push(report);
      const mutations = report.actions.filter((a) => a.outcome !== 'skipped' && a.outcome !== 'conflict');
      const waiting = report.actions.some((a) => a.kind === 'backoff-skip' || a.kind === 'child-busy');
      if (mutations.length === 0 && !waiting) return { runs: run, failedRuns, reports };
    } catch {
      failedRuns++;
    }
    h.sim.advanceBuilds();
    h.clock.advance(5 * MINUTE);
  }
  throw new Error(`no convergence within ${MAX_RUNS} runs`);
};

describe('family reconcile under injected Coder faults', () => {
  let h: FamilyHarness;
  beforeEach(async () => {
    h = await startFamilyHarness({
      users: ['alice', 'bob', 'carol'],
      client: { timeoutMs: 150, retry: { maxAttempts: 3, baseDelayMs: 2, maxDelayMs: 10 } },
      sim: { createRaceWindowMs: 2 },
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it('converges with no duplicate and no wrongful deletion despite 5xx (before and after effect), timeouts and 429s', async () => {
    // Prepare: 9 families and 3 bystander workspaces, one of which holds a child's name.
    const parents = new Map<string, string>();
    for (const owner of ['alice', 'bob', 'carol']) {
      for (const [name, n] of [
        ['web', 3],
        ['api', 2],
        ['data', 1],
      ] as const) {
        const ws = h.sim.seed.workspace({
          owner,
          name,
          template: TEMPLATE,
          parameters: { [COUNT]: String(n) },
        });
        parents.set(`${owner}/${name}`, ws.id);
      }
    }
    const bystanders = [
      h.sim.seed.workspace({ owner: 'alice', name: 'web-2', template: TEMPLATE }),
      h.sim.seed.workspace({ owner: 'bob', name: 'scratch', template: TEMPLATE }),
      h.sim.seed.workspace({ owner: 'carol', name: 'api-9', template: TEMPLATE }),
    ];
    h.sim.setFaults({
      errorRate: 0.15,
      errorAfterEffectRate: 0.2,
      timeoutRate: 0.04,
      rateLimitBurst: 6,
      seed: Number(process.env.CHAOS_SEED ?? 42),
    });

    // Act
    const grow = await converge(h);

    // Assess: every child exactly once, nothing deleted, the bystanders untouched.
    h.sim.setFaults(undefined);
    h.sim.advanceBuilds();
    const everything = h.sim.workspacesSnapshot({ includeDeleted: true });
    expect(everything.filter((w) => w.deleted)).toEqual([]);
    const names = everything.map((w) => `${w.ownerName}/${w.name}`).sort();
    const expected = ['alice', 'bob', 'carol']
      .flatMap((o) => [
        `${o}/web`,
        `${o}/web-1`,
        `${o}/web-2`,
        `${o}/web-3`,
        `${o}/api`,
        `${o}/api-1`,
        `${o}/api-2`,
        `${o}/data`,
        `${o}/data-1`,
      ])
      .concat(['bob/scratch', 'carol/api-9'])
      .sort();
    expect(names).toEqual(expected);
    for (const b of bystanders) {
      const now = everything.find((w) => w.id === b.id);
      expect(now?.latestBuildNumber).toBe(1);
    }
    const ledger = await h.ledger.loadAll();
    expect(ledger.children.filter((c) => c.state === 'confirmed')).toHaveLength(17);
    expect(ledger.children.find((c) => c.owner === 'alice' && c.childName === 'web-2')).toBeUndefined();
    // The faults really happened: 429s were answered and some requests failed or timed out.
    const stats = h.client.stats();
    expect(stats.rateLimited).toBeGreaterThan(0);
    expect(stats.retries + stats.timeouts).toBeGreaterThan(0);
    expect(grow.runs).toBeLessThanOrEqual(MAX_RUNS);
    console.info(
      `chaos: converged in ${grow.runs} runs (${grow.failedRuns} failed runs), ${JSON.stringify({ requests: stats.requests, rateLimited: stats.rateLimited, retries: stats.retries, timeouts: stats.timeouts })}`,
    );

    // Shrink one family and delete another parent, still under faults.
    await h.userClient('bob').createBuild(parents.get('bob/web') ?? '', {
      transition: 'start',
      rich_parameter_values: [{ name: COUNT, value: '1' }],
    });
    await h.userClient('alice').deleteWorkspace(parents.get('alice/api') ?? '');
    h.sim.advanceBuilds();
    h.sim.setFaults({
      errorRate: 0.15,
      errorAfterEffectRate: 0.2,
      timeoutRate: 0.04,
      rateLimitBurst: 6,
      seed: Number(process.env.CHAOS_SEED ?? 7) + 1,
    });
    h.clock.advance(11 * MINUTE);
    await converge(h);
    h.clock.advance(11 * MINUTE);
    await converge(h);
    h.sim.setFaults(undefined);
    h.sim.advanceBuilds();

    const after = h.sim.workspacesSnapshot({ includeDeleted: true });
    const deleted = after
      .filter((w) => w.deleted)
      .map((w) => `${w.ownerName}/${w.name}`)
      .sort();
    expect(deleted).toEqual(['alice/api', 'alice/api-1', 'alice/api-2', 'bob/web-2', 'bob/web-3']);
    for (const b of bystanders) expect(after.find((w) => w.id === b.id)?.deleted).toBe(false);
    expect(after).toHaveLength(everything.length);
  }, 60_000);
});
