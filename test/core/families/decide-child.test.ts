import { describe, expect, it } from 'vitest';
import {
  type ChildPlanning,
  type ChildSubject,
  childParameters,
  childProvenance,
  decideChild,
  decideTakenName,
} from '../../../lambdas/core/families/decide-child.js';
import {
  type ChildRecord,
  type FamiliesSnapshot,
  type FamilyWorkspace,
  familyKey,
  fullParameters,
  type PlannedAction,
  refKey,
  type WorkspaceRead,
  type WorkspaceRef,
} from '../../../lambdas/core/families/model.js';
import { indexSnapshot, type ParentView } from '../../../lambdas/core/families/snapshot-index.js';
import { CONTROLLER, child, config, NOW, snapshot, workspace } from './fixtures.js';

const family = familyKey('alice', 'team');
const INTENT_AT = NOW.getTime() - 3_600_000;
const BEFORE_INTENT = '2030-01-01T10:00:00Z';
const AFTER_INTENT = '2030-01-01T11:30:00Z';

/** The workspaces that may hold child `i`'s name, by who created them and how that shows. */
const cast = (i: number, childBuild: Partial<FamilyWorkspace['latestBuild']> = {}) => {
  const name = `team-${i}`;
  return {
    /** The recorded child: stopped and started since, created before its record's intent time. */
    child: workspace(name, {
      createdAt: BEFORE_INTENT,
      build: { number: 4, initiatorId: 'alice-id', ...childBuild },
    }),
    oursNew: workspace(name, { build: { number: 1, initiatorId: CONTROLLER } }),
    theirsNew: workspace(name, { build: { number: 1, initiatorId: 'alice-id' } }),
    oursOld: workspace(name, { createdAt: AFTER_INTENT, build: { number: 5, initiatorId: 'alice-id' } }),
    theirsOld: workspace(name, { createdAt: BEFORE_INTENT, build: { number: 5, initiatorId: 'alice-id' } }),
  };
};
type Member = keyof ReturnType<typeof cast>;
type ReadTarget = 'child-id' | 'name';

interface World {
  readonly listed?: Member[];
  readonly reads?: Array<[ReadTarget, WorkspaceRead['state'], Member?]>;
  readonly view?: FamiliesSnapshot['view'];
  readonly controller?: 'unknown';
  readonly countOnly?: boolean;
  readonly followParentPower?: boolean;
  readonly parentBuild?: Partial<FamilyWorkspace['latestBuild']>;
  readonly childBuild?: Partial<FamilyWorkspace['latestBuild']>;
  readonly removalPolicy?: 'delete' | 'stop' | 'keep';
}

/** A family `alice/team` asking for 2 children, the subject's index and what Coder shows for it. */
const setup = (
  subject: 'wanted' | 'unwanted',
  recordState: 'none' | 'intent' | 'confirmed',
  world: World,
) => {
  const i = subject === 'wanted' ? 1 : 3;
  const people = cast(i, world.childBuild);
  const parent = workspace('team', { build: world.parentBuild ?? {} });
  const record: ChildRecord | undefined =
    recordState === 'none'
      ? undefined
      : child('team', i, recordState === 'confirmed' ? people.child.id : undefined, {
          intentAt: INTENT_AT,
          parentId: parent.id,
        });
  const refs: Record<ReadTarget, WorkspaceRef> = {
    'child-id': { id: people.child.id },
    name: { owner: 'alice', name: `team-${i}` },
  };
  const reads = new Map<string, WorkspaceRead>(
    (world.reads ?? []).map(([target, state, member]): [string, WorkspaceRead] => {
      const ws = people[member ?? 'child'];
      const read: WorkspaceRead =
        state === 'present' || state === 'deleted'
          ? { state, workspace: ws }
          : state === 'unreadable'
            ? { state, error: 'Coder answered 503' }
            : { state };
      return [refKey(refs[target]), read];
    }),
  );
  const cfg = config({
    followParentPower: world.followParentPower ?? false,
    removalPolicy: world.removalPolicy ?? 'delete',
  });
  const base = snapshot(
    [parent, ...(world.listed ?? []).map((m) => people[m])],
    [[parent, { additional_workspaces: '2', cpu: '4' }]],
    { children: record ? [record] : [] },
  );
  const parameters: FamiliesSnapshot['parameters'] = world.countOnly
    ? new Map([[parent.latestBuild.id, { kind: 'count-only', count: 2 }]])
    : base.parameters;
  const controllerUserId = world.controller === 'unknown' ? undefined : CONTROLLER;
  const index = indexSnapshot(
    { ...base, parameters, reads, view: world.view ?? 'complete', controllerUserId },
    cfg,
  );
  const parentView = index.parents.get('alice/team') as ParentView;
  const ctx: ChildPlanning = { family, index, config: cfg, controllerUserId };
  const subjectOf = (extra: { parentGone?: boolean } = {}): ChildSubject =>
    subject === 'wanted'
      ? { kind: 'wanted', index: i, record, parent: parentView, desired: 2 }
      : {
          kind: 'unwanted',
          record: record as ChildRecord,
          why: 'additional_workspaces of team is now 2',
          parentGone: extra.parentGone ?? false,
        };
  return { ctx, people, parent, record, refs, subjectOf };
};

