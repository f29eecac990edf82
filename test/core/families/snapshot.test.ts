import { describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '../../../lambdas/core/contracts/deadline.js';
import { familyKey, type LedgerState, type PlannedAction } from '../../../lambdas/core/families/model.js';
import type { FamilyPlan } from '../../../lambdas/core/families/planner.js';
import {
  checkTemplates,
  ledgerFingerprint,
  loadSnapshot,
  planWithReads,
  resolveWorkspace,
  UnknownTemplatesError,
} from '../../../lambdas/core/families/snapshot.js';
import { child, MemoryCoder, memoryRun, NOW, seedLedger, workspace } from './fixtures.js';

const call = { deadline: NO_DEADLINE };
const team = familyKey('alice', 'team');

const reads = (coder: MemoryCoder) => coder.calls.filter((c) => c.startsWith('read '));
const actionsOf = (plans: FamilyPlan[], owner: string, parent: string): string[] =>
  (plans.find((p) => p.family.owner === owner && p.family.parent === parent)?.actions ?? []).map(
    (a: PlannedAction) => `${a.kind}${'childName' in a ? ` ${a.childName}` : ''}`,
  );

describe('checkTemplates', () => {
  it('accepts configured templates that match Coder’s names in any case', async () => {
    const coder = new MemoryCoder();
    coder.templates = ['dev', 'Kubernetes-Multi'];
    const { deps } = memoryRun(coder, { templates: ['DEV', 'kubernetes-multi'] });

    await expect(checkTemplates(deps, call)).resolves.toBeUndefined();
  });

  it('names every unknown template, lists Coder’s, and suggests the closest', async () => {
    // Prepare
    const coder = new MemoryCoder();
    coder.templates = ['kubernetes-multi', 'docker', 'dev', 'dev'];
    const { deps } = memoryRun(coder, { templates: ['DEV', 'kubernets-multi', 'nothing-like-it'] });

    // Act
    const error = await checkTemplates(deps, call).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(UnknownTemplatesError);
    const unknown = error as UnknownTemplatesError;
    expect(unknown.kind).toBe('unknown-templates');
    expect(unknown.name).toBe('UnknownTemplatesError');
    expect(unknown.unknown).toEqual(['kubernets-multi', 'nothing-like-it']);
    expect(unknown.known).toEqual(['dev', 'docker', 'kubernetes-multi']);
    expect(unknown.message).toContain('"kubernets-multi"; did you mean "kubernetes-multi"?');
    expect(unknown.message).not.toMatch(/"nothing-like-it"; did you mean/);
    expect(unknown.message).toContain('(it has "dev", "docker", "kubernetes-multi")');
    expect(unknown.message).toContain('nothing was changed');
  });

  it('says so when the token sees no template at all', async () => {
    const coder = new MemoryCoder();
    coder.templates = [];
    const { deps } = memoryRun(coder);

    await expect(checkTemplates(deps, call)).rejects.toThrow(/none the token can see/);
  });
});

describe('loadSnapshot', () => {
  it.each([
    { complete: true, view: 'complete' },
    { complete: false, view: 'partial' },
  ])('sets the view to $view when the list is complete: $complete', async ({ complete, view }) => {
    const coder = new MemoryCoder();
    coder.parent(workspace('team'), { additional_workspaces: '1' });
    coder.complete = complete;
    const { deps } = memoryRun(coder);

    const snap = await loadSnapshot(deps, call, 'me', undefined);

    expect(snap.view).toBe(view);
    expect(snap.controllerUserId).toBe('me');
    expect(snap.onlyFamilies).toBeUndefined();
  });

  it('reads parameters only for workspaces that could be parents, and tells the progress', async () => {
    // Prepare: a confirmed child, an unconfirmed intent's holder and a parent being deleted are not parents.
    const coder = new MemoryCoder();
    const parent = coder.parent(workspace('team'), { additional_workspaces: '2' });
    const other = coder.parent(workspace('web'), { additional_workspaces: '0' });
    const confirmed = coder.parent(workspace('team-1'), { additional_workspaces: '5' });
    coder.parent(workspace('team-2'), { additional_workspaces: '5' });
    coder.parent(workspace('gone', { build: { transition: 'delete', status: 'deleting' } }), {
      additional_workspaces: '1',
    });
    const run = memoryRun(coder);
    await seedLedger(run.ledger, {
      children: [child('team', 1, confirmed.id), child('team', 2, undefined)],
    });

    // Act
    const snap = await loadSnapshot(run.deps, call, 'me', undefined);

    // Assess
    expect(coder.calls).toContain('parent-parameters team,web');
    expect([...snap.parameters.keys()].sort()).toEqual([parent.latestBuild.id, other.latestBuild.id].sort());
    expect(snap.ledger.children).toHaveLength(2);
    expect(run.events).toEqual([
      { kind: 'parameters-read', done: 1, total: 2 },
      { kind: 'parameters-read', done: 2, total: 2 },
    ]);
  });

  it('reads one owner’s workspaces and ledger for a family, and only that family’s parent', async () => {
    // Prepare
    const coder = new MemoryCoder();
    coder.parent(workspace('team'), { additional_workspaces: '1' });
    coder.parent(workspace('web'), { additional_workspaces: '1' });
    coder.parent(workspace('team', { ownerName: 'bob' }), { additional_workspaces: '1' });
    const run = memoryRun(coder);
    await seedLedger(run.ledger, {
      children: [child('team', 1, 'c1'), child('team', 1, 'c2', { owner: 'bob' })],
    });

    // Act
    const snap = await loadSnapshot(run.deps, call, 'me', team);

    // Assess
    expect(coder.calls).toEqual(['list alice', 'parent-parameters team']);
    expect(snap.workspaces.map((w) => `${w.ownerName}/${w.name}`)).toEqual(['alice/team', 'alice/web']);
    expect(snap.ledger.children.map((c) => c.owner)).toEqual(['alice']);
    expect(snap.onlyFamilies).toEqual([team]);
  });

  it('uses a ledger it is given instead of reading it again', async () => {
    const coder = new MemoryCoder();
    const run = memoryRun(coder);
    const known: LedgerState = { children: [child('team', 1, 'c1')], missing: [], failures: [] };

    const snap = await loadSnapshot(run.deps, call, 'me', team, known);

    expect(snap.ledger).toBe(known);
  });
});

describe('planWithReads', () => {
  it('reads each workspace the plans ask for once, then plans again from what it read', async () => {
    // Prepare: two gone parents' families recorded with the same parent id, and a recorded child
    // missing from the list of a live family.
    const coder = new MemoryCoder();
    const parent = coder.parent(workspace('team'), { additional_workspaces: '1', cpu: '2' });
    const lostChild = workspace('team-1');
    coder.deleted = [lostChild, workspace('old', { id: 'p-gone' })];
    const run = memoryRun(coder);
    await seedLedger(run.ledger, {
      children: [
        child('team', 1, lostChild.id, { parentId: parent.id }),
        child('old', 1, 'old-child-1', { parentId: 'p-gone' }),
        child('older', 1, 'older-child-1', { parentId: 'p-gone' }),
      ],
    });
    const initial = await loadSnapshot(run.deps, call, 'me', undefined);

    // Act
    const { snapshot, plans } = await planWithReads(run.deps, call, initial, NOW);

    // Assess
    expect(reads(coder).sort()).toEqual([`read id:${lostChild.id}`, 'read id:p-gone'].sort());
    expect([...snapshot.reads.keys()].sort()).toEqual([`id:${lostChild.id}`, 'id:p-gone'].sort());
    expect(actionsOf(plans, 'alice', 'team')).toEqual(['create-child team-1']);
    expect(plans.find((p) => p.family.parent === 'team')?.actions[0]).toMatchObject({
      replacesChildId: lostChild.id,
    });
    expect(actionsOf(plans, 'alice', 'old')).toEqual(['record-parent-missing']);
    expect(actionsOf(plans, 'alice', 'older')).toEqual(['record-parent-missing']);
    for (const plan of plans) expect(plan.reads).toEqual([]);
  });

  it('reads nothing when the plans need nothing', async () => {
    const coder = new MemoryCoder();
    coder.parent(workspace('team'), { additional_workspaces: '1' });
    const run = memoryRun(coder);
    const initial = await loadSnapshot(run.deps, call, 'me', undefined);

    const { snapshot, plans } = await planWithReads(run.deps, call, initial, NOW);

    expect(snapshot).toBe(initial);
    expect(reads(coder)).toEqual([]);
    expect(actionsOf(plans, 'alice', 'team')).toEqual(['create-child team-1']);
  });

  it('reads again what the second plan asks for (the parent first, then its children)', async () => {
    // Prepare: the parent is gone and the grace period is 0, so its child is decided in round two.
    const coder = new MemoryCoder();
    const kid = workspace('team-1');
    coder.unlisted = [kid];
    coder.deleted = [workspace('team', { id: 'p-team' })];
    const run = memoryRun(coder, { gracePeriodMs: 0 });
    await seedLedger(run.ledger, { children: [child('team', 1, kid.id, { parentId: 'p-team' })] });
    const initial = await loadSnapshot(run.deps, call, 'me', undefined);

    // Act
    const { plans } = await planWithReads(run.deps, call, initial, NOW);

    // Assess
    expect(reads(coder)).toEqual(['read id:p-team', `read id:${kid.id}`]);
    expect(actionsOf(plans, 'alice', 'team')).toEqual(['record-parent-missing', 'delete-child team-1']);
  });

  it('records a failed read, so the next plan removes nothing on that absence and does not ask again', async () => {
    const coder = new MemoryCoder();
    const parent = coder.parent(workspace('team'), { additional_workspaces: '1' });
    coder.unreadable.add('id:c1');
    const run = memoryRun(coder);
    await seedLedger(run.ledger, { children: [child('team', 1, 'c1', { parentId: parent.id })] });
    const initial = await loadSnapshot(run.deps, call, 'me', undefined);

    const { snapshot, plans } = await planWithReads(run.deps, call, initial, NOW);

    expect(reads(coder)).toEqual(['read id:c1']);
    expect(snapshot.reads.get('id:c1')).toEqual({ state: 'unreadable', error: 'Coder answered 503' });
    expect(plans[0]?.actions).toEqual([
      expect.objectContaining({ kind: 'removal-deferred', deferred: 'forget-child', cause: 'unconfirmed' }),
    ]);
  });

  describe('parents whose count alone is known (cheap discovery)', () => {
    const world = async () => {
      const coder = new MemoryCoder();
      coder.countOnly = true;
      const parent = coder.parent(workspace('team'), { additional_workspaces: '2', cpu: '4' });
      const settled = coder.parent(workspace('web'), { additional_workspaces: '1', cpu: '8' });
      // api's child is missing from the list: its family waits on a read, not on parameters.
      const reading = coder.parent(workspace('api'), { additional_workspaces: '1' });
      const teamChild = workspace('team-1');
      const webChild = workspace('web-1');
      const apiChild = workspace('api-1');
      coder.workspaces.push(teamChild, webChild);
      coder.unlisted = [apiChild];
      const run = memoryRun(coder);
      await seedLedger(run.ledger, {
        children: [
          child('team', 1, teamChild.id, { parentId: parent.id }),
          child('web', 1, webChild.id, { parentId: settled.id }),
          child('api', 1, apiChild.id, { parentId: reading.id }),
        ],
      });
      const initial = await loadSnapshot(run.deps, call, 'me', undefined);
      return { coder, run, parent, initial, apiChild };
    };

    it('reads the full parameters only of parents that must create, then creates from them', async () => {
      // Prepare
      const { coder, run, parent, initial, apiChild } = await world();
      expect(initial.parameters.get(parent.latestBuild.id)).toEqual({ kind: 'count-only', count: 2 });

      // Act
      const { snapshot, plans } = await planWithReads(run.deps, call, initial, NOW);

      // Assess
      expect(coder.calls.filter((c) => c.startsWith('parameters '))).toEqual([
        `parameters ${parent.latestBuild.id}`,
      ]);
      expect(snapshot.parameters.get(parent.latestBuild.id)?.kind).toBe('full');
      expect(actionsOf(plans, 'alice', 'team')).toEqual(['create-child team-2']);
      expect(plans.find((p) => p.family.parent === 'team')?.actions[0]).toMatchObject({
        parameters: [
          { name: 'cpu', value: '4' },
          { name: 'additional_workspaces', value: '0' },
        ],
      });
      expect(actionsOf(plans, 'alice', 'web')).toEqual([]);
      expect(actionsOf(plans, 'alice', 'api')).toEqual([]);
      expect(reads(coder)).toEqual([`read id:${apiChild.id}`]);
    });

    it('leaves a family undecided when its parent’s full parameters cannot be read', async () => {
      // Prepare
      const { coder, run, parent, initial } = await world();
      coder.buildParameters = async () => new Map();

      // Act
      const { snapshot, plans } = await planWithReads(run.deps, call, initial, NOW);

      // Assess
      expect(snapshot.parameters.has(parent.latestBuild.id)).toBe(false);
      expect(plans.find((p) => p.family.parent === 'team')).toMatchObject({
        actions: [],
        reads: [],
        needsParameters: false,
      });
    });
  });
});

describe('resolveWorkspace', () => {
  const world = async () => {
    const coder = new MemoryCoder();
    const parent = coder.parent(workspace('Team', { ownerName: 'Alice' }), { additional_workspaces: '1' });
    const kid = workspace('team-1', { ownerName: 'Alice' });
    const run = memoryRun(coder);
    await seedLedger(run.ledger, { children: [child('team', 1, kid.id, { parentId: parent.id })] });
    return { coder, run, parent, kid };
  };

  it('resolves a child, read by its id, to its parent’s family', async () => {
    const { coder, run, kid } = await world();
    coder.workspaces.push(kid);

    const family = await resolveWorkspace(run.deps, call, { workspaceId: kid.id });

    expect(family).toEqual(team);
    expect(reads(coder)).toEqual([`read id:${kid.id}`]);
  });

  it('resolves a child deleted since, by its recorded id', async () => {
    const { coder, run, kid } = await world();
    coder.deleted = [{ ...kid, name: 'renamed-before-delete' }];

    expect(await resolveWorkspace(run.deps, call, { workspaceId: kid.id })).toEqual(team);
  });

  it('resolves owner and name without reading Coder, a child’s name in any case', async () => {
    const { coder, run } = await world();

    const family = await resolveWorkspace(run.deps, call, { owner: 'ALICE', name: 'TEAM-1' });

    expect(family).toEqual(team);
    expect(reads(coder)).toEqual([]);
  });

  it('resolves a workspace that is not a child as a family of its own (a parent), lowercased', async () => {
    const { run, parent } = await world();

    expect(await resolveWorkspace(run.deps, call, { workspaceId: parent.id })).toEqual(team);
    expect(await resolveWorkspace(run.deps, call, { owner: 'Bob', name: 'Web' })).toEqual(
      familyKey('bob', 'web'),
    );
  });

  it('resolves a deleted workspace: a deleted parent still names its family', async () => {
    const { coder, run, parent } = await world();
    coder.workspaces = [];
    coder.deleted = [parent];

    expect(await resolveWorkspace(run.deps, call, { workspaceId: parent.id })).toEqual(team);
  });

  it('resolves a workspace Coder does not know to nothing', async () => {
    const { run } = await world();

    expect(await resolveWorkspace(run.deps, call, { workspaceId: 'never-existed' })).toBeUndefined();
  });

  it('fails when the workspace cannot be read (rather than guessing)', async () => {
    const { coder, run, kid } = await world();
    coder.unreadable.add(`id:${kid.id}`);

    await expect(resolveWorkspace(run.deps, call, { workspaceId: kid.id })).rejects.toThrow(
      `could not read workspace ${kid.id}: Coder answered 503`,
    );
  });
});

describe('ledgerFingerprint', () => {
  const base: LedgerState = {
    children: [child('team', 1, 'c1'), child('team', 2, undefined), child('web', 1, 'w1')],
    missing: [],
    failures: [],
  };

  it('does not depend on the order records were read in', () => {
    const reordered = { ...base, children: [...base.children].reverse() };

    expect(ledgerFingerprint(reordered, team)).toBe(ledgerFingerprint(base, team));
  });

  it.each<[string, LedgerState]>([
    [
      'a child confirmed',
      { ...base, children: [child('team', 1, 'c1'), child('team', 2, 'c2'), child('web', 1, 'w1')] },
    ],
    ['a child forgotten', { ...base, children: [child('team', 1, 'c1'), child('web', 1, 'w1')] }],
    ['the parent marked missing', { ...base, missing: [{ owner: 'alice', parent: 'team', since: 5 }] }],
    [
      'a failure recorded',
      {
        ...base,
        failures: [
          {
            owner: 'alice',
            parent: 'team',
            consecutive: 1,
            hard: 1,
            lastFailureAt: 5,
            parentBuildId: undefined,
            lastError: 'x',
          },
        ],
      },
    ],
  ])('changes when the family’s ledger moved: %s', (_, moved) => {
    expect(ledgerFingerprint(moved, team)).not.toBe(ledgerFingerprint(base, team));
  });

  it('ignores other families', () => {
    const otherMoved = {
      ...base,
      children: [...base.children.filter((c) => c.parent !== 'web')],
      missing: [{ owner: 'alice', parent: 'web', since: 5 }],
    };

    expect(ledgerFingerprint(otherMoved, team)).toBe(ledgerFingerprint(base, team));
  });
});
