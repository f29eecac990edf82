import { describe, expect, it } from 'vitest';
import type { LogSink } from '../../../lambdas/core/contracts/log-sink.js';
import type { Settlement } from '../../../lambdas/core/families/executor.js';
import { InMemoryFamilyLedger } from '../../../lambdas/core/families/in-memory.js';
import {
  type FailureRecord,
  familyKey,
  type LedgerState,
  type PlannedAction,
} from '../../../lambdas/core/families/model.js';
import type { FamilyPlan } from '../../../lambdas/core/families/planner.js';
import { WorkspaceOpError } from '../../../lambdas/core/families/ports.js';
import {
  createActionRecorder,
  errorOrigin,
  type FamilyExecution,
  type ReportedAction,
  recordFamilyOutcome,
} from '../../../lambdas/core/families/record.js';
import { config, NOW, seedLedger } from './fixtures.js';

const family = familyKey('alice', 'team');

const recordingLog = () => {
  const lines: Array<{ level: keyof LogSink; message: string; extra: Record<string, unknown> | undefined }> =
    [];
  const at =
    (level: keyof LogSink) =>
    (message: string, extra?: Record<string, unknown>): void => {
      lines.push({ level, message, extra });
    };
  const log: LogSink = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
};

const deleteChild = (index: number): PlannedAction => ({
  kind: 'delete-child',
  family,
  index,
  childName: `team-${index}`,
  childId: `c${index}`,
  reason: `child ${index} is no longer wanted`,
});
const conflict: PlannedAction = {
  kind: 'report-conflict',
  family,
  index: 9,
  childName: 'team-9',
  holderId: 'h',
  reason: 'held by someone else',
};

/** An error as the Coder client raises it: the call behind it on the error. */
const httpError = (fields: Record<string, unknown>, message = 'Coder answered 503') =>
  Object.assign(new Error(message), fields);

describe('createActionRecorder', () => {
  const setup = (actions: PlannedAction[]) => {
    const { log, lines } = recordingLog();
    const announced: Array<{ family: unknown; action: ReportedAction }> = [];
    const recorder = createActionRecorder(family, actions, log, (f, action) =>
      announced.push({ family: f, action }),
    );
    return { recorder, lines, announced };
  };

  it('reports outcomes in plan order whatever order they settle in, leaving out what never settled', () => {
    // Prepare
    const actions = [deleteChild(1), deleteChild(2), deleteChild(3), deleteChild(4)];
    const { recorder } = setup(actions);

    // Act
    for (const i of [3, 0, 2]) recorder.settled(actions[i] as PlannedAction, { outcome: 'done' });
    const result = recorder.finish();

    // Assess
    expect(result.actions.map((a) => ('childId' in a ? a.childId : a.kind))).toEqual(['c1', 'c3', 'c4']);
    expect(result.actions.every((a) => a.outcome === 'done')).toBe(true);
  });

  it('counts failures toward the backoff, and only those not transient toward the hard limit', () => {
    // Prepare
    const actions = [1, 2, 3, 4, 5, 6].map(deleteChild);
    const { recorder } = setup(actions);
    const settlements: Settlement[] = [
      { outcome: 'done' },
      { outcome: 'failed', error: new WorkspaceOpError('transient', 'Coder answered 502') },
      { outcome: 'failed', error: new WorkspaceOpError('permanent', 'forbidden') },
      { outcome: 'failed', error: new Error('socket hang up') },
      { outcome: 'skipped', error: 'a build is already active; retrying next run' },
      { outcome: 'conflict', error: 'someone else holds it' },
    ];

    // Act
    settlements.forEach((settlement, i) => {
      recorder.settled(actions[i] as PlannedAction, settlement);
    });
    const result = recorder.finish();

    // Assess
    expect(result).toMatchObject({
      failed: 3,
      hardFailed: 2,
      firstError: 'Coder answered 502',
      stoppedBy: undefined,
    });
    expect(result.actions.map((a) => a.error)).toEqual([
      undefined,
      'Coder answered 502',
      'forbidden',
      'socket hang up',
      'a build is already active; retrying next run',
      'someone else holds it',
    ]);
  });

  it.each<{
    name: string;
    stops: Array<'out-of-time' | 'lock-lost' | undefined>;
    expected: string | undefined;
  }>([
    { name: 'nothing stopped', stops: [undefined, undefined], expected: undefined },
    { name: 'out of time', stops: [undefined, 'out-of-time'], expected: 'out-of-time' },
    { name: 'lock lost after out of time', stops: ['out-of-time', 'lock-lost'], expected: 'lock-lost' },
    { name: 'out of time after lock lost', stops: ['lock-lost', 'out-of-time'], expected: 'lock-lost' },
  ])('says why the family stopped: $name → $expected', ({ stops, expected }) => {
    const actions = stops.map((_, i) => deleteChild(i + 1));
    const { recorder } = setup(actions);

    stops.forEach((stop, i) => {
      recorder.settled(
        actions[i] as PlannedAction,
        stop ? { outcome: 'skipped', stoppedBy: stop } : { outcome: 'done' },
      );
    });
    const result = recorder.finish();

    expect(result.stoppedBy).toBe(expected);
    expect(result.actions.map((a) => a.stoppedBy)).toEqual(stops);
    expect(result.failed).toBe(0);
  });

  it('names the Coder call behind a failure, and only behind a failure', () => {
    const actions = [deleteChild(1), deleteChild(2)];
    const { recorder } = setup(actions);
    const error = new Error('delete failed', {
      cause: httpError({ method: 'POST', route: '/api/v2/workspaces/{id}/builds', status: 503, attempts: 3 }),
    });

    recorder.settled(actions[0] as PlannedAction, { outcome: 'failed', error });
    recorder.settled(actions[1] as PlannedAction, { outcome: 'skipped', error });
    const [failed, skipped] = recorder.finish().actions;

    expect(failed?.origin).toEqual({
      method: 'POST',
      route: '/api/v2/workspaces/{id}/builds',
      status: 503,
      attempts: 3,
    });
    expect(skipped).not.toHaveProperty('origin');
  });

  it('announces every settled action, with its family, the moment it settles, and logs it', () => {
    // Prepare
    const actions = [deleteChild(1), conflict, deleteChild(2)];
    const { recorder, announced, lines } = setup(actions);

    // Act
    recorder.settled(actions[2] as PlannedAction, { outcome: 'failed', error: new Error('boom') });
    recorder.settled(actions[1] as PlannedAction, { outcome: 'conflict' });
    recorder.settled(actions[0] as PlannedAction, { outcome: 'done' });

    // Assess
    expect(
      announced.map((a) => [
        a.family,
        'childName' in a.action ? a.action.childName : undefined,
        a.action.outcome,
      ]),
    ).toEqual([
      [family, 'team-2', 'failed'],
      [family, 'team-9', 'conflict'],
      [family, 'team-1', 'done'],
    ]);
    expect(announced[0]?.action).toMatchObject({ kind: 'delete-child', childId: 'c2', error: 'boom' });
    expect(lines.map((l) => [l.level, l.message, l.extra?.child])).toEqual([
      ['warn', 'family action failed', 'team-2'],
      ['warn', 'family action', 'team-9'],
      ['info', 'family action', 'team-1'],
    ]);
  });
});