/** An action as the tables name it: its kind, and for a deferral what waits and why. */
const named = (action: PlannedAction): string =>
  action.kind === 'removal-deferred' ? `deferred ${action.deferred} (${action.cause})` : action.kind;

interface Row {
  readonly name: string;
  readonly record: 'none' | 'intent' | 'confirmed';
  readonly world: World;
  readonly actions: string[];
  readonly reads?: ReadTarget[];
}

const runRow =
  (subject: 'wanted' | 'unwanted') =>
  ({ record, world, actions, reads = [] }: Row) => {
    // Prepare
    const { ctx, refs, subjectOf } = setup(subject, record, world);

    // Act
    const decision = decideChild(ctx, subjectOf());

    // Assess
    expect(decision.actions.map(named)).toEqual(actions);
    expect(decision.reads).toEqual(reads.map((r) => refs[r]));
    expect(decision.needsParameters).toBe(false);
    for (const action of decision.actions) expect(action.reason).not.toBe('');
  };

describe('decideChild: a child the family wants', () => {
  it.each<Row>([
    { name: 'no record, the name is free → create', record: 'none', world: {}, actions: ['create-child'] },
    {
      name: 'no record, someone holds the name → conflict',
      record: 'none',
      world: { listed: ['theirsNew'] },
      actions: ['report-conflict'],
    },
    {
      name: 'no record, a workspace the controller user created holds the name → conflict (only the ledger proves ownership)',
      record: 'none',
      world: { listed: ['oursNew'] },
      actions: ['report-conflict'],
    },
    {
      name: 'intent, holder listed, first build by the controller → adopt',
      record: 'intent',
      world: { listed: ['oursNew'] },
      actions: ['adopt-child'],
    },
    {
      name: 'intent, holder listed, first build by someone else → conflict and forget the intent',
      record: 'intent',
      world: { listed: ['theirsNew'] },
      actions: ['report-conflict', 'forget-child'],
    },
    {
      name: 'intent, holder listed with later builds, created after the intent → adopt',
      record: 'intent',
      world: { listed: ['oursOld'] },
      actions: ['adopt-child'],
    },
    {
      name: 'intent, holder listed with later builds, created before the intent → conflict and forget',
      record: 'intent',
      world: { listed: ['theirsOld'] },
      actions: ['report-conflict', 'forget-child'],
    },
    {
      name: 'intent, holder listed, controller user unknown → undecided',
      record: 'intent',
      world: { listed: ['oursNew'], controller: 'unknown' },
      actions: ['ownership-undecided'],
    },
    {
      name: 'intent, holder listed, controller user unknown, even a first build by someone else → undecided',
      record: 'intent',
      world: { listed: ['theirsNew'], controller: 'unknown' },
      actions: ['ownership-undecided'],
    },
    {
      name: 'intent, nothing listed under the name → create again (the intent is kept by the ledger)',
      record: 'intent',
      world: {},
      actions: ['create-child'],
    },
    {
      name: 'intent, someone else holds the name on a partial view → conflict, the forget waits',
      record: 'intent',
      world: { listed: ['theirsNew'], view: 'partial' },
      actions: ['report-conflict', 'deferred forget-child (partial-view)'],
    },
    {
      name: 'confirmed, child listed → nothing',
      record: 'confirmed',
      world: { listed: ['child'] },
      actions: [],
    },
    {
      name: 'confirmed, child not listed and not read → read it by id first',
      record: 'confirmed',
      world: {},
      actions: [],
      reads: ['child-id'],
    },
    {
      name: 'confirmed, child read by id and present → alive, nothing',
      record: 'confirmed',
      world: { reads: [['child-id', 'present']] },
      actions: [],
    },
    {
      name: 'confirmed, child read back as deleted, name free → recreate',
      record: 'confirmed',
      world: { reads: [['child-id', 'deleted']] },
      actions: ['create-child'],
    },
    {
      name: 'confirmed, child unknown to Coder, name free → recreate',
      record: 'confirmed',
      world: { reads: [['child-id', 'vanished']] },
      actions: ['create-child'],
    },
    {
      name: 'confirmed, child read back as deleted, someone else holds the name → conflict and forget',
      record: 'confirmed',
      world: { reads: [['child-id', 'deleted']], listed: ['theirsNew'] },
      actions: ['report-conflict', 'forget-child'],
    },
    {
      name: 'confirmed, reading the child failed → the forget waits (unconfirmed)',
      record: 'confirmed',
      world: { reads: [['child-id', 'unreadable']] },
      actions: ['deferred forget-child (unconfirmed)'],
    },
    {
      name: 'confirmed, child deleted and the name taken, on a partial view → conflict, the forget waits',
      record: 'confirmed',
      world: { reads: [['child-id', 'deleted']], listed: ['theirsNew'], view: 'partial' },
      actions: ['report-conflict', 'deferred forget-child (partial-view)'],
    },
    {
      name: 'confirmed, child deleted, name free, on a partial view → recreate (a partial view may create)',
      record: 'confirmed',
      world: { reads: [['child-id', 'deleted']], view: 'partial' },
      actions: ['create-child'],
    },
  ])('$name', runRow('wanted'));

  it('creates a new child from the parent, named by the rule, with the count at 0', () => {
    const { ctx, parent, subjectOf } = setup('wanted', 'none', {});

    const { actions } = decideChild(ctx, subjectOf());

    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'create-child',
        family,
        index: 1,
        childName: 'team-1',
        ownerName: 'alice',
        organizationId: parent.organizationId,
        templateId: parent.templateId,
        parentId: parent.id,
        parameters: [
          { name: 'cpu', value: '4' },
          { name: 'additional_workspaces', value: '0' },
        ],
        replacesChildId: undefined,
      }),
    ]);
  });

  it('recreates a child read back as deleted under its recorded name, replacing its record', () => {
    const { ctx, people, subjectOf } = setup('wanted', 'confirmed', { reads: [['child-id', 'deleted']] });
    const subject = subjectOf();
    const renamed: ChildSubject =
      subject.kind === 'wanted' && subject.record
        ? { ...subject, record: { ...subject.record, childName: 'old-style-name' } }
        : subject;

    const { actions } = decideChild(ctx, renamed);

    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'create-child',
        childName: 'old-style-name',
        replacesChildId: people.child.id,
      }),
    ]);
  });

  it('adopts the holder by its own id, and reports a conflict with the holder it names', () => {
    const ours = setup('wanted', 'intent', { listed: ['oursNew'] });
    const theirs = setup('wanted', 'intent', { listed: ['theirsNew'] });

    const adopted = decideChild(ours.ctx, ours.subjectOf()).actions;
    const refused = decideChild(theirs.ctx, theirs.subjectOf()).actions;

    expect(adopted).toEqual([
      expect.objectContaining({ kind: 'adopt-child', index: 1, childId: ours.people.oursNew.id }),
    ]);
    expect(refused).toEqual([
      expect.objectContaining({ kind: 'report-conflict', holderId: theirs.people.theirsNew.id }),
      expect.objectContaining({ kind: 'forget-child', index: 1 }),
    ]);
    // The intent only: a forget by the holder's id would name a workspace the ledger never recorded.
    expect(refused[1]?.kind === 'forget-child' && refused[1].childId).toBe(undefined);
  });

  describe('with only the parent count known (count-only parameters)', () => {
    it.each<{ name: string; record: 'none' | 'intent' | 'confirmed'; world: World }>([
      { name: 'a missing child', record: 'none', world: { countOnly: true } },
      { name: 'an intent never created', record: 'intent', world: { countOnly: true } },
      {
        name: 'a recorded child read back as deleted',
        record: 'confirmed',
        world: { countOnly: true, reads: [['child-id', 'deleted']] },
      },
    ])('asks for the full parameters instead of creating $name', ({ record, world }) => {
      const { ctx, subjectOf } = setup('wanted', record, world);

      const decision = decideChild(ctx, subjectOf());

      expect(decision).toEqual({ actions: [], reads: [], needsParameters: true });
    });

    it('needs nothing more when the child is there', () => {
      const { ctx, subjectOf } = setup('wanted', 'confirmed', { countOnly: true, listed: ['child'] });

      expect(decideChild(ctx, subjectOf())).toEqual({ actions: [], reads: [], needsParameters: false });
    });
  });

  describe('following the parent power (the child known only from a read by id counts as alive)', () => {
    const RUNNING = { transition: 'start', status: 'running' } as const;
    const STOPPED = { transition: 'stop', status: 'stopped' } as const;
    const STOPPING = { transition: 'stop', status: 'stopping', jobActive: true } as const;

    it.each<{ name: string; world: World; expected: string[] }>([
      {
        name: 'parent running, child stopped → start',
        world: { parentBuild: RUNNING, childBuild: STOPPED },
        expected: ['start-child'],
      },
      {
        name: 'parent stopped, child running → stop',
        world: { parentBuild: STOPPED, childBuild: RUNNING },
        expected: ['stop-child'],
      },
      {
        name: 'parent stopped, child running, partial view → the stop waits',
        world: { parentBuild: STOPPED, childBuild: RUNNING, view: 'partial' },
        expected: ['deferred stop-child (partial-view)'],
      },
      {
        name: 'parent running, child stopping → busy',
        world: { parentBuild: RUNNING, childBuild: STOPPING },
        expected: ['child-busy'],
      },
      { name: 'both running → nothing', world: { parentBuild: RUNNING, childBuild: RUNNING }, expected: [] },
    ])('$name', ({ world, expected }) => {
      // Prepare
      const { ctx, people, subjectOf } = setup('wanted', 'confirmed', {
        ...world,
        followParentPower: true,
        reads: [['child-id', 'present']],
      });

      // Act
      const { actions } = decideChild(ctx, subjectOf());

      // Assess
      expect(actions.map(named)).toEqual(expected);
      if (expected[0] === 'stop-child') {
        expect(actions[0]).toMatchObject({ removal: false, childId: people.child.id });
      }
    });
  });
});

