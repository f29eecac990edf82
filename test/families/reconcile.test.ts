import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { SUPPORTED_PROFILES } from '../../sim/index.js';
import {
  COUNT,
  type FamilyHarness,
  liveWorkspaces,
  mutatingRequests,
  startFamilyHarness,
  TEMPLATE,
} from './harness.js';

const all = { scope: { kind: 'all' as const }, dryRun: false, trigger: 'schedule' as const };
const MINUTE = 60_000;

const setCount = async (
  h: FamilyHarness,
  workspaceId: string,
  count: number,
  user = 'alice',
): Promise<void> => {
  h.sim.advanceBuilds();
  await h.userClient(user).createBuild(workspaceId, {
    transition: 'start',
    rich_parameter_values: [{ name: COUNT, value: String(count) }],
  });
  h.sim.advanceBuilds();
};

describe.each(SUPPORTED_PROFILES)(
  'family reconcile on the simulator (Coder %s) and dynalite',
  (coderVersion) => {
    let h: FamilyHarness;
    beforeEach(async () => {
      h = await startFamilyHarness({ sim: { coderVersion } });
    });
    afterEach(async () => {
      await h.close();
    });

    it('creates three children with the parent parameters and the count at 0, then does nothing', async () => {
      // Prepare
      h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '3', cpu: '6', region: 'us' },
      });

      // Act
      const first = await reconcileFamilies(h.deps, all);

      // Assess
      expect(first.families).toBe(1);
      expect(first.summary).toMatchObject({ childrenMissing: 3, created: 3 });
      expect(first.failures).toBe(0);
      const live = liveWorkspaces(h.sim);
      for (const name of ['team-1', 'team-2', 'team-3']) {
        const child = live.get(name);
        expect(child, name).toBeDefined();
        expect(child?.parameters).toMatchObject({ [COUNT]: '0', cpu: '6', region: 'us', memory: '4' });
        expect(child?.templateName).toBe(TEMPLATE);
      }
      const ledger = await h.ledger.loadAll();
      expect(ledger.children.map((c) => [c.childName, c.state])).toEqual([
        ['team-1', 'confirmed'],
        ['team-2', 'confirmed'],
        ['team-3', 'confirmed'],
      ]);
      expect(first.actions.every((a) => a.reason.length > 0)).toBe(true);

      h.sim.advanceBuilds();
      h.sim.clearExchanges();
      const second = await reconcileFamilies(h.deps, all);
      expect(second.actions).toEqual([]);
      expect(mutatingRequests(h.sim)).toBe(0);
      // The template check and one list page; parameters come from the per-build cache, /users/me is cached too.
      expect(second.coder.requests).toBe(2);
    });

    it('removes the two children above N when N goes from 3 to 1, and only those', async () => {
      const parent = h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '3' },
      });
      await reconcileFamilies(h.deps, all);
      await setCount(h, parent.id, 1);

      const shrink = await reconcileFamilies(h.deps, all);

      expect(shrink.actions.map((a) => [a.kind, 'childName' in a ? a.childName : '', a.outcome])).toEqual([
        ['delete-child', 'team-2', 'done'],
        ['delete-child', 'team-3', 'done'],
      ]);
      expect(shrink.summary.removed).toBe(2);
      h.sim.advanceBuilds();
      expect([...liveWorkspaces(h.sim).keys()].sort()).toEqual(['team', 'team-1']);
      const settle = await reconcileFamilies(h.deps, all);
      expect(settle.actions.map((a) => a.kind)).toEqual(['forget-child', 'forget-child']);
      expect((await h.ledger.loadAll()).children.map((c) => c.childName)).toEqual(['team-1']);
      expect((await reconcileFamilies(h.deps, all)).actions).toEqual([]);
    });

    it('removes the children of a deleted parent after the grace period and not before', async () => {
      const parent = h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '2' },
      });
      await reconcileFamilies(h.deps, all);
      h.sim.advanceBuilds();
      await h.userClient('alice').deleteWorkspace(parent.id);
      h.sim.advanceBuilds();

      const noticed = await reconcileFamilies(h.deps, all);
      expect(noticed.actions.map((a) => a.kind)).toEqual(['record-parent-missing']);
      h.clock.advance(9 * MINUTE + 59_000);
      const waiting = await reconcileFamilies(h.deps, all);
      expect(waiting.actions.map((a) => [a.kind, a.outcome])).toEqual([['grace-wait', 'skipped']]);
      expect([...liveWorkspaces(h.sim).keys()].sort()).toEqual(['team-1', 'team-2']);

      h.clock.advance(2_000);
      const removal = await reconcileFamilies(h.deps, all);
      expect(removal.actions.map((a) => [a.kind, a.outcome])).toEqual([
        ['delete-child', 'done'],
        ['delete-child', 'done'],
      ]);
      h.sim.advanceBuilds();
      expect(liveWorkspaces(h.sim).size).toBe(0);
      const cleanup = await reconcileFamilies(h.deps, all);
      expect(cleanup.actions.map((a) => a.kind)).toEqual(['forget-child', 'forget-child']);
      const last = await reconcileFamilies(h.deps, all);
      expect(last.actions.map((a) => a.kind)).toEqual(['clear-parent-missing']);
      expect(await h.ledger.loadAll()).toEqual({ children: [], missing: [], failures: [] });
    });

    it('keeps the children when a parent that was briefly missing comes back within the grace period', async () => {
      const parent = h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '1' },
      });
      await reconcileFamilies(h.deps, all);
      h.sim.advanceBuilds();
      await h.userClient('alice').deleteWorkspace(parent.id);
      h.sim.advanceBuilds();
      await reconcileFamilies(h.deps, all);
      h.clock.advance(5 * MINUTE);
      h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '1' },
      });

      const back = await reconcileFamilies(h.deps, all);
      h.clock.advance(30 * MINUTE);
      const later = await reconcileFamilies(h.deps, all);

      expect(back.actions.map((a) => a.kind)).toEqual(['clear-parent-missing']);
      expect(later.actions).toEqual([]);
      expect([...liveWorkspaces(h.sim).keys()].sort()).toEqual(['team', 'team-1']);
    });

    it('changes nothing on a dry run and reports the plan with reasons', async () => {
      h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '2' },
      });
      h.sim.clearExchanges();

      const report = await reconcileFamilies(h.deps, { ...all, dryRun: true, trigger: 'operator' });

      expect(report.dryRun).toBe(true);
      expect(report.actions.map((a) => [a.kind, 'childName' in a ? a.childName : '', a.outcome])).toEqual([
        ['create-child', 'team-1', 'planned'],
        ['create-child', 'team-2', 'planned'],
      ]);
      expect(report.actions[0]?.reason).toBe('child 1 of 2 is missing');
      expect(mutatingRequests(h.sim)).toBe(0);
      expect([...liveWorkspaces(h.sim).keys()]).toEqual(['team']);
      expect(await h.ledger.loadAll()).toEqual({ children: [], missing: [], failures: [] });
    });

    it("never touches a user's own workspace named like a child (team-2 not in the ledger)", async () => {
      const parent = h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '3' },
      });
      const own = h.sim.seed.workspace({
        owner: 'alice',
        name: 'team-2',
        template: TEMPLATE,
        parameters: { cpu: '8' },
      });

      const first = await reconcileFamilies(h.deps, all);
      expect(first.conflicts).toBe(1);
      expect(first.actions.find((a) => a.kind === 'report-conflict')).toMatchObject({
        childName: 'team-2',
        holderId: own.id,
      });
      expect([...liveWorkspaces(h.sim).keys()].sort()).toEqual(['team', 'team-1', 'team-2', 'team-3']);

      await setCount(h, parent.id, 1);
      await reconcileFamilies(h.deps, all);
      h.sim.advanceBuilds();
      await h.userClient('alice').deleteWorkspace(parent.id);
      h.sim.advanceBuilds();
      await reconcileFamilies(h.deps, all);
      h.clock.advance(11 * MINUTE);
      await reconcileFamilies(h.deps, all);
      h.sim.advanceBuilds();

      const survivor = liveWorkspaces(h.sim).get('team-2');
      expect(survivor?.id).toBe(own.id);
      expect(survivor?.latestBuildNumber).toBe(1);
      expect(survivor?.parameters.cpu).toBe('8');
      const mutatedIds = h.sim
        .exchanges()
        .filter((e) => e.method === 'POST' && e.path.includes('/builds'))
        .map((e) => e.path);
      expect(mutatedIds.some((p) => p.includes(own.id))).toBe(false);
    });

    it('never lets a child spawn children, even after its count parameter is edited', async () => {
      h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '1' },
      });
      await reconcileFamilies(h.deps, all);
      const child = liveWorkspaces(h.sim).get('team-1');
      if (!child) throw new Error('child not created');
      await setCount(h, child.id, 4);

      const report = await reconcileFamilies(h.deps, all);

      expect(report.actions).toEqual([]);
      expect(report.families).toBe(1);
      expect([...liveWorkspaces(h.sim).keys()].sort()).toEqual(['team', 'team-1']);
    });

    it('stops instead of deleting under the "stop" policy, and releases under "keep" once the parent is gone', async () => {
      const stopDeps = h.makeDeps({ config: { removalPolicy: 'stop' } });
      const parent = h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '2' },
      });
      await reconcileFamilies(stopDeps, all);
      await setCount(h, parent.id, 1);

      const stopped = await reconcileFamilies(stopDeps, all);
      h.sim.advanceBuilds();

      expect(stopped.actions.map((a) => [a.kind, a.outcome])).toEqual([['stop-child', 'done']]);
      expect(liveWorkspaces(h.sim).get('team-2')?.status).toBe('stopped');
      expect((await reconcileFamilies(stopDeps, all)).actions).toEqual([]);

      const keepDeps = h.makeDeps({ config: { removalPolicy: 'keep', gracePeriodMs: 0 } });
      await h.userClient('alice').deleteWorkspace(parent.id);
      h.sim.advanceBuilds();
      const released = await reconcileFamilies(keepDeps, all);
      expect(released.actions.map((a) => a.kind)).toEqual([
        'record-parent-missing',
        'release-child',
        'release-child',
      ]);
      expect([...liveWorkspaces(h.sim).keys()].sort()).toEqual(['team-1', 'team-2']);
      expect((await h.ledger.loadAll()).children).toEqual([]);
    });

    it('children follow the parent stopping and starting when followParentPower is on', async () => {
      const deps = h.makeDeps({ config: { followParentPower: true } });
      const parent = h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '2' },
      });
      await reconcileFamilies(deps, all);
      h.sim.advanceBuilds();
      await h.userClient('alice').stopWorkspace(parent.id);
      h.sim.advanceBuilds();

      const stop = await reconcileFamilies(deps, all);
      h.sim.advanceBuilds();
      expect(stop.actions.map((a) => a.kind)).toEqual(['stop-child', 'stop-child']);
      expect(liveWorkspaces(h.sim).get('team-1')?.status).toBe('stopped');

      await h.userClient('alice').startWorkspace(parent.id);
      h.sim.advanceBuilds();
      const start = await reconcileFamilies(deps, all);
      expect(start.actions.map((a) => a.kind)).toEqual(['start-child', 'start-child']);
      expect(start.summary.removed).toBe(0);
    });

    it('clamps N to maxChildren and says so', async () => {
      const deps = h.makeDeps({ config: { maxChildren: 2 } });
      h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '5' },
      });

      const report = await reconcileFamilies(deps, all);

      expect(report.actions.find((a) => a.kind === 'count-clamped')).toMatchObject({ requested: 5, max: 2 });
      expect(report.summary.created).toBe(2);
    });

    it('reconciles one family from a webhook scope, resolving a child to its parent family', async () => {
      const parent = h.sim.seed.workspace({
        owner: 'alice',
        name: 'team',
        template: TEMPLATE,
        parameters: { [COUNT]: '2' },
      });
      h.sim.seed.workspace({
        owner: 'alice',
        name: 'other',
        template: TEMPLATE,
        parameters: { [COUNT]: '1' },
      });

      const created = await reconcileFamilies(h.deps, {
        scope: { kind: 'workspace', workspaceId: parent.id },
        dryRun: false,
        trigger: 'webhook',
      });
      expect(created.families).toBe(1);
      expect(created.summary.created).toBe(2);
      expect(liveWorkspaces(h.sim).has('other-1')).toBe(false);

      h.sim.advanceBuilds();
      const child = liveWorkspaces(h.sim).get('team-2');
      await h.userClient('alice').deleteWorkspace(child?.id ?? '');
      h.sim.advanceBuilds();
      const viaChild = await reconcileFamilies(h.deps, {
        scope: { kind: 'workspace', owner: 'alice', name: 'team-2' },
        dryRun: false,
        trigger: 'webhook',
      });
      expect(viaChild.actions.map((a) => [a.kind, a.reason])).toEqual([
        [
          'create-child',
          'child 2 of 2 was deleted outside the controller (read back as deleted); recreating it',
        ],
      ]);
    });
  },
);
