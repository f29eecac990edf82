import { describe, expect, it } from 'vitest';
import { DeadlineReachedError, NO_DEADLINE } from '../../../lambdas/core/contracts/deadline.js';
import { createConcurrencyLimit } from '../../../lambdas/core/families/concurrency.js';
import {
  type ExecutionContext,
  executeFamilyPlan,
  MUTATION_START_MS,
  type Settlement,
  type StopCause,
} from '../../../lambdas/core/families/executor.js';
import { InMemoryFamilyLedger } from '../../../lambdas/core/families/in-memory.js';
import {
  type ChildRecord,
  type FamilyKey,
  familyKey,
  type PlannedAction,
} from '../../../lambdas/core/families/model.js';
import { WorkspaceOpError } from '../../../lambdas/core/families/ports.js';
import { child, MemoryCoder, NOW, seedLedger, workspace } from './fixtures.js';

const family = familyKey('alice', 'team');
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The in-memory ledger, writing each call into `order` (shared with the Coder's calls). */
class RecordingLedger extends InMemoryFamilyLedger {
  constructor(private readonly order: string[]) {
    super();
  }
  override async beginCreate(intent: ChildRecord, replacesChildId?: string) {
    this.order.push(`ledger intent ${intent.index}`);
    return super.beginCreate(intent, replacesChildId);
  }
  override async confirmChild(key: FamilyKey, index: number, childId: string, at: number) {
    this.order.push(`ledger confirm ${index}`);
    return super.confirmChild(key, index, childId, at);
  }
  override async forgetChild(key: FamilyKey, index: number, childId: string | undefined) {
    this.order.push(`ledger forget ${index}`);
    return super.forgetChild(key, index, childId);
  }
  override async setParentMissing(key: FamilyKey, since: number) {
    this.order.push('ledger parent-missing');
    return super.setParentMissing(key, since);
  }
  override async clearParentMissing(key: FamilyKey) {
    this.order.push('ledger clear-missing');
    return super.clearParentMissing(key);
  }
  override async clearFailures(key: FamilyKey) {
    this.order.push('ledger clear-failures');
    return super.clearFailures(key);
  }
}

const setup = (
  options: {
    dryRun?: boolean;
    bound?: number;
    stop?: { cause: StopCause; detail: string };
    /** Job actions allowed before the pacing turns the rest away. @default no limit */
    jobs?: number;
  } = {},
) => {
  let jobsLeft = options.jobs ?? Number.POSITIVE_INFINITY;
  const queued: string[] = [];
  const order: string[] = [];
  const coder = new MemoryCoder();
  coder.beforeCreate = async (input) => {
    order.push(`coder create ${input.name}`);
  };
  coder.beforeTransition = async (id, transition) => {
    order.push(`coder ${transition} ${id}`);
  };
  const ledger = new RecordingLedger(order);
  const needs: number[] = [];
  const settled: Array<{ action: PlannedAction; settlement: Settlement }> = [];
  const ctx: ExecutionContext = {
    workspaces: coder,
    ledger,
    mutations: createConcurrencyLimit(options.bound ?? 8),
    now: () => NOW,
    runId: 'run-1',
    dryRun: options.dryRun ?? false,
    call: { deadline: NO_DEADLINE },
    mayStart: (needMs) => {
      needs.push(needMs);
      return options.stop;
    },
    mayQueue: (action) => {
      if (jobsLeft <= 0) return { cause: 'provisioner-cap', detail: 'not queued: at the cap' };
      jobsLeft--;
      queued.push(action.kind);
      return undefined;
    },
  };
  const execute = (actions: PlannedAction[]) =>
    executeFamilyPlan(ctx, family, actions, (action, settlement) => settled.push({ action, settlement }));
  const outcomeOf = (action: PlannedAction) => settled.find((s) => s.action === action)?.settlement;
  return { order, coder, ledger, needs, settled, ctx, execute, outcomeOf, queued };
};

const ref = (index: number) => ({ index, childName: `team-${index}` });
const create = (index: number, replacesChildId?: string): PlannedAction => ({
  kind: 'create-child',
  family,
  ...ref(index),
  ownerName: 'alice',
  organizationId: 'org',
  templateId: 'tpl',
  parentId: 'p',
  parameters: [{ name: 'additional_workspaces', value: '0' }],
  replacesChildId,
  reason: `child ${index} is missing`,
});
const build = (kind: 'delete-child' | 'start-child', index: number, childId: string): PlannedAction => ({
  kind,
  family,
  ...ref(index),
  childId,
  reason: 'r',
});
const stop = (index: number, childId: string): PlannedAction => ({
  kind: 'stop-child',
  family,
  ...ref(index),
  childId,
  removal: true,
  reason: 'r',
});
const forget = (index: number, childId?: string): PlannedAction => ({
  kind: 'forget-child',
  family,
  ...ref(index),
  childId,
  reason: 'r',
});
const adopt = (index: number, childId: string): PlannedAction => ({
  kind: 'adopt-child',
  family,
  ...ref(index),
  childId,
  reason: 'r',
});
const conflict: PlannedAction = { kind: 'report-conflict', family, ...ref(7), holderId: 'h', reason: 'r' };
const graceWait: PlannedAction = { kind: 'grace-wait', family, until: 1, reason: 'r' };
const clearMissing: PlannedAction = { kind: 'clear-parent-missing', family, reason: 'r' };

/** A plan that touches every phase, listed out of phase order, over a ledger and Coder that fit it. */
const mixedPlan = async (s: ReturnType<typeof setup>) => {
  const doomed = workspace('team-9');
  s.coder.workspaces.push(doomed);
  await seedLedger(s.ledger, {
    children: [child('team', 3, 'c3'), child('team', 4, undefined), child('team', 9, doomed.id)],
    missing: [{ owner: 'alice', parent: 'team', since: 1 }],
  });
  s.order.length = 0;
  const actions = [
    build('delete-child', 9, doomed.id),
    forget(3, 'c3'),
    conflict,
    adopt(4, 'c4'),
    clearMissing,
    graceWait,
    create(5),
  ];
  return { actions, doomed };
};

describe('executeFamilyPlan', () => {
  it('runs ledger actions first and in plan order, then settles reports, then the Coder work', async () => {
    // Prepare
    const s = setup();
    const { actions, doomed } = await mixedPlan(s);

    // Act
    const ambiguous = await s.execute(actions);

    // Assess
    expect(ambiguous).toEqual([]);
    expect(s.order.slice(0, 3)).toEqual(['ledger forget 3', 'ledger confirm 4', 'ledger clear-missing']);
    expect(s.order.slice(3).sort()).toEqual(
      [`coder delete ${doomed.id}`, 'ledger intent 5', 'coder create team-5', 'ledger confirm 5'].sort(),
    );
    expect(s.order.indexOf('ledger intent 5')).toBeLessThan(s.order.indexOf('coder create team-5'));
    expect(s.settled.slice(0, 5).map((x) => [x.action.kind, x.settlement.outcome])).toEqual([
      ['forget-child', 'done'],
      ['adopt-child', 'done'],
      ['clear-parent-missing', 'done'],
      ['report-conflict', 'conflict'],
      ['grace-wait', 'skipped'],
    ]);
    expect(
      s.settled
        .slice(5)
        .map((x) => [x.action.kind, x.settlement.outcome])
        .sort(),
    ).toEqual([
      ['create-child', 'done'],
      ['delete-child', 'done'],
    ]);
    const ledger = await s.ledger.loadAll();
    expect(ledger.missing).toEqual([]);
    expect(ledger.children.map((c) => [c.index, c.state, c.childId])).toEqual([
      [4, 'confirmed', 'c4'],
      [9, 'confirmed', doomed.id],
      [5, 'confirmed', expect.stringMatching(/^created-team-5/)],
    ]);
  });

  it('settles every report without changing anything: a conflict as a conflict, the rest as skipped', async () => {
    const s = setup();
    const reports: PlannedAction[] = [
      conflict,
      graceWait,
      { kind: 'keep-child', family, ...ref(2), childId: 'c2', reason: 'r' },
      { kind: 'removal-deferred', family, deferred: 'delete-child', cause: 'partial-view', reason: 'r' },
      { kind: 'ownership-undecided', family, ...ref(3), holderId: 'h', reason: 'r' },
    ];

    await s.execute(reports);

    expect(s.settled.map((x) => x.settlement)).toEqual([
      { outcome: 'conflict' },
      { outcome: 'skipped' },
      { outcome: 'skipped' },
      { outcome: 'skipped' },
      { outcome: 'skipped' },
    ]);
    expect(s.order).toEqual([]);
    expect(s.needs).toEqual([]);
  });

  it('fails a ledger action alone and goes on with the next', async () => {
    const s = setup();
    const orphan = adopt(6, 'c6');

    await s.execute([orphan, clearMissing]);

    expect(s.outcomeOf(orphan)).toMatchObject({ outcome: 'failed', error: expect.any(Error) });
    expect(s.outcomeOf(clearMissing)).toEqual({ outcome: 'done' });
  });

  it('plans every mutation in a dry run and changes nothing', async () => {
    // Prepare
    const s = setup({ dryRun: true });
    const { actions } = await mixedPlan(s);
    const before = await s.ledger.loadAll();

    // Act
    const ambiguous = await s.execute(actions);

    // Assess
    expect(ambiguous).toEqual([]);
    expect(s.order).toEqual([]);
    expect(s.coder.mutations).toEqual([]);
    expect(await s.ledger.loadAll()).toEqual(before);
    expect(s.settled.map((x) => `${x.action.kind} ${x.settlement.outcome}`)).toEqual([
      'forget-child planned',
      'adopt-child planned',
      'clear-parent-missing planned',
      'report-conflict conflict',
      'grace-wait skipped',
      'delete-child planned',
      'create-child planned',
    ]);
  });

  it('asks before each ledger write (with no time needed) and each Coder mutation (with the time one needs)', async () => {
    const s = setup();
    const { actions } = await mixedPlan(s);

    await s.execute(actions);

    expect(s.needs).toEqual([0, 0, 0, MUTATION_START_MS, MUTATION_START_MS]);
  });

  it('sends nothing to Coder once the run is out of time, and says why; bookkeeping still lands', async () => {
    // Prepare
    const detail = 'the run ran out of time before this step; the next run does it';
    const s = setup({ stop: { cause: 'out-of-time', detail } });
    const { actions } = await mixedPlan(s);

    // Act
    await s.execute(actions);

    // Assess
    expect(s.coder.mutations).toEqual([]);
    expect(s.order).toEqual(['ledger forget 3', 'ledger confirm 4', 'ledger clear-missing']);
    for (const action of actions.filter((a) => a.kind === 'create-child' || a.kind === 'delete-child')) {
      expect(s.outcomeOf(action)).toEqual({ outcome: 'skipped', error: detail, stoppedBy: 'out-of-time' });
    }
    expect((await s.ledger.loadAll()).children.some((c) => c.index === 5)).toBe(false);
  });

  it('changes nothing at all once the family’s lock is lost, ledger included', async () => {
    // Prepare
    const detail = 'not started: the lock is gone';
    const s = setup({ stop: { cause: 'lock-lost', detail } });
    const { actions } = await mixedPlan(s);
    const before = await s.ledger.loadAll();

    // Act
    await s.execute(actions);

    // Assess
    expect(s.order).toEqual([]);
    expect(await s.ledger.loadAll()).toEqual(before);
    const mutations = actions.filter((a) => a !== conflict && a !== graceWait);
    for (const action of mutations) {
      expect(s.outcomeOf(action)).toEqual({ outcome: 'skipped', error: detail, stoppedBy: 'lock-lost' });
    }
    expect(s.outcomeOf(conflict)).toEqual({ outcome: 'conflict' });
  });

  it('keeps at most the bound of Coder mutations in flight, across families sharing it', async () => {
    // Prepare: builds that finish only when the test lets them.
    const s = setup({ bound: 2 });
    let inFlight = 0;
    let most = 0;
    const gates: Array<() => void> = [];
    s.coder.beforeTransition = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => gates.push(resolve));
      inFlight--;
    };
    const kids = [1, 2, 3, 4, 5].map((i) => workspace(`team-${i}`));
    s.coder.workspaces.push(...kids);
    const other = familyKey('alice', 'web');

    // Act
    const first = s.execute(kids.slice(0, 3).map((k, i) => build('delete-child', i + 1, k.id)));
    const second = executeFamilyPlan(
      s.ctx,
      other,
      kids.slice(3).map((k, i) => ({ ...build('delete-child', i + 4, k.id), family: other })),
      () => {},
    );
    let finished = false;
    const all = Promise.all([first, second]).then(() => {
      finished = true;
    });
    const inFlightSeen: number[] = [];
    while (!finished) {
      await settle();
      inFlightSeen.push(inFlight);
      gates.shift()?.();
    }
    await all;

    // Assess
    expect(inFlightSeen[0]).toBe(2);
    expect(Math.max(...inFlightSeen)).toBe(2);
    expect(most).toBe(2);
    expect(s.coder.mutations).toHaveLength(5);
  });

  describe('Coder’s answers to a build', () => {
    it.each<{ name: string; action: 'delete' | 'stop' | 'start'; error: unknown; expected: Settlement }>([
      {
        name: 'a build already active → skipped, retried next run',
        action: 'stop',
        error: new WorkspaceOpError('build_active', 'A workspace build is already active.'),
        expected: { outcome: 'skipped', error: 'a build is already active; retrying next run' },
      },
      {
        name: 'gone, on a delete → done',
        action: 'delete',
        error: new WorkspaceOpError('gone', 'gone'),
        expected: { outcome: 'done', error: 'already deleted' },
      },
      {
        name: 'not found, on a delete → done',
        action: 'delete',
        error: new WorkspaceOpError('not_found', 'not found'),
        expected: { outcome: 'done', error: 'already deleted' },
      },
      {
        name: 'gone, on a stop → skipped',
        action: 'stop',
        error: new WorkspaceOpError('gone', 'gone'),
        expected: { outcome: 'skipped', error: 'workspace is gone' },
      },
      {
        name: 'not found, on a start → skipped',
        action: 'start',
        error: new WorkspaceOpError('not_found', 'not found'),
        expected: { outcome: 'skipped', error: 'workspace is gone' },
      },
      {
        name: 'a deadline error from the port → skipped, out of time',
        action: 'delete',
        error: new DeadlineReachedError('deadline in 200 ms'),
        expected: {
          outcome: 'skipped',
          error: 'the run ran out of time during this step; the next run picks it up (deadline in 200 ms)',
          stoppedBy: 'out-of-time',
        },
      },
    ])('$name', async ({ action, error, expected }) => {
      // Prepare
      const s = setup();
      s.coder.beforeTransition = async () => {
        throw error;
      };
      const planned =
        action === 'stop'
          ? stop(1, 'c1')
          : build(action === 'delete' ? 'delete-child' : 'start-child', 1, 'c1');

      // Act
      await s.execute([planned]);

      // Assess
      expect(s.outcomeOf(planned)).toEqual(expected);
    });

    it.each([
      ['a permanent error', new WorkspaceOpError('permanent', 'forbidden')],
      ['a transient error', new WorkspaceOpError('transient', 'Coder answered 502')],
      ['an error of no known kind', new Error('socket hang up')],
    ])('fails on %s, keeping the error itself', async (_, error) => {
      const s = setup();
      s.coder.beforeTransition = async () => {
        throw error;
      };
      const planned = build('delete-child', 1, 'c1');

      await s.execute([planned]);

      expect(s.outcomeOf(planned)).toEqual({ outcome: 'failed', error });
    });
  });

  describe('creates', () => {
    it('writes the intent before the create and confirms the new id after', async () => {
      const s = setup();
      const planned = create(5);

      await s.execute([planned]);

      expect(s.order).toEqual(['ledger intent 5', 'coder create team-5', 'ledger confirm 5']);
      expect(s.outcomeOf(planned)).toEqual({ outcome: 'done' });
      const [record] = (await s.ledger.loadAll()).children;
      expect(record).toMatchObject({
        index: 5,
        childName: 'team-5',
        state: 'confirmed',
        runId: 'run-1',
        intentAt: NOW.getTime(),
        parentId: 'p',
      });
      expect(s.coder.workspaces.find((w) => w.id === record?.childId)?.name).toBe('team-5');
    });

    it('replaces the record of a child read back as deleted', async () => {
      const s = setup();
      await seedLedger(s.ledger, { children: [child('team', 5, 'old-5')] });

      await s.execute([create(5, 'old-5')]);

      const [record] = (await s.ledger.loadAll()).children;
      expect(record?.childId).toMatch(/^created-team-5/);
    });

    it('skips a create whose index another ledger record holds, without calling Coder', async () => {
      const s = setup();
      await seedLedger(s.ledger, { children: [child('team', 5, 'someone-elses-record')] });
      const planned = create(5);

      await s.execute([planned]);

      expect(s.outcomeOf(planned)).toEqual({
        outcome: 'skipped',
        error: 'another ledger record holds this child index; the next run re-plans it',
      });
      expect(s.coder.mutations).toEqual([]);
      expect((await s.ledger.loadAll()).children[0]?.childId).toBe('someone-elses-record');
    });

    it('returns a create that met a taken name as ambiguous, with the name read back, and decides nothing', async () => {
      // Prepare
      const s = setup();
      const holder = workspace('team-5', { build: { number: 1, initiatorId: 'bob' } });
      s.coder.workspaces.push(holder);
      const planned = create(5);

      // Act
      const ambiguous = await s.execute([planned]);

      // Assess
      expect(ambiguous).toHaveLength(1);
      expect(ambiguous[0]).toMatchObject({
        action: planned,
        intent: { index: 5, childName: 'team-5', state: 'intent', runId: 'run-1', intentAt: NOW.getTime() },
        holder: { state: 'present', workspace: holder },
      });
      expect(ambiguous[0]?.error).toBeInstanceOf(WorkspaceOpError);
      expect(s.settled).toEqual([]);
      expect(s.coder.calls).toContain('read name:alice/team-5');
      expect((await s.ledger.loadAll()).children).toEqual([
        expect.objectContaining({ index: 5, state: 'intent' }),
      ]);
    });

    it('reads the name back after a transient failure too (the create may have happened)', async () => {
      const s = setup();
      s.coder.beforeCreate = async () => {
        throw new WorkspaceOpError('transient', 'Coder answered 504');
      };

      const ambiguous = await s.execute([create(5)]);

      expect(ambiguous.map((a) => a.holder)).toEqual([{ state: 'vanished' }]);
      expect(s.settled).toEqual([]);
    });

    it('fails a create Coder refused, without reading the name back', async () => {
      const s = setup();
      const refusal = new WorkspaceOpError('permanent', 'parameter cpu is invalid');
      s.coder.beforeCreate = async () => {
        throw refusal;
      };
      const planned = create(5);

      const ambiguous = await s.execute([planned]);

      expect(ambiguous).toEqual([]);
      expect(s.outcomeOf(planned)).toEqual({ outcome: 'failed', error: refusal });
      expect(s.coder.calls.some((c) => c.startsWith('read '))).toBe(false);
    });

    it('stops cleanly on a deadline during the create, leaving the intent for the next run', async () => {
      const s = setup();
      s.coder.beforeCreate = async () => {
        throw new WorkspaceOpError('deadline', 'no time left for POST /workspaces');
      };
      const planned = create(5);

      const ambiguous = await s.execute([planned]);

      expect(ambiguous).toEqual([]);
      expect(s.outcomeOf(planned)).toMatchObject({ outcome: 'skipped', stoppedBy: 'out-of-time' });
      expect((await s.ledger.loadAll()).children).toEqual([
        expect.objectContaining({ index: 5, state: 'intent' }),
      ]);
    });
  });
});
