import { describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '../../../lambdas/core/contracts/deadline.js';
import { familyKey, type PlannedAction } from '../../../lambdas/core/families/model.js';
import type { FamilyPlan } from '../../../lambdas/core/families/planner.js';
import { planOwnerFamily, recheckAfterLock } from '../../../lambdas/core/families/recheck.js';
import { loadSnapshot, planWithReads } from '../../../lambdas/core/families/snapshot.js';
import { CONTROLLER, child, MemoryCoder, memoryRun, NOW, seedLedger, workspace } from './fixtures.js';

const call = { deadline: NO_DEADLINE };
const team = familyKey('alice', 'team');
const named = (actions: readonly PlannedAction[]) =>
  actions.map((a) => `${a.kind}${'childName' in a ? ` ${a.childName}` : ''}`);

/**
 * Alice's `team` asks for 2 children and has 1 recorded, `web` asks for 1 and has it; the run
 * snapshots everything and plans, then (as another run might) the test changes things before the
 * re-check.
 */
const world = async () => {
  const coder = new MemoryCoder();
  const parent = coder.parent(workspace('team'), { additional_workspaces: '2' });
  const web = coder.parent(workspace('web'), { additional_workspaces: '1' });
  const team1 = workspace('team-1');
  const web1 = workspace('web-1');
  coder.workspaces.push(team1, web1);
  const run = memoryRun(coder);
  await seedLedger(run.ledger, {
    children: [
      child('team', 1, team1.id, { parentId: parent.id }),
      child('web', 1, web1.id, { parentId: web.id }),
    ],
  });
  const snapshot = await loadSnapshot(run.deps, call, CONTROLLER, undefined);
  const { plans } = await planWithReads(run.deps, call, snapshot, NOW);
  const plan = plans.find((p) => p.family.parent === 'team') as FamilyPlan;
  coder.calls.length = 0;
  return { coder, run, parent, snapshot, plan, team1 };
};

describe('recheckAfterLock', () => {
  it('keeps the plan when nobody changed the family’s ledger, without reading Coder again', async () => {
    // Prepare
    const { coder, run, snapshot, plan } = await world();
    expect(named(plan.actions)).toEqual(['create-child team-2']);

    // Act
    const recheck = await recheckAfterLock(run.deps, call, plan, snapshot, NOW);

    // Assess
    expect(recheck.kind).toBe('still-valid');
    expect(recheck.plan).toBe(plan);
    expect(recheck.ledger.children.map((c) => `${c.parent}#${c.index}`).sort()).toEqual(['team#1', 'web#1']);
    expect(coder.calls).toEqual([]);
  });

  it('keeps the plan when only another family of the owner moved', async () => {
    const { run, snapshot, plan } = await world();
    await run.ledger.setParentMissing(familyKey('alice', 'web'), NOW.getTime());
    await run.ledger.forgetChild(familyKey('alice', 'web'), 1, undefined);
    await run.ledger.recordFailure(familyKey('alice', 'web'), {
      at: NOW.getTime(),
      hard: true,
      parentBuildId: undefined,
      error: 'x',
    });

    const recheck = await recheckAfterLock(run.deps, call, plan, snapshot, NOW);

    expect(recheck.kind).toBe('still-valid');
    expect(recheck.plan).toBe(plan);
  });

  it('re-reads the owner and replans when another run changed the family in between', async () => {
    // Prepare: another run created child 2 and recorded it after this run's snapshot.
    const { coder, run, snapshot, plan, parent } = await world();
    const created = await coder.createWorkspace({
      organizationId: 'org',
      ownerName: 'alice',
      name: 'team-2',
      templateId: 'tpl',
      parameters: [],
    });
    await seedLedger(run.ledger, { children: [child('team', 2, created.id, { parentId: parent.id })] });
    coder.calls.length = 0;

    // Act
    const recheck = await recheckAfterLock(run.deps, call, plan, snapshot, NOW);

    // Assess
    expect(recheck.kind).toBe('replanned');
    expect(recheck.plan.family).toEqual(team);
    expect(recheck.plan.actions).toEqual([]);
    expect(recheck.ledger.children.filter((c) => c.parent === 'team')).toHaveLength(2);
    expect(coder.calls).toEqual(['list alice', 'parent-parameters team']);
  });

  it('replans with what the fresh plan must read, on the fresh view (a partial owner list removes nothing)', async () => {
    // Prepare: another run recorded a third child, above the count of 2, and it is listed;
    // the owner's list now moves on every re-read.
    const { coder, run, snapshot, plan, parent } = await world();
    const team3 = workspace('team-3');
    coder.workspaces.push(team3);
    await seedLedger(run.ledger, { children: [child('team', 3, team3.id, { parentId: parent.id })] });
    coder.complete = false;

    // Act
    const recheck = await recheckAfterLock(run.deps, call, plan, snapshot, NOW);

    // Assess
    expect(recheck.kind).toBe('replanned');
    expect(recheck.plan.actions).toEqual([
      expect.objectContaining({
        kind: 'removal-deferred',
        deferred: 'delete-child',
        cause: 'partial-view',
        childName: 'team-3',
      }),
      expect.objectContaining({ kind: 'create-child', childName: 'team-2' }),
    ]);
  });
});

describe('planOwnerFamily', () => {
  it('plans one family from its owner’s workspaces and says how complete the list was', async () => {
    const { coder, run } = await world();
    coder.complete = false;

    const plan = await planOwnerFamily(
      run.deps,
      call,
      CONTROLLER,
      team,
      await run.ledger.loadOwner('alice'),
      NOW,
    );

    expect(plan).toMatchObject({ family: team, exists: true, view: 'partial' });
    expect(named(plan.actions)).toEqual(['create-child team-2']);
  });

  it('says a family nobody has does not exist, with nothing to do', async () => {
    const { run } = await world();
    const nobody = familyKey('alice', 'nobody');

    const plan = await planOwnerFamily(
      run.deps,
      call,
      CONTROLLER,
      nobody,
      await run.ledger.loadOwner('alice'),
      NOW,
    );

    expect(plan).toEqual({
      family: nobody,
      actions: [],
      parentBuildId: undefined,
      reads: [],
      needsParameters: false,
      exists: false,
      view: 'complete',
    });
  });
});