describe('decideChild: a child the family no longer wants', () => {
  it.each<Row>([
    {
      name: 'intent, holder listed, first build by the controller → adopt before removing',
      record: 'intent',
      world: { listed: ['oursNew'] },
      actions: ['adopt-child'],
    },
    {
      name: 'intent, holder listed, someone else’s → forget the intent, no conflict to report',
      record: 'intent',
      world: { listed: ['theirsNew'] },
      actions: ['forget-child'],
    },
    {
      name: 'intent, holder listed, controller user unknown → undecided',
      record: 'intent',
      world: { listed: ['oursNew'], controller: 'unknown' },
      actions: ['ownership-undecided'],
    },
    {
      name: 'intent, nothing listed and not read → read the name first',
      record: 'intent',
      world: {},
      actions: [],
      reads: ['name'],
    },
    {
      name: 'intent, name read back as present and ours → adopt',
      record: 'intent',
      world: { reads: [['name', 'present', 'oursNew']] },
      actions: ['adopt-child'],
    },
    {
      name: 'intent, name read back as deleted → forget',
      record: 'intent',
      world: { reads: [['name', 'deleted', 'oursNew']] },
      actions: ['forget-child'],
    },
    {
      name: 'intent, name unknown to Coder → forget',
      record: 'intent',
      world: { reads: [['name', 'vanished']] },
      actions: ['forget-child'],
    },
    {
      name: 'intent, reading the name failed → the forget waits (unconfirmed)',
      record: 'intent',
      world: { reads: [['name', 'unreadable']] },
      actions: ['deferred forget-child (unconfirmed)'],
    },
    {
      name: 'intent, name unknown to Coder, on a partial view → the forget waits',
      record: 'intent',
      world: { reads: [['name', 'vanished']], view: 'partial' },
      actions: ['deferred forget-child (partial-view)'],
    },
    {
      name: 'confirmed, child listed → delete (policy delete)',
      record: 'confirmed',
      world: { listed: ['child'] },
      actions: ['delete-child'],
    },
    {
      name: 'confirmed, child not listed and not read → read it by id first',
      record: 'confirmed',
      world: {},
      actions: [],
      reads: ['child-id'],
    },
    {
      name: 'confirmed, child read by id and present → alive: delete it',
      record: 'confirmed',
      world: { reads: [['child-id', 'present']] },
      actions: ['delete-child'],
    },
    {
      name: 'confirmed, child read back as deleted → forget',
      record: 'confirmed',
      world: { reads: [['child-id', 'deleted']] },
      actions: ['forget-child'],
    },
    {
      name: 'confirmed, reading the child failed → the forget waits (unconfirmed)',
      record: 'confirmed',
      world: { reads: [['child-id', 'unreadable']] },
      actions: ['deferred forget-child (unconfirmed)'],
    },
    {
      name: 'confirmed, child listed, on a partial view → the delete waits',
      record: 'confirmed',
      world: { listed: ['child'], view: 'partial' },
      actions: ['deferred delete-child (partial-view)'],
    },
  ])('$name', runRow('unwanted'));

  it.each<{ name: string; world: World; parentGone?: boolean; expected: string[] }>([
    {
      name: 'policy stop → stop (as the removal)',
      world: { removalPolicy: 'stop' },
      expected: ['stop-child'],
    },
    {
      name: 'policy stop, already stopped → nothing',
      world: { removalPolicy: 'stop', childBuild: { transition: 'stop', status: 'stopped' } },
      expected: [],
    },
    { name: 'policy keep → keep', world: { removalPolicy: 'keep' }, expected: ['keep-child'] },
    {
      name: 'policy keep, parent gone → release',
      world: { removalPolicy: 'keep' },
      parentGone: true,
      expected: ['release-child'],
    },
    {
      name: 'policy keep, parent gone, partial view → the release waits',
      world: { removalPolicy: 'keep', view: 'partial' },
      parentGone: true,
      expected: ['deferred release-child (partial-view)'],
    },
    {
      name: 'a build in progress → busy',
      world: { childBuild: { status: 'starting', jobActive: true } },
      expected: ['child-busy'],
    },
  ])('confirmed and listed, $name', ({ world, parentGone, expected }) => {
    // Prepare
    const { ctx, people, subjectOf } = setup('unwanted', 'confirmed', { ...world, listed: ['child'] });

    // Act
    const { actions } = decideChild(ctx, subjectOf({ parentGone: parentGone ?? false }));

    // Assess
    expect(actions.map(named)).toEqual(expected);
    if (expected[0] === 'stop-child') {
      expect(actions[0]).toMatchObject({ removal: true, childId: people.child.id });
    }
  });
});

