import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FamilyLedger, WorkspaceOpError } from '../../lambdas/core/families/ports.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { COUNT, type FamilyHarness, liveWorkspaces, startFamilyHarness, TEMPLATE } from './harness.js';

const all = { scope: { kind: 'all' as const }, dryRun: false, trigger: 'schedule' as const };

describe('ownership and failures', () => {
  let h: FamilyHarness;
  beforeEach(async () => {
    h = await startFamilyHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('adopts a child whose create succeeded but whose confirmation was lost (crash between create and record)', async () => {
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '1' } });
    const crashing: FamilyLedger = Object.assign(Object.create(h.ledger) as FamilyLedger, {
      confirmChild: async () => {
        throw new Error('Lambda died before the confirmation was written');
      },
    });

    const crashed = await reconcileFamilies({ ...h.deps, ledger: crashing }, all);
    expect((await h.ledger.loadAll()).children).toMatchObject([{ childName: 'team-1', state: 'intent' }]);
    h.clock.advance(10 * 60_000);
    const next = await reconcileFamilies(h.deps, all);

    expect(crashed.failures).toBe(1);
    expect(next.actions.map((a) => [a.kind, a.outcome])).toEqual([['adopt-child', 'done']]);
    expect((await h.ledger.loadAll()).children).toMatchObject([
      { childName: 'team-1', state: 'confirmed', childId: liveWorkspaces(h.sim).get('team-1')?.id },
    ]);
    expect(h.sim.workspacesSnapshot({ includeDeleted: true })).toHaveLength(2);
  });

  it('keeps its claim on a child it created while its own Coder user was unknown, even with its clock ahead of Coder', async () => {
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '1' } });
    // GET /users/me failed this run, so the controller cannot recognise its own builds by initiator...
    const withoutIdentity = {
      ...h.deps,
      workspaces: Object.assign(Object.create(h.deps.workspaces), {
        controllerUserId: async () => undefined,
      }) as typeof h.deps.workspaces,
    };
    // ...its clock runs 5 s ahead of Coder's, and the create's answer is lost after Coder created the workspace.
    h.clock.now = Date.now() + 5_000;
    h.sim.setFaults({
      errorAfterEffectRate: 1,
      routes: ['POST /api/v2/users/{user}/workspaces'],
    });

    const lost = await reconcileFamilies(withoutIdentity, all);
    h.sim.setFaults(undefined);
    h.clock.advance(5 * 60_000); // the next scheduled runs, past the family's backoff
    const stillUnknown = await reconcileFamilies(withoutIdentity, all);
    h.clock.advance(5 * 60_000);
    const known = await reconcileFamilies(h.deps, all);

    expect(lost.actions.map((a) => [a.kind, a.outcome])).toEqual([['create-child', 'failed']]);
    expect(stillUnknown.actions.map((a) => [a.kind, a.outcome])).toEqual([
      ['ownership-undecided', 'skipped'],
    ]);
    expect(stillUnknown.conflicts).toBe(0);
    expect(known.actions.map((a) => [a.kind, a.outcome])).toEqual([['adopt-child', 'done']]);
    expect((await h.ledger.loadAll()).children).toMatchObject([
      { childName: 'team-1', state: 'confirmed', childId: liveWorkspaces(h.sim).get('team-1')?.id },
    ]);
    expect(h.sim.workspacesSnapshot({ includeDeleted: true })).toHaveLength(2);
  });

  it('reports a conflict and takes nothing over when a user creates the child name between snapshot and create', async () => {
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '1' } });
    const alice = h.userClient('alice');
    const racing = Object.assign(Object.create(h.deps.workspaces), {
      createWorkspace: async (...args: Parameters<typeof h.deps.workspaces.createWorkspace>) => {
        const [input] = args;
        await alice.createWorkspace(input.organizationId, 'alice', {
          name: input.name,
          template_id: input.templateId,
        });
        return h.deps.workspaces.createWorkspace(...args);
      },
    });

    const report = await reconcileFamilies({ ...h.deps, workspaces: racing }, all);

    expect(report.actions.map((a) => [a.kind, a.outcome])).toEqual([['create-child', 'conflict']]);
    expect(report.conflicts).toBe(1);
    expect((await h.ledger.loadAll()).children).toEqual([]);
    const after = await reconcileFamilies(h.deps, all);
    expect(after.actions.map((a) => a.kind)).toEqual(['report-conflict']);
  });

  it('backs off after failures, hard-limits the family at the cap, and lifts it when the parent changes', async () => {
    const parent = h.sim.seed.workspace({
      owner: 'alice',
      name: 'team',
      template: TEMPLATE,
      parameters: { [COUNT]: '1' },
    });
    const rejecting = Object.assign(Object.create(h.deps.workspaces), {
      createWorkspace: async () => {
        throw new WorkspaceOpError('permanent', 'Coder rejected the parameters (400)');
      },
    });
    const deps = { ...h.deps, workspaces: rejecting };

    const step = async (advanceMs: number) => {
      h.clock.advance(advanceMs);
      const report = await reconcileFamilies(deps, all);
      return {
        outcome: report.actions.map((a) => `${a.kind}:${a.outcome}`).join(','),
        hardLimited: report.summary.hardLimited,
      };
    };

    expect(await step(0)).toEqual({ outcome: 'create-child:failed', hardLimited: 0 });
    expect(await step(30_000)).toEqual({ outcome: 'backoff-skip:skipped', hardLimited: 0 }); // 1 × 1 min
    expect(await step(31_000)).toEqual({ outcome: 'create-child:failed', hardLimited: 0 });
    expect(await step(119_000)).toEqual({ outcome: 'backoff-skip:skipped', hardLimited: 0 }); // 2 × 1 min
    expect(await step(2_000)).toEqual({ outcome: 'create-child:failed', hardLimited: 1 }); // the cap: 3
    expect(await step(3_600_000)).toEqual({ outcome: 'hard-limit-skip:skipped', hardLimited: 1 });
    expect((await h.ledger.loadAll()).failures).toMatchObject([{ hard: 3 }]);

    h.sim.advanceBuilds();
    await h
      .userClient('alice')
      .createBuild(parent.id, { transition: 'start', rich_parameter_values: [{ name: 'cpu', value: '4' }] });
    h.sim.advanceBuilds();
    const lifted = await reconcileFamilies(h.deps, all);
    expect(lifted.actions.map((a) => `${a.kind}:${a.outcome}`)).toEqual([
      'clear-failures:done',
      'create-child:done',
    ]);
    expect((await h.ledger.loadAll()).failures).toEqual([]);
  });
});
