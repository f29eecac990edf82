/**
 * The partial-view findings (issue 19), each reproduced on the simulator over HTTP and dynalite:
 * a child or a parent that an owner's stop moved out of sight between two page reads, and a
 * template an admin renamed. Each failed on the previous engine: the child was recreated, got 409,
 * was judged someone else's (build number above 1) and dropped from the ledger; the parent was
 * taken for gone and, with a grace period of 0, its children were deleted; the rename made every
 * child "no longer exist".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CoderClient } from '../../lambdas/adapters/coder/index.js';
import { reconcileFamilies, UnknownTemplatesError } from '../../lambdas/core/families/run.js';
import { api } from '../sim/http.js';
import { COUNT, type FamilyHarness, liveWorkspaces, startFamilyHarness, TEMPLATE } from './harness.js';

const all = { scope: { kind: 'all' as const }, dryRun: false, trigger: 'schedule' as const };

describe('a view that changes while it is read', () => {
  let h: FamilyHarness;
  afterEach(async () => {
    await h.close();
  });

  /**
   * The engine over a client that reads 3 workspaces a page and, before every later page, lets
   * alice stop or start `a1`: running workspaces come first, so `a1` crosses the page boundary
   * each time and the first row of the next page is never seen.
   */
  const churningDeps = (harness: FamilyHarness, grace?: number) => {
    let flip = false;
    const client = new CoderClient({
      baseUrl: harness.sim.url,
      token: harness.sim.adminToken,
      rateLimitPerMinute: false,
      fetch: async (input, init) => {
        const url = new URL(String(input));
        if (url.pathname === '/api/v2/workspaces' && url.searchParams.get('offset') !== '0') {
          const a1 = liveWorkspaces(harness.sim).get('a1');
          flip = !flip;
          await harness
            .userClient('alice')
            .createBuild(a1?.id as string, { transition: flip ? 'stop' : 'start' });
          harness.sim.advanceBuilds();
        }
        return fetch(input, init);
      },
    });
    const deps = harness.makeDeps(grace === undefined ? {} : { config: { gracePeriodMs: grace } });
    return {
      ...deps,
      workspaces: new CoderFamilyWorkspaces({
        client,
        templates: [TEMPLATE],
        organization: 'default',
        pageSize: 3,
      }),
    };
  };

  it('never recreates or forgets a child that a page race hid, even one stopped and started since it was created', async () => {
    // Prepare: team with one child, created by the controller, then stopped and started by alice
    // (its build number is 3, so a read-back by name alone could not tell it is ours).
    h = await startFamilyHarness();
    h.sim.seed.workspace({ owner: 'alice', name: 'a1', template: TEMPLATE });
    h.sim.seed.workspace({ owner: 'alice', name: 'a2', template: TEMPLATE });
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '1' } });
    await reconcileFamilies(h.deps, all);
    h.sim.advanceBuilds();
    const child = liveWorkspaces(h.sim).get('team-1');
    for (const transition of ['stop', 'start'] as const) {
      await h.userClient('alice').createBuild(child?.id as string, { transition });
      h.sim.advanceBuilds();
    }
    h.sim.clearExchanges();

    // Act: a scheduled run whose every page-2 read misses team-1 (a, a, team | team-1 …).
    const report = await reconcileFamilies(churningDeps(h), all);

    // Assess: nothing created, nothing forgotten, no conflict with itself; the list was partial.
    expect(report.view).toBe('partial');
    expect(report.conflicts).toBe(0);
    expect(report.actions.filter((a) => a.kind === 'create-child' || a.kind === 'forget-child')).toEqual([]);
    expect(
      h.sim.exchanges().filter((e) => e.method === 'POST' && e.route === '/api/v2/users/{user}/workspaces'),
    ).toEqual([]);
    expect((await h.ledger.loadAll()).children).toMatchObject([
      { childName: 'team-1', state: 'confirmed', childId: child?.id },
    ]);
  });

  it('reads a parent the list did not show before deciding it is gone: with a grace of 0, its children stay', async () => {
    // Prepare: the parent sorts onto page 2 (b, c | team …), with three children of its own.
    h = await startFamilyHarness({ config: { gracePeriodMs: 0 } });
    h.sim.seed.workspace({ owner: 'alice', name: 'a1', template: TEMPLATE });
    h.sim.seed.workspace({ owner: 'alice', name: 'b', template: TEMPLATE });
    h.sim.seed.workspace({ owner: 'alice', name: 'c', template: TEMPLATE });
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '3' } });
    await reconcileFamilies(h.deps, all);
    h.sim.advanceBuilds();
    h.sim.clearExchanges();

    // Act: three runs in which every later page moves under the reader.
    const reports = [];
    for (let run = 0; run < 3; run++) reports.push(await reconcileFamilies(churningDeps(h, 0), all));

    // Assess: no child stopped or deleted, the parent never marked missing, all three still recorded.
    const removals = reports
      .flatMap((r) => r.actions)
      .filter((a) => a.kind === 'delete-child' || a.kind === 'stop-child');
    expect(removals).toEqual([]);
    expect(reports.flatMap((r) => r.actions).filter((a) => a.kind === 'record-parent-missing')).toEqual([]);
    expect(['team-1', 'team-2', 'team-3'].every((name) => liveWorkspaces(h.sim).has(name))).toBe(true);
    expect((await h.ledger.loadAll()).children).toHaveLength(3);
  });

  it('fails the run, naming the template, when an admin renames it; the children stay recorded', async () => {
    // Prepare: a converged family.
    h = await startFamilyHarness();
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '2' } });
    await reconcileFamilies(h.deps, all);
    h.sim.advanceBuilds();
    const template = (await h.client.listTemplates()).find((t) => t.name === TEMPLATE);
    await api(h.sim, 'PATCH', `/api/v2/templates/${template?.id}`, { body: { name: 'team-devs' } });

    // Act: scheduled runs well past the grace period.
    const failures: unknown[] = [];
    for (let run = 0; run < 3; run++) {
      h.clock.advance(30 * 60_000);
      failures.push(await reconcileFamilies(h.deps, all).catch((error: unknown) => error));
    }

    // Assess: each run refused with the names, nothing forgotten or removed.
    expect(failures.every((f) => f instanceof UnknownTemplatesError)).toBe(true);
    expect((failures[0] as Error).message).toMatch(
      /"team-dev"; did you mean "team-devs"\?: no such template in Coder/,
    );
    expect((await h.ledger.loadAll()).children).toHaveLength(2);
    expect(liveWorkspaces(h.sim).size).toBe(3);
    // With the config updated to the new name, the family is as it was: nothing to do.
    const renamed = await reconcileFamilies(h.makeDeps({ config: { templates: ['team-devs'] } }), all);
    expect(renamed.actions).toEqual([]);
  });
});