describe('errorOrigin', () => {
  it.each<{ name: string; error: unknown; expected: unknown }>([
    {
      name: 'on the error itself',
      error: httpError({ method: 'GET', route: '/api/v2/workspaces', status: 500, attempts: 2 }),
      expected: { method: 'GET', route: '/api/v2/workspaces', status: 500, attempts: 2 },
    },
    {
      name: 'two causes down',
      error: new Error('settling team-2', {
        cause: new WorkspaceOpError('transient', 'create failed', {
          cause: httpError({ route: '/api/v2/organizations/{org}/members/{user}/workspaces', status: 502 }),
        }),
      }),
      expected: { route: '/api/v2/organizations/{org}/members/{user}/workspaces', status: 502 },
    },
    {
      name: 'the outermost call wins',
      error: Object.assign(new Error('outer', { cause: httpError({ route: '/inner' }) }), {
        route: '/outer',
      }),
      expected: { route: '/outer' },
    },
    {
      name: 'fields of the wrong type are left out',
      error: httpError({ route: '/api/v2/users/me', status: '503', attempts: null, method: 7 }),
      expected: { route: '/api/v2/users/me' },
    },
    { name: 'no route anywhere', error: new Error('a', { cause: new Error('b') }), expected: undefined },
    { name: 'not an error', error: { route: '/api/v2/workspaces' }, expected: undefined },
    { name: 'a string', error: 'Coder answered 503', expected: undefined },
  ])('$name', ({ error, expected }) => {
    expect(errorOrigin(error)).toEqual(expected);
  });

  it('ends on a cause chain that loops back on itself', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as Error & { cause?: unknown }).cause = b;

    expect(errorOrigin(a)).toBeUndefined();
  });
});

