/**
 * Pacing by Coder's provisioners (pacing.ts): the allowance from the daemons that can take the
 * templates' jobs, the budget that lets removals go first, and a run that stops queueing at the
 * cap and says so.
 */
import { describe, expect, it } from 'vitest';
import { DeadlineReachedError, NO_DEADLINE } from '../../../lambdas/core/contracts/deadline.js';
import { JobBudget, planJobAllowance, RunPacing } from '../../../lambdas/core/families/pacing.js';
import type { ProvisionerCapacity } from '../../../lambdas/core/families/provisioner-capacity.js';
import { reconcileFamilies } from '../../../lambdas/core/families/run.js';
import { CONTROLLER, child, config, MemoryCoder, memoryRun, seedLedger, workspace } from './fixtures.js';

const capacity = (overrides: Partial<ProvisionerCapacity> = {}): ProvisionerCapacity => ({
  observedAt: 0,
  onlineDaemons: 10,
  busyDaemons: 0,
  templates: [],
  controllerJobs: { pending: 0, running: 0, complete: true },
  queued: 0,
  othersOldestPendingMs: undefined,
  oldestPendingMs: undefined,
  queueSampled: false,
  ...overrides,
});

const create = { kind: 'create-child' as const };
/** A whole create action, as the planner makes one. */
const createAction = {
  ...create,
  family: { owner: 'a', parent: 'p' },
  index: 1,
  childName: 'p-1',
  ownerName: 'a',
  organizationId: 'o',
  templateId: 't',
  parentId: 'p',
  parameters: [],
  reason: '',
};
const remove = { kind: 'delete-child' as const };
const stop = { kind: 'stop-child' as const };

describe('planJobAllowance', () => {
  it.each([
    {
      name: 'half of the matching daemons, less the jobs in flight',
      capacity: capacity({ onlineDaemons: 40, controllerJobs: { pending: 12, running: 3, complete: true } }),
      snapshot: 0,
      expected: { cap: 20, active: 15, allowed: 5, noProvisioner: false },
    },
    {
      name: 'the snapshot counts more jobs than Coder listed: the larger count',
      capacity: capacity({ onlineDaemons: 40, controllerJobs: undefined }),
      snapshot: 18,
      expected: { cap: 20, active: 18, allowed: 2 },
    },
    {
      name: 'at least one job with one daemon',
      capacity: capacity({ onlineDaemons: 1 }),
      snapshot: 0,
      expected: { cap: 1, allowed: 1 },
    },
    {
      name: 'over the cap already: none',
      capacity: capacity({ onlineDaemons: 4, controllerJobs: { pending: 9, running: 2, complete: true } }),
      snapshot: 0,
      expected: { cap: 2, active: 11, allowed: 0 },
    },
    {
      name: 'no daemon can take the jobs: nothing, and why',
      capacity: capacity({ onlineDaemons: 0 }),
      snapshot: 0,
      expected: { cap: 0, allowed: 0, noProvisioner: true },
    },
    {
      name: 'Coder could not be read: one run of mutations at most',
      capacity: undefined,
      snapshot: 3,
      expected: { cap: 8, active: 3, allowed: 5, daemons: undefined },
    },
  ])('$name', ({ capacity: read, snapshot, expected }) => {
    expect(planJobAllowance(config(), read, snapshot)).toMatchObject(expected);
  });

  it('takes a fixed maxJobs instead of the share, and says which it used', () => {
    const allowance = planJobAllowance(
      config({ pacing: { maxJobs: 3 } }),
      capacity({ onlineDaemons: 40 }),
      1,
    );
    expect(allowance).toMatchObject({ cap: 3, allowed: 2 });
    expect(allowance.reason).toMatch(/pacing\.maxJobs is 3/);
    expect(planJobAllowance(config(), capacity({ onlineDaemons: 40 }), 1).reason).toMatch(
      /50% of the 40 online daemons/,
    );
  });
});

describe('JobBudget', () => {
  const allowance = (allowed: number) =>
    planJobAllowance(config({ pacing: { maxJobs: allowed } }), capacity(), 0);

  it('keeps slots for the planned removals, whichever family asks first', () => {
    // Prepare: 3 slots, 2 removals planned.
    const budget = new JobBudget(allowance(3), 2);
    // Act / Assess: a create may take only the one slot no removal waits for.
    expect(budget.take(create)).toBe(true);
    expect(budget.take(create)).toBe(false);
    expect(budget.take(remove)).toBe(true);
    expect(budget.take(stop)).toBe(true);
    expect(budget.take(remove)).toBe(false);
    expect(budget.turnedAway).toBe(2);
  });

  it('lets creates have a slot a removal gave up', () => {
    const budget = new JobBudget(allowance(1), 1);
    expect(budget.take(create)).toBe(false);
    budget.releaseRemoval();
    expect(budget.take(create)).toBe(true);
  });

  it('never limits an action that queues no job', () => {
    const budget = new JobBudget(planJobAllowance(config(), capacity({ onlineDaemons: 0 }), 0), 0);
    expect(budget.take({ kind: 'forget-child' })).toBe(true);
    expect(budget.take({ kind: 'adopt-child' })).toBe(true);
    expect(budget.turnedAway).toBe(0);
  });
});