describe('childProvenance', () => {
  const record = { intentAt: INTENT_AT, childId: 'child-7' };
  it.each<{ name: string; holder: Parameters<typeof workspace>[1]; controller?: string; expected: string }>([
    {
      name: 'the ledger’s own child id, many builds later and created "before" its intent',
      holder: { id: 'child-7', createdAt: BEFORE_INTENT, build: { number: 9, initiatorId: 'alice-id' } },
      expected: 'ours',
    },
    {
      name: 'the ledger’s own child id, controller user unknown',
      holder: { id: 'child-7', build: { number: 1, initiatorId: 'someone' } },
      controller: 'unknown',
      expected: 'ours',
    },
    {
      name: 'first build by the controller',
      holder: { build: { number: 1, initiatorId: CONTROLLER } },
      expected: 'ours',
    },
    {
      name: 'first build by someone else',
      holder: { build: { number: 1, initiatorId: 'bob' } },
      expected: 'theirs',
    },
    {
      name: 'first build, controller user unknown',
      holder: { build: { number: 1, initiatorId: CONTROLLER } },
      controller: 'unknown',
      expected: 'undecided',
    },
    {
      name: 'later builds, created after the intent',
      holder: { createdAt: AFTER_INTENT, build: { number: 2 } },
      expected: 'ours',
    },
    {
      name: 'later builds, created at the intent time exactly',
      holder: { createdAt: new Date(INTENT_AT).toISOString(), build: { number: 2 } },
      expected: 'ours',
    },
    {
      name: 'later builds, created before the intent',
      holder: { createdAt: BEFORE_INTENT, build: { number: 2 } },
      expected: 'theirs',
    },
    {
      name: 'later builds, no creation time',
      holder: { createdAt: undefined, build: { number: 2 } },
      expected: 'theirs',
    },
  ])('$name → $expected', ({ holder, controller, expected }) => {
    const ws = workspace('team-1', holder);

    expect(childProvenance(ws, record, controller === 'unknown' ? undefined : CONTROLLER)).toBe(expected);
  });
});

