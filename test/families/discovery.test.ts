/**
 * Cheap discovery of N (issue 12): after every workspace went through a stop and a start (new
 * builds, so no cached parameters apply), a run finds each parent's count with one `param:` search
 * per count value instead of one parameters read per parent, and reads a parent's full parameters
 * only when one of its children must be created.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CoderApiError } from '../../lambdas/adapters/coder/index.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { COUNT, type FamilyHarness, liveWorkspaces, startFamilyHarness, TEMPLATE } from './harness.js';

const FAMILIES = 30;
let h: FamilyHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const run = (harness: FamilyHarness) =>
  reconcileFamilies(harness.deps, { scope: { kind: 'all' }, dryRun: false, trigger: 'schedule' });

const PARAMS_ROUTE = 'GET /api/v2/workspacebuilds/{workspacebuild}/parameters';

const stopAndStartAll = async (harness: FamilyHarness): Promise<void> => {
  for (const w of harness.sim.workspacesSnapshot()) {
    await harness.client.stopWorkspace(w.id);
    harness.sim.advanceBuilds();
    await harness.client.startWorkspace(w.id);
    harness.sim.advanceBuilds();
  }
};

describe('count discovery with param: searches', () => {
  it('after a stop/start of every workspace: searches instead of reads, and full parameters only to create', async () => {
    h = await startFamilyHarness({ config: { maxChildren: 5 } });
    for (let f = 0; f < FAMILIES; f++) {
      h.sim.seed.workspace({
        owner: 'alice',
        name: `proj${f}`,
        template: TEMPLATE,
        parameters: { [COUNT]: '2', cpu: String(2 + (f % 3)) },
      });
    }
    const cold = await run(h);
    expect(cold.summary.created).toBe(2 * FAMILIES);
    h.sim.advanceBuilds();
    await stopAndStartAll(h);
    // A fresh container: nothing in memory, the stored cache keyed by the old builds.
    h.parameterCache.clear();

    const before = h.client.stats().byRoute;
    const steady = await run(h);
    const after = h.client.stats().byRoute;
    const delta = (route: string) => (after[route] ?? 0) - (before[route] ?? 0);

    expect(steady.actions).toEqual([]);
    expect(delta(PARAMS_ROUTE)).toBe(0);
    // One list page (90 workspaces) and one search per count value 1..5 (=0 would cost more pages than reads saved).
    expect(delta('GET /api/v2/workspaces')).toBe(1 + 5);

    // The owner raises N on one parent: its full parameters are read, once, to create the child.
    const parent = liveWorkspaces(h.sim).get('proj4');
    await h.userClient('alice').createBuild(parent?.id as string, {
      transition: 'start',
      rich_parameter_values: [{ name: COUNT, value: '3' }],
    });
    h.sim.advanceBuilds();
    const grown = await run(h);
    expect(grown.summary.created).toBe(1);
    expect((h.client.stats().byRoute[PARAMS_ROUTE] ?? 0) - (after[PARAMS_ROUTE] ?? 0)).toBe(1);
    const child = liveWorkspaces(h.sim).get('proj4-3');
    expect(child?.parameters).toMatchObject({ [COUNT]: '0', cpu: '3' });
    expect((await run(h)).actions).toEqual([]);
  });

  it('falls back to reading each parent when Coder rejects the param: filter', async () => {
    h = await startFamilyHarness({ config: { maxChildren: 3 } });
    for (let f = 0; f < 10; f++) {
      h.sim.seed.workspace({
        owner: 'alice',
        name: `proj${f}`,
        template: TEMPLATE,
        parameters: { [COUNT]: '1' },
      });
    }
    const list = h.client.listWorkspaces.bind(h.client);
    h.client.listWorkspaces = async (options = {}) => {
      if (options.q?.includes('param:')) {
        throw new CoderApiError('Invalid workspace search query.', {
          kind: 'validation',
          status: 400,
          method: 'GET',
          route: '/api/v2/workspaces',
          attempts: 1,
        });
      }
      return list(options);
    };
    const report = await run(h);
    expect(report.summary.created).toBe(10);
    expect(h.client.stats().byRoute[PARAMS_ROUTE]).toBe(10);
  });

  it('remembers a rejected param: filter across warm runs that each carry their own deadline', async () => {
    // Prepare: a release that rejects the filter, and ten parents whose counts are not cached.
    h = await startFamilyHarness({ config: { maxChildren: 3 } });
    for (let f = 0; f < 10; f++) {
      h.sim.seed.workspace({
        owner: 'alice',
        name: `proj${f}`,
        template: TEMPLATE,
        parameters: { [COUNT]: '0' },
      });
    }
    let searches = 0;
    const list = h.client.listWorkspaces.bind(h.client);
    h.client.listWorkspaces = async (options = {}) => {
      if (options.q?.includes('param:')) {
        searches++;
        throw new CoderApiError('Invalid workspace search query.', {
          kind: 'validation',
          status: 400,
          method: 'GET',
          route: '/api/v2/workspaces',
          attempts: 1,
        });
      }
      return list(options);
    };
    const withDeadline = () => ({
      scope: { kind: 'all' as const },
      dryRun: false,
      trigger: 'schedule' as const,
      deadline: { remainingMs: () => 60_000 },
    });

    // Act: a run, then every parent restarted (new builds, counts unknown again), then a warm run.
    await reconcileFamilies(h.deps, withDeadline());
    const firstRun = searches;
    for (const ws of liveWorkspaces(h.sim).values()) {
      await h.userClient('alice').createBuild(ws.id, { transition: 'start' });
    }
    h.sim.advanceBuilds();
    await reconcileFamilies(h.deps, withDeadline());

    // Assess: the filter was tried in the first run only (its searches go out together), not once per run.
    expect(firstRun).toBeGreaterThan(0);
    expect(searches).toBe(firstRun);
    expect(h.client.stats().byRoute[PARAMS_ROUTE]).toBe(20);
  });
});