describe('recordFamilyOutcome', () => {
  /** A family's plan; its parent's latest build is build-7 unless the parent is gone. */
  const plan = (actions: PlannedAction[], parent: 'alive' | 'gone' = 'alive'): FamilyPlan => ({
    family,
    actions,
    parentBuildId: parent === 'alive' ? 'build-7' : undefined,
    reads: [],
    needsParameters: false,
  });
  const execution = (failed: number, hardFailed: number, firstError?: string): FamilyExecution => ({
    actions: [],
    failed,
    hardFailed,
    firstError,
    stoppedBy: undefined,
  });
  const streak = (consecutive: number, hard: number, parentBuildId = 'build-7'): FailureRecord => ({
    owner: 'alice',
    parent: 'team',
    consecutive,
    hard,
    lastFailureAt: NOW.getTime() - 600_000,
    parentBuildId,
    lastError: 'earlier',
  });
  const setup = async (failures: FailureRecord[] = []) => {
    const ledger = await seedLedger(new InMemoryFamilyLedger(), { failures });
    const deps = { ledger, now: () => NOW, config: config({ failureCap: 2 }) };
    const { log, lines } = recordingLog();
    const snapshot: LedgerState = await ledger.loadAll();
    return { ledger, deps, log, lines, snapshot };
  };

  it('records a failed run: the time, whether it was hard, the parent build and the first error', async () => {
    const { ledger, deps, log, lines, snapshot } = await setup();

    const outcome = await recordFamilyOutcome(
      deps,
      plan([deleteChild(1)]),
      snapshot,
      execution(1, 1, 'forbidden'),
      log,
    );

    expect(outcome).toEqual({ hardLimited: false });
    expect((await ledger.loadAll()).failures).toEqual([
      {
        owner: 'alice',
        parent: 'team',
        consecutive: 1,
        hard: 1,
        lastFailureAt: NOW.getTime(),
        parentBuildId: 'build-7',
        lastError: 'forbidden',
      },
    ]);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });

  it('keeps the parent build of the streak when the parent is gone', async () => {
    const { ledger, deps, log, snapshot } = await setup([streak(1, 0, 'build-3')]);

    await recordFamilyOutcome(deps, plan([deleteChild(1)], 'gone'), snapshot, execution(1, 0, 'x'), log);

    expect((await ledger.loadAll()).failures[0]?.parentBuildId).toBe('build-3');
  });

  it('reports the family hard-limited when its hard failures reach the cap', async () => {
    const { ledger, deps, log, lines, snapshot } = await setup([streak(1, 1)]);

    const outcome = await recordFamilyOutcome(
      deps,
      plan([deleteChild(1)]),
      snapshot,
      execution(2, 1, 'x'),
      log,
    );

    expect(outcome).toEqual({ hardLimited: true });
    expect((await ledger.loadAll()).failures[0]).toMatchObject({ consecutive: 2, hard: 2 });
    expect(lines.map((l) => [l.level, l.extra])).toEqual([['error', { failures: 2, cap: 2 }]]);
  });

  it('never hard-limits a family on transient failures, however many in a row', async () => {
    const { ledger, deps, log } = await setup();

    const outcomes = [];
    for (let run = 0; run < 5; run++) {
      const snapshot = await ledger.loadAll();
      outcomes.push(
        await recordFamilyOutcome(deps, plan([deleteChild(1)]), snapshot, execution(1, 0, 'x'), log),
      );
    }

    expect(outcomes.every((o) => !o.hardLimited)).toBe(true);
    expect((await ledger.loadAll()).failures[0]).toMatchObject({ consecutive: 5, hard: 0 });
  });

  it('clears an earlier streak after a clean run that changed something', async () => {
    const { ledger, deps, log, snapshot } = await setup([streak(2, 1)]);

    await recordFamilyOutcome(deps, plan([deleteChild(1)]), snapshot, execution(0, 0), log);

    expect((await ledger.loadAll()).failures).toEqual([]);
  });

  it('keeps the streak after a clean run that changed nothing', async () => {
    const { ledger, deps, log, snapshot } = await setup([streak(2, 1)]);

    await recordFamilyOutcome(deps, plan([conflict]), snapshot, execution(0, 0), log);

    expect((await ledger.loadAll()).failures).toEqual([streak(2, 1)]);
  });

  it('logs a ledger that cannot record, without failing the run', async () => {
    const { ledger, deps, log, lines, snapshot } = await setup();
    ledger.recordFailure = async () => {
      throw new Error('ProvisionedThroughputExceeded');
    };

    const outcome = await recordFamilyOutcome(
      deps,
      plan([deleteChild(1)]),
      snapshot,
      execution(1, 1, 'x'),
      log,
    );

    expect(outcome).toEqual({ hardLimited: false });
    expect(lines).toEqual([
      {
        level: 'error',
        message: 'could not record the family outcome in the ledger',
        extra: { error: 'ProvisionedThroughputExceeded' },
      },
    ]);
  });
});