describe('RunPacing', () => {
  const parts = (read: () => Promise<ProvisionerCapacity>, failures: unknown[] = []) => ({
    config: config(),
    read,
    readFailed: (error: unknown) => failures.push(error),
    plannedRemovals: () => 0,
    activeInSnapshot: () => 0,
  });

  it('reads the provisioners once, and only when some action queues a job', async () => {
    let reads = 0;
    const pacing = new RunPacing(
      parts(async () => {
        reads++;
        return capacity({ onlineDaemons: 2 });
      }),
    );
    await pacing.ready([
      { kind: 'forget-child', family: { owner: 'a', parent: 'p' }, index: 1, childName: 'p-1', reason: '' },
    ]);
    expect(reads).toBe(0);
    expect(pacing.report()).toBeUndefined();
    await Promise.all([pacing.ready([createAction]), pacing.ready([createAction])]);
    expect(reads).toBe(1);
    expect(pacing.mayQueue(createAction)).toBeUndefined();
    expect(pacing.mayQueue(createAction)).toMatchObject({ cause: 'provisioner-cap' });
    expect(pacing.report()).toMatchObject({ cap: 1, allowed: 1, turnedAway: 1 });
  });

  it('paces conservatively when the provisioners cannot be read, and stops cleanly at the deadline', async () => {
    const failures: unknown[] = [];
    const broken = new RunPacing(
      parts(async () => {
        throw new Error('403 Forbidden');
      }, failures),
    );
    await broken.ready([createAction]);
    expect(failures).toHaveLength(1);
    expect(broken.report()).toMatchObject({ cap: 8, daemons: undefined });

    const late = new RunPacing(
      parts(async () => {
        throw new DeadlineReachedError('out of time');
      }),
    );
    await expect(late.ready([createAction])).rejects.toBeInstanceOf(DeadlineReachedError);
  });
});

describe('a reconcile paced by the provisioners', () => {
  const fleet = async (read: ProvisionerCapacity) => {
    const coder = new MemoryCoder();
    coder.parent(workspace('team'), { additional_workspaces: '5' });
    const shrinking = coder.parent(workspace('lab'), { additional_workspaces: '0' });
    const kid = workspace('lab-1', { build: { number: 1, initiatorId: CONTROLLER } });
    coder.workspaces.push(kid);
    const run = memoryRun(coder);
    await seedLedger(run.ledger, { children: [child('lab', 1, kid.id, { parentId: shrinking.id })] });
    return { run: { ...run, deps: { ...run.deps, capacity: { read: async () => read } } }, coder };
  };

  it('queues the removal first, then creates up to the cap, and reports the rest for the next run', async () => {
    // Prepare: 4 daemons (a cap of 2), one child to delete, five to create.
    const { run, coder } = await fleet(capacity({ onlineDaemons: 4 }));

    // Act
    const report = await reconcileFamilies(run.deps, {
      scope: { kind: 'all' },
      dryRun: false,
      trigger: 'schedule',
      deadline: NO_DEADLINE,
    });

    // Assess
    expect(coder.calls.filter((c) => /^(create|delete|stop|start) /.test(c))).toEqual([
      expect.stringMatching(/^delete ws-lab-1-/),
      'create alice/team-1',
    ]);
    expect(report.actions.filter((a) => a.stoppedBy === 'provisioner-cap')).toHaveLength(4);
    expect(report.incomplete).toMatchObject({ reason: 'provisioner-cap', familiesLeft: 1 });
    expect(report.incomplete?.detail).toMatch(/4 jobs of 1 family left for the next run/);
    expect(report.pacing).toMatchObject({ cap: 2, daemons: 4, allowed: 2, turnedAway: 4 });
    expect(report.failures).toBe(0);
    // Not a failure of the family: no failure record, so no backoff.
    expect(run.ledger.failures.size).toBe(0);
  });

  it('queues nothing when no daemon can take the jobs, and says why', async () => {
    const { run, coder } = await fleet(capacity({ onlineDaemons: 0 }));
    const report = await reconcileFamilies(run.deps, {
      scope: { kind: 'all' },
      dryRun: false,
      trigger: 'schedule',
      deadline: NO_DEADLINE,
    });
    expect(coder.calls.filter((c) => /^(create|delete|stop|start) /.test(c))).toEqual([]);
    expect(report.incomplete).toMatchObject({ reason: 'no-provisioner' });
    expect(report.incomplete?.detail).toMatch(/no online provisioner daemon can take/);
  });

  it('reads nothing in a steady state', async () => {
    const coder = new MemoryCoder();
    coder.parent(workspace('solo'), { additional_workspaces: '0' });
    const run = memoryRun(coder);
    let reads = 0;
    const report = await reconcileFamilies(
      {
        ...run.deps,
        capacity: {
          read: async () => {
            reads++;
            return capacity();
          },
        },
      },
      { scope: { kind: 'all' }, dryRun: false, trigger: 'schedule', deadline: NO_DEADLINE },
    );
    expect(reads).toBe(0);
    expect(report.pacing).toBeUndefined();
  });
});