describe('childParameters', () => {
  const parent = workspace('team');
  const values = fullParameters([
    { name: 'cpu', value: '4' },
    { name: 'Additional_Workspaces', value: '3' },
    { name: 'family_parent', value: 'stale' },
  ]);

  it('sets the count to 0 whatever case the parent’s build spells it in, and adds no marker unless configured', () => {
    expect(childParameters(parent, values, config())).toEqual([
      { name: 'cpu', value: '4' },
      { name: 'family_parent', value: 'stale' },
      { name: 'additional_workspaces', value: '0' },
    ]);
  });

  it('sets the marker to the parent’s name, replacing a value the parent carried', () => {
    expect(childParameters(parent, values, config({ childMarkerParameter: 'Family_Parent' }))).toEqual([
      { name: 'cpu', value: '4' },
      { name: 'additional_workspaces', value: '0' },
      { name: 'Family_Parent', value: 'team' },
    ]);
  });
});

describe('decideTakenName (after a create met a taken name)', () => {
  const intent = child('team', 2, undefined, { intentAt: INTENT_AT });
  const ctx = { family, controllerUserId: CONTROLLER };

  it('adopts a holder the controller created', () => {
    const holder = workspace('team-2', { build: { number: 1, initiatorId: CONTROLLER } });

    const decision = decideTakenName(ctx, intent, holder);

    expect(decision.actions).toEqual([
      expect.objectContaining({ kind: 'adopt-child', index: 2, childName: 'team-2', childId: holder.id }),
    ]);
    expect(decision.reads).toEqual([]);
  });

  it('adopts the ledger’s own child id whatever its build number (the record the create replaced)', () => {
    const holder = workspace('team-2', {
      createdAt: BEFORE_INTENT,
      build: { number: 6, initiatorId: 'alice-id' },
    });

    const decision = decideTakenName(ctx, { ...intent, childId: holder.id }, holder);

    expect(decision.actions.map(named)).toEqual(['adopt-child']);
  });

  it('reports someone else’s holder and forgets the intent (the name was read by itself: nothing to defer)', () => {
    const holder = workspace('team-2', { build: { number: 1, initiatorId: 'bob' } });

    const decision = decideTakenName(ctx, intent, holder);

    expect(decision.actions).toEqual([
      expect.objectContaining({ kind: 'report-conflict', holderId: holder.id }),
      expect.objectContaining({ kind: 'forget-child', index: 2 }),
    ]);
    expect(decision.actions[1]?.kind === 'forget-child' && decision.actions[1].childId).toBe(undefined);
  });

  it('leaves ownership undecided when the controller user is unknown', () => {
    const holder = workspace('team-2', { build: { number: 1, initiatorId: CONTROLLER } });

    const decision = decideTakenName({ family, controllerUserId: undefined }, intent, holder);

    expect(decision.actions).toEqual([
      expect.objectContaining({ kind: 'ownership-undecided', holderId: holder.id, index: 2 }),
    ]);
  });
});
