import { describe, expect, it } from 'vitest';
import { fullParameters, type PlannedAction } from '../../../lambdas/core/families/model.js';
import { childParameters, parseCount } from '../../../lambdas/core/families/planner.js';
import { CONTROLLER, child, config, NOW, planWithWorld, snapshot, workspace } from './fixtures.js';

const kinds = (actions: PlannedAction[]) =>
  actions.map((a) => `${a.kind}${'childName' in a ? `:${a.childName}` : ''}`);

describe('planFamilyReconcile', () => {
  it.each([
    {
      name: 'N=3, nothing yet',
      n: '3',
      have: [],
      expected: ['create-child:team-1', 'create-child:team-2', 'create-child:team-3'],
    },
    {
      name: 'N=3, one child exists',
      n: '3',
      have: [2],
      expected: ['create-child:team-1', 'create-child:team-3'],
    },
    { name: 'N=2, both exist', n: '2', have: [1, 2], expected: [] },
    { name: 'N 3 → 1', n: '1', have: [1, 2, 3], expected: ['delete-child:team-2', 'delete-child:team-3'] },
    { name: 'N → 0', n: '0', have: [1, 2], expected: ['delete-child:team-1', 'delete-child:team-2'] },
    { name: 'N not a number', n: 'lots', have: [1], expected: [] },
  ])('$name', ({ n, have, expected }) => {
    // Prepare
    const parent = workspace('team');
    const kids = have.map((i) => workspace(`team-${i}`));
    const snap = snapshot([parent, ...kids], [[parent, { additional_workspaces: n }]], {
      children: have.map((i, k) => child('team', i, kids[k]?.id)),
    });

    // Act
    const actions = planWithWorld(snap, NOW, config());

    // Assess
    expect(kinds(actions)).toEqual(expected);
    for (const action of actions) expect(action.reason).not.toBe('');
  });

  it('builds children from the parent template and parameters with the count at 0 and the marker', () => {
    const parent = workspace('team', { templateId: 'tpl-9', organizationId: 'org-2' });
    const snap = snapshot([parent], [[parent, { additional_workspaces: '1', cpu: '4' }]]);

    const [create] = planWithWorld(snap, NOW, config({ childMarkerParameter: 'family_parent' }));

    expect(create).toMatchObject({
      kind: 'create-child',
      childName: 'team-1',
      templateId: 'tpl-9',
      organizationId: 'org-2',
      ownerName: 'alice',
      parentId: parent.id,
      parameters: [
        { name: 'cpu', value: '4' },
        { name: 'additional_workspaces', value: '0' },
        { name: 'family_parent', value: 'team' },
      ],
    });
  });

  it('reports a name held by a workspace outside the ledger and never plans anything on it', () => {
    const parent = workspace('team');
    const squatter = workspace('team-2');
    const snap = snapshot([parent, squatter], [[parent, { additional_workspaces: '2' }]]);

    const actions = planWithWorld(snap, NOW, config());

    expect(kinds(actions)).toEqual(['report-conflict:team-2', 'create-child:team-1']);
    expect(actions[0]).toMatchObject({ holderId: squatter.id });
  });

  it('treats ledger children as children even when their count parameter says otherwise', () => {
    const parent = workspace('team');
    const kid = workspace('team-1');
    const snap = snapshot(
      [parent, kid],
      [
        [parent, { additional_workspaces: '1' }],
        [kid, { additional_workspaces: '5' }],
      ],
      {
        children: [child('team', 1, kid.id)],
      },
    );

    expect(planWithWorld(snap, NOW, config())).toEqual([]);
  });

  it('does not treat a workspace with only an unconfirmed intent of its name as a parent', () => {
    const parent = workspace('team');
    const kid = workspace('team-1', { build: { number: 1, initiatorId: CONTROLLER } });
    const snap = snapshot(
      [parent, kid],
      [
        [parent, { additional_workspaces: '1' }],
        [kid, { additional_workspaces: '3' }],
      ],
      {
        children: [child('team', 1, undefined)],
      },
    );

    expect(kinds(planWithWorld(snap, NOW, config()))).toEqual(['adopt-child:team-1']);
  });

  describe('adopting a workspace whose create answer was lost', () => {
    it.each([
      {
        name: 'first build by the controller',
        build: { number: 1, initiatorId: CONTROLLER },
        createdAt: '2000-01-01T00:00:00Z',
        adopt: true,
      },
      {
        name: 'first build by someone else',
        build: { number: 1, initiatorId: 'alice-id' },
        createdAt: '2031-01-01T00:00:00Z',
        adopt: false,
      },
      {
        name: 'later build, created after the intent',
        build: { number: 2 },
        createdAt: '2030-01-01T11:30:00Z',
        adopt: true,
      },
      {
        name: 'later build, created before the intent',
        build: { number: 2 },
        createdAt: '2030-01-01T10:00:00Z',
        adopt: false,
      },
    ])('$name', ({ build, createdAt, adopt }) => {
      const parent = workspace('team');
      const holder = workspace('team-1', { build, createdAt });
      const snap = snapshot([parent, holder], [[parent, { additional_workspaces: '1' }]], {
        children: [child('team', 1, undefined, { intentAt: Date.parse('2030-01-01T11:00:00Z') })],
      });

      const actions = planWithWorld(snap, NOW, config());

      expect(kinds(actions)).toEqual(
        adopt ? ['adopt-child:team-1'] : ['forget-child:team-1', 'report-conflict:team-1'],
      );
    });
  });

  it('recreates a recorded child that was deleted, replacing its record', () => {
    const parent = workspace('team');
    const snap = snapshot([parent], [[parent, { additional_workspaces: '1' }]], {
      children: [child('team', 1, 'gone-id')],
    });

    const [create] = planWithWorld(snap, NOW, config());

    expect(create).toMatchObject({ kind: 'create-child', replacesChildId: 'gone-id' });
  });

  describe('a missing parent', () => {
    const kid = workspace('team-1');
    const base = { children: [child('team', 1, kid.id)] };
    it.each([
      { name: 'first noticed', missing: [], expected: ['record-parent-missing'] },
      {
        name: 'within grace',
        missing: [{ owner: 'alice', parent: 'team', since: NOW.getTime() - 9 * 60_000 }],
        expected: ['grace-wait'],
      },
      {
        name: 'grace over',
        missing: [{ owner: 'alice', parent: 'team', since: NOW.getTime() - 10 * 60_000 }],
        expected: ['delete-child:team-1'],
      },
    ])('$name', ({ missing, expected }) => {
      expect(kinds(planWithWorld(snapshot([kid], [], { ...base, missing }), NOW, config()))).toEqual(
        expected,
      );
    });

    it('counts a parent being deleted as gone only once its delete build succeeded', () => {
      const parent = workspace('team', {
        build: { transition: 'delete', jobActive: true, status: 'deleting' },
      });
      const ledger = { children: [child('team', 1, kid.id, { parentId: parent.id })] };
      // Still deleting (a delete that fails leaves the parent there): its children stay as they are.
      expect(kinds(planWithWorld(snapshot([parent, kid], [], ledger), NOW, config()))).toEqual([]);
      // Read back as deleted: now it is gone, and the grace period starts.
      const deleted = {
        ...parent,
        latestBuild: { ...parent.latestBuild, jobActive: false, status: 'deleted' },
      };
      expect(
        kinds(planWithWorld(snapshot([kid], [], ledger), NOW, config(), { deleted: [deleted] })),
      ).toEqual(['record-parent-missing']);
    });

    it('never decides anything when the parent exists but its parameters could not be read', () => {
      const parent = workspace('team');
      expect(planWithWorld(snapshot([parent, kid], [], base), NOW, config())).toEqual([]);
    });
  });

  it.each([
    { policy: 'delete' as const, expected: ['delete-child:team-2'] },
    { policy: 'stop' as const, expected: ['stop-child:team-2'] },
    { policy: 'keep' as const, expected: ['keep-child:team-2'] },
  ])('removal policy $policy', ({ policy, expected }) => {
    const parent = workspace('team');
    const kids = [workspace('team-1'), workspace('team-2')];
    const snap = snapshot([parent, ...kids], [[parent, { additional_workspaces: '1' }]], {
      children: kids.map((k, i) => child('team', i + 1, k.id)),
    });
    expect(kinds(planWithWorld(snap, NOW, config({ removalPolicy: policy })))).toEqual(expected);
  });

  it('waits for a child with an active build instead of removing it', () => {
    const parent = workspace('team');
    const kid = workspace('team-1', { build: { jobActive: true, status: 'starting' } });
    const snap = snapshot([parent, kid], [[parent, { additional_workspaces: '0' }]], {
      children: [child('team', 1, kid.id)],
    });
    expect(kinds(planWithWorld(snap, NOW, config()))).toEqual(['child-busy:team-1']);
  });

  describe('failures', () => {
    const parent = workspace('team');
    const failures = (consecutive: number, hard: number, parentBuildId = parent.latestBuild.id) => [
      {
        owner: 'alice',
        parent: 'team',
        consecutive,
        hard,
        lastFailureAt: NOW.getTime() - 90_000,
        parentBuildId,
        lastError: 'boom',
      },
    ];
    it.each([
      { name: 'backoff running (2 × 1 min)', f: failures(2, 0), expected: ['backoff-skip'] },
      { name: 'backoff over (1 × 1 min)', f: failures(1, 1), expected: ['create-child:team-1'] },
      { name: 'hard-limited', f: failures(3, 3), expected: ['hard-limit-skip'] },
      {
        name: 'hard limit lifted by a new parent build',
        f: failures(3, 3, 'old-build'),
        expected: ['clear-failures', 'create-child:team-1'],
      },
    ])('$name', ({ f, expected }) => {
      const snap = snapshot([parent], [[parent, { additional_workspaces: '1' }]], { failures: f });
      expect(kinds(planWithWorld(snap, NOW, config()))).toEqual(expected);
    });
  });

  it('plans only the requested family in a family-scoped snapshot', () => {
    const a = workspace('a');
    const b = workspace('b');
    const snap = {
      ...snapshot(
        [a, b],
        [
          [a, { additional_workspaces: '1' }],
          [b, { additional_workspaces: '1' }],
        ],
      ),
      onlyFamilies: [{ owner: 'alice', parent: 'b' }],
    };
    expect(kinds(planWithWorld(snap, NOW, config()))).toEqual(['create-child:b-1']);
  });
});

describe('parameters', () => {
  it('parses the count case-insensitively and only as a non-negative integer', () => {
    const full = (name: string, value: string) => fullParameters([{ name, value }]);
    expect(parseCount(full('Additional_Workspaces', ' 4 '), 'additional_workspaces')).toBe(4);
    expect(parseCount(full('additional_workspaces', '-1'), 'additional_workspaces')).toBeUndefined();
    expect(parseCount(fullParameters([]), 'additional_workspaces')).toBeUndefined();
    expect(parseCount({ kind: 'count-only', count: 3 }, 'additional_workspaces')).toBe(3);
  });

  it('replaces the count with 0 in child parameters', () => {
    const parent = workspace('p');
    expect(
      childParameters(parent, fullParameters([{ name: 'additional_workspaces', value: '3' }]), config()),
    ).toEqual([{ name: 'additional_workspaces', value: '0' }]);
  });
});