describe('continuations: the families a paced run carries over', () => {
  /** Five families of one owner, each missing both children; a cap of 2 (4 daemons). */
  const pacedFleet = (daemons: number, overrides: Parameters<typeof memoryRun>[1] = {}) => {
    const coder = new MemoryCoder();
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      coder.parent(workspace(name), { additional_workspaces: '2' });
    // One family at a time, so which family gets the slots is certain.
    const run = memoryRun(coder, { createConcurrency: 1, ...overrides });
    const acquired: string[] = [];
    const tryAcquire = run.locks.tryAcquire.bind(run.locks);
    run.locks.tryAcquire = async (key, holder, leaseMs, now) => {
      acquired.push(key);
      return tryAcquire(key, holder, leaseMs, now);
    };
    const deps = { ...run.deps, capacity: { read: async () => capacity({ onlineDaemons: daemons }) } };
    return { coder, run, deps, acquired };
  };
  const schedule = {
    scope: { kind: 'all' as const },
    dryRun: false,
    trigger: 'schedule' as const,
    deadline: NO_DEADLINE,
  };
  const creates = (coder: MemoryCoder) => coder.calls.filter((c) => c.startsWith('create '));

  it('passes over the families it has no slot for without locking them, and names them for a continuation', async () => {
    const { coder, deps, acquired } = pacedFleet(4);

    const report = await reconcileFamilies(deps, schedule);

    expect(creates(coder)).toEqual(['create alice/a-1', 'create alice/a-2']);
    // Only the family that got the slots was locked; the other four were refused without a lease.
    expect(acquired).toHaveLength(1);
    expect(report.actions.filter((a) => a.stoppedBy === 'provisioner-cap')).toHaveLength(8);
    expect(report.pacing).toMatchObject({ cap: 2, allowed: 2, turnedAway: 8 });
    expect(report.incomplete).toMatchObject({ reason: 'provisioner-cap', familiesLeft: 4 });
    expect(report.continuation).toEqual({
      afterSeconds: 10,
      families: ['b', 'c', 'd', 'e'].map((parent) => ({ owner: 'alice', parent })),
    });
  });

  it('a continuation reads the carried families in order until the cap, and carries the rest on', async () => {
    const { coder, deps } = pacedFleet(4);
    const first = await reconcileFamilies(deps, schedule);
    coder.calls.length = 0;

    const next = await reconcileFamilies(deps, {
      scope: { kind: 'families', families: first.continuation?.families ?? [] },
      dryRun: false,
      trigger: 'continuation',
      deadline: NO_DEADLINE,
    });

    // This memory Coder finishes builds at once, so the continuation has the whole cap again:
    // family b takes it; c, d and e are not even read, the budget being spent before them.
    expect(creates(coder)).toEqual(['create alice/b-1', 'create alice/b-2']);
    expect(coder.calls.filter((c) => c.startsWith('list '))).toEqual(['list alice']);
    expect(next.continuation?.families).toEqual(
      ['c', 'd', 'e'].map((parent) => ({ owner: 'alice', parent })),
    );
    expect(next.incomplete).toMatchObject({ reason: 'provisioner-cap', familiesLeft: 3 });
  });

  it('asks for no continuation in a dry run, without a daemon, or when continuations are off', async () => {
    const dry = pacedFleet(4);
    expect((await reconcileFamilies(dry.deps, { ...schedule, dryRun: true })).continuation).toBeUndefined();
    const none = pacedFleet(0);
    const noDaemon = await reconcileFamilies(none.deps, schedule);
    expect(noDaemon.incomplete?.reason).toBe('no-provisioner');
    expect(noDaemon.continuation).toBeUndefined();
    const off = pacedFleet(4, { pacing: { daemonShare: 0.5, continueAfterSeconds: 0 } });
    const report = await reconcileFamilies(off.deps, schedule);
    expect(report.incomplete?.reason).toBe('provisioner-cap');
    expect(report.continuation).toBeUndefined();
  });
});
