import { describe, expect, it } from 'vitest';
import { type Deadline, DeadlineReachedError } from '../../../lambdas/core/contracts/deadline.js';
import type { FamiliesConfigInput } from '../../../lambdas/core/families/config.js';
import { type FamilyLocks, WorkspaceOpError } from '../../../lambdas/core/families/ports.js';
import {
  type ReconcileReport,
  type ReconcileRequest,
  reconcileFamilies,
  UnknownTemplatesError,
} from '../../../lambdas/core/families/run.js';
import { CONTROLLER, child, MemoryCoder, memoryRun, NOW, seedLedger, workspace } from './fixtures.js';

const all: ReconcileRequest = { scope: { kind: 'all' }, dryRun: false, trigger: 'schedule' };
const TEAM_LOCK = 'family#alice/team';

const outcomes = (report: ReconcileReport): string[] =>
  report.actions.map((a) => `${a.kind}${'childName' in a ? ` ${a.childName}` : ''}: ${a.outcome}`);

/**
 * Alice's `team` asks for `count` children and has child 1; her `web` asks for 1 and has it. Every
 * lock call, the ledger's owner reads and each Coder mutation land in `order`.
 */
const world = async (options: { count?: number; config?: Partial<FamiliesConfigInput> } = {}) => {
  const coder = new MemoryCoder();
  const parent = coder.parent(workspace('team'), {
    additional_workspaces: String(options.count ?? 2),
    cpu: '2',
  });
  const web = coder.parent(workspace('web'), { additional_workspaces: '1' });
  const team1 = workspace('team-1');
  const web1 = workspace('web-1');
  coder.workspaces.push(team1, web1);
  const run = memoryRun(coder, options.config);
  await seedLedger(run.ledger, {
    children: [
      child('team', 1, team1.id, { parentId: parent.id }),
      child('web', 1, web1.id, { parentId: web.id }),
    ],
  });

  const order: string[] = [];
  const locks = {
    tryAcquire: async (...args: Parameters<FamilyLocks['tryAcquire']>) => {
      order.push(`lock ${args[0]}`);
      return run.locks.tryAcquire(...args);
    },
    renew: async (...args: Parameters<FamilyLocks['renew']>) => run.locks.renew(...args),
    release: async (...args: Parameters<FamilyLocks['release']>) => {
      order.push(`release ${args[0]}`);
      return run.locks.release(...args);
    },
  } satisfies FamilyLocks;
  const loadOwner = run.ledger.loadOwner.bind(run.ledger);
  run.ledger.loadOwner = async (owner) => {
    order.push(`ledger ${owner}`);
    return loadOwner(owner);
  };
  const create = coder.createWorkspace.bind(coder);
  coder.createWorkspace = async (input, call) => {
    order.push(`create ${input.name}`);
    return create(input, call);
  };
  const transition = coder.transition.bind(coder);
  coder.transition = async (id, to, call) => {
    order.push(`${to} ${id}`);
    return transition(id, to, call);
  };
  const deps = { ...run.deps, locks };
  return {
    ...run,
    deps,
    order,
    parent,
    team1,
    reconcile: (request: ReconcileRequest = all) => reconcileFamilies(deps, request),
  };
};

describe('reconcileFamilies', () => {
  it('takes no lock and changes nothing in a steady state', async () => {
    // Prepare
    const w = await world({ count: 1 });

    // Act
    const report = await w.reconcile();

    // Assess
    expect(report.actions).toEqual([]);
    expect(report.families).toBe(2);
    expect(w.order).toEqual([]);
    expect(w.coder.mutations).toEqual([]);
    expect(report).toMatchObject({ view: 'complete', skippedLocked: [], lockLost: [], failures: 0 });
    expect(report.incomplete).toBeUndefined();
  });

  it('locks a family with changes, re-checks its ledger, executes, then releases the lock', async () => {
    // Prepare
    const w = await world();

    // Act
    const report = await w.reconcile();

    // Assess
    expect(w.order).toEqual([`lock ${TEAM_LOCK}`, 'ledger alice', 'create team-2', `release ${TEAM_LOCK}`]);
    expect(outcomes(report)).toEqual(['create-child team-2: done']);
    expect(report.summary).toMatchObject({ childrenMissing: 1, created: 1, removed: 0 });
    expect(w.locks.holderOf(TEAM_LOCK)).toBeUndefined();
    expect(w.timers.active).toBe(0);
    const team = (await w.ledger.loadOwner('alice')).children.filter((c) => c.parent === 'team');
    expect(team.map((c) => [c.index, c.state])).toEqual([
      [1, 'confirmed'],
      [2, 'confirmed'],
    ]);
  });

  it('acts on the re-checked plan when another run changed the family before the lock', async () => {
    // Prepare: between this run's snapshot and its lock, another run creates and records child 2.
    const w = await world();
    const locks = w.deps.locks;
    const raced = {
      ...locks,
      tryAcquire: async (...args: Parameters<FamilyLocks['tryAcquire']>) => {
        const created = await w.coder.createWorkspace(
          { organizationId: 'org', ownerName: 'alice', name: 'team-2', templateId: 'tpl', parameters: [] },
          { deadline: { remainingMs: () => 1e9 } },
        );
        await seedLedger(w.ledger, { children: [child('team', 2, created.id, { parentId: w.parent.id })] });
        return locks.tryAcquire(...args);
      },
    };

    // Act
    const report = await reconcileFamilies({ ...w.deps, locks: raced }, all);

    // Assess: the only create is the other run's.
    expect(w.order.filter((o) => o.startsWith('create '))).toEqual(['create team-2']);
    expect(report.actions).toEqual([]);
    expect(w.coder.calls).toContain('list alice');
  });

  it('skips a family another run holds, for the webhook worker to retry', async () => {
    const w = await world();
    await w.locks.tryAcquire(TEAM_LOCK, 'other-run', 60_000, NOW.getTime());

    const report = await w.reconcile();

    expect(report.skippedLocked).toEqual(['alice/team']);
    expect(report.actions).toEqual([]);
    expect(w.coder.mutations).toEqual([]);
    expect(w.locks.holderOf(TEAM_LOCK)).toBe('other-run');
  });

  it('stops a family whose lease is lost mid-run: the rest is skipped, reported, and no failure recorded', async () => {
    // Prepare: three creates, one at a time; during the first, the renewal finds the lock taken
    // and the create then fails.
    const w = await world({ count: 4, config: { createConcurrency: 1 } });
    const deps = { ...w.deps, locks: { ...w.deps.locks, renew: async () => false } };
    w.coder.beforeCreate = async () => {
      if (w.coder.mutations.length > 1) return;
      await w.timers.tick();
      throw new WorkspaceOpError('permanent', 'template version is archived');
    };

    // Act
    const report = await reconcileFamilies(deps, all);

    // Assess
    expect(outcomes(report)).toEqual([
      'create-child team-2: failed',
      'create-child team-3: skipped',
      'create-child team-4: skipped',
    ]);
    expect(report.actions.slice(1).map((a) => a.stoppedBy)).toEqual(['lock-lost', 'lock-lost']);
    expect(report.actions[1]?.error).toMatch(/another run took the family lock/);
    expect(report.lockLost).toEqual(['alice/team']);
    expect(w.coder.mutations).toEqual(['create alice/team-2']);
    expect((await w.ledger.loadAll()).failures).toEqual([]);
    expect(report.failures).toBe(1);
  });

  it('leaves the families it has no time to start for the next run, and says how many', async () => {
    // Prepare: two families need a child each; the run's time runs short during the first create.
    const w = await world({ config: { createConcurrency: 1 } });
    w.coder.parent(workspace('api'), { additional_workspaces: '1' });
    let left = 60_000;
    const deadline: Deadline = { remainingMs: () => left };
    w.coder.beforeCreate = async () => {
      left = 1_500;
    };

    // Act
    const report = await w.reconcile({ ...all, deadline });

    // Assess
    expect(w.order.filter((o) => o.startsWith('lock '))).toEqual(['lock family#alice/api']);
    expect(outcomes(report)).toEqual(['create-child api-1: done']);
    expect(report.incomplete).toMatchObject({ reason: 'deadline', familiesLeft: 1 });
    expect(report.incomplete?.detail).toMatch(/1 family left for the next run/);
  });

  it('leaves a family for the next run when its time runs out inside it, and releases its lock', async () => {
    // Prepare: the family's ledger moved before the lock, so it is re-read, and that read is out of time.
    const w = await world();
    const locks = w.deps.locks;
    let lists = 0;
    w.coder.beforeList = async () => {
      if (++lists > 1) throw new DeadlineReachedError('no time left to list alice’s workspaces');
    };
    const deps = {
      ...w.deps,
      locks: {
        ...locks,
        tryAcquire: async (...args: Parameters<FamilyLocks['tryAcquire']>) => {
          await w.ledger.setParentMissing({ owner: 'alice', parent: 'team' }, NOW.getTime());
          return locks.tryAcquire(...args);
        },
      },
    };

    // Act
    const report = await reconcileFamilies(deps, all);

    // Assess
    expect(report.incomplete).toMatchObject({ reason: 'deadline', familiesLeft: 1 });
    expect(report.actions).toEqual([]);
    expect(w.coder.mutations).toEqual([]);
    expect(w.order.at(-1)).toBe(`release ${TEAM_LOCK}`);
    expect(w.locks.holderOf(TEAM_LOCK)).toBeUndefined();
  });

  it('leaves a hard-limited family alone without locking it, and counts it', async () => {
    const w = await world();
    await seedLedger(w.ledger, {
      failures: [
        {
          owner: 'alice',
          parent: 'team',
          consecutive: 3,
          hard: 3,
          lastFailureAt: NOW.getTime() - 3_600_000,
          parentBuildId: w.parent.latestBuild.id,
          lastError: 'forbidden',
        },
      ],
    });

    const report = await w.reconcile();

    expect(outcomes(report)).toEqual(['hard-limit-skip: skipped']);
    expect(report.summary.hardLimited).toBe(1);
    expect(w.order).toEqual([]);
  });

  it('stops cleanly when out of time while reading, not knowing how many families are left', async () => {
    const w = await world();
    w.coder.beforeList = async () => {
      throw new DeadlineReachedError('no time left to list workspaces');
    };

    const report = await w.reconcile();

    expect(report.incomplete).toMatchObject({ reason: 'deadline', familiesLeft: undefined });
    expect(report.incomplete?.detail).toContain('no time left to list workspaces');
    expect(report.actions).toEqual([]);
    expect(w.order).toEqual([]);
  });

  it('fails on a configured template Coder does not have, having changed nothing', async () => {
    // Prepare
    const w = await world();
    w.coder.templates = ['dev-renamed'];
    const before = await w.ledger.loadAll();

    // Act
    const outcome = w.reconcile();

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(UnknownTemplatesError);
    await expect(outcome).rejects.toThrow(/^"dev": no such template in Coder \(it has "dev-renamed"\)/);
    expect(w.order).toEqual([]);
    expect(w.coder.calls.filter((c) => c.startsWith('list'))).toEqual([]);
    expect(await w.ledger.loadAll()).toEqual(before);
  });

  it('creates but removes nothing on a partial view, and says the view was partial', async () => {
    // Prepare: team asks for 2, has 1 and 3 (both listed); the list moves on every re-read.
    const w = await world();
    const team3 = workspace('team-3');
    w.coder.workspaces.push(team3);
    await seedLedger(w.ledger, { children: [child('team', 3, team3.id, { parentId: w.parent.id })] });
    w.coder.complete = false;

    // Act
    const report = await w.reconcile();

    // Assess
    expect(report.view).toBe('partial');
    expect(outcomes(report)).toEqual(['removal-deferred team-3: skipped', 'create-child team-2: done']);
    expect(report.actions[0]).toMatchObject({ deferred: 'delete-child', cause: 'partial-view' });
    expect(w.coder.mutations).toEqual(['create alice/team-2']);
    expect(report.summary.removed).toBe(0);
  });

  it('tells its progress in order: the snapshot, the changes planned, each action as it settles', async () => {
    // Prepare: team asks for 3; child 3's name is someone else's.
    const w = await world({ count: 3 });
    w.coder.workspaces.push(workspace('team-3', { build: { number: 1, initiatorId: 'bob' } }));

    // Act
    const report = await w.reconcile();

    // Assess
    const events = w.events.filter((e) => e.kind !== 'parameters-read');
    expect(events).toEqual([
      { kind: 'snapshot-read', families: 2, workspaces: 5 },
      { kind: 'changes-planned', families: 1, actions: 1 },
      {
        kind: 'action-settled',
        family: { owner: 'alice', parent: 'team' },
        action: expect.objectContaining({
          kind: 'report-conflict',
          childName: 'team-3',
          outcome: 'conflict',
        }),
      },
      {
        kind: 'action-settled',
        family: { owner: 'alice', parent: 'team' },
        action: expect.objectContaining({ kind: 'create-child', childName: 'team-2', outcome: 'done' }),
      },
    ]);
    expect(w.events.findIndex((e) => e.kind === 'parameters-read')).toBeLessThan(
      w.events.findIndex((e) => e.kind === 'snapshot-read'),
    );
    expect(report.conflicts).toBe(1);
  });

  describe('planning for another time', () => {
    /** Team's parent was deleted 5 minutes ago; its grace period is 10 minutes. */
    const goneParent = async () => {
      const w = await world();
      w.coder.workspaces = w.coder.workspaces.filter((ws) => ws.id !== w.parent.id);
      w.coder.deleted = [w.parent];
      await seedLedger(w.ledger, {
        missing: [{ owner: 'alice', parent: 'team', since: NOW.getTime() - 300_000 }],
      });
      return w;
    };
    const later = new Date(NOW.getTime() + 600_000).toISOString();

    it('plans a dry run for the time it is given, taking no lock and changing nothing', async () => {
      const w = await goneParent();
      const before = await w.ledger.loadAll();

      const now = await w.reconcile({ ...all, dryRun: true });
      const then = await w.reconcile({ ...all, dryRun: true, at: later });

      expect(outcomes(now)).toEqual(['grace-wait: skipped']);
      expect(outcomes(then)).toEqual(['delete-child team-1: planned']);
      expect(then).toMatchObject({ dryRun: true, at: later });
      expect(now.at).toBeUndefined();
      expect(w.order).toEqual([]);
      expect(w.coder.mutations).toEqual([]);
      expect(await w.ledger.loadAll()).toEqual(before);
    });

    it('plans a real run for now, whatever time it is given', async () => {
      const w = await goneParent();

      const report = await w.reconcile({ ...all, at: later });

      expect(outcomes(report)).toEqual(['grace-wait: skipped']);
      expect(report.at).toBeUndefined();
      expect(w.coder.mutations).toEqual([]);
    });
  });

  describe('a create that meets a taken name', () => {
    /** Team asks for 2; a workspace named team-2 exists but is missing from the list. */
    const taken = async (initiator: string, controller: 'known' | 'unknown' = 'known') => {
      const w = await world();
      const holder = workspace('team-2', { build: { number: 1, initiatorId: initiator } });
      w.coder.unlisted = [holder];
      w.coder.controller = controller === 'known' ? CONTROLLER : undefined;
      return { ...w, holder };
    };

    it('adopts a holder the controller created (its answer was lost)', async () => {
      const w = await taken(CONTROLLER);

      const report = await w.reconcile();

      expect(outcomes(report)).toEqual(['create-child team-2: done']);
      expect(report.actions[0]?.error).toMatch(/^created \(confirmed by reading it back after: /);
      const record = (await w.ledger.loadOwner('alice')).children.find(
        (c) => c.parent === 'team' && c.index === 2,
      );
      expect(record).toMatchObject({ state: 'confirmed', childId: w.holder.id });
    });

    it('reports someone else’s holder as a conflict and drops the intent', async () => {
      const w = await taken('bob');

      const report = await w.reconcile();

      expect(outcomes(report)).toEqual(['create-child team-2: conflict']);
      expect(report.conflicts).toBe(1);
      const team = (await w.ledger.loadOwner('alice')).children.filter((c) => c.parent === 'team');
      expect(team.map((c) => c.index)).toEqual([1]);
    });

    it('keeps the intent and backs off (never a hard failure) when the controller’s user is unknown', async () => {
      const w = await taken(CONTROLLER, 'unknown');

      const report = await w.reconcile();

      expect(outcomes(report)).toEqual(['create-child team-2: failed']);
      const ledger = await w.ledger.loadOwner('alice');
      expect(ledger.children.find((c) => c.parent === 'team' && c.index === 2)).toMatchObject({
        state: 'intent',
      });
      expect(ledger.failures).toEqual([expect.objectContaining({ parent: 'team', consecutive: 1, hard: 0 })]);
    });
  });

  it.each<{ name: string; readBack: 'vanished' | 'deleted' | 'unreadable'; hard: number | undefined }>([
    { name: 'free again (unknown to Coder)', readBack: 'vanished', hard: 0 },
    { name: 'free again (its holder deleted)', readBack: 'deleted', hard: 0 },
    // Whether a failed read-back counts toward the hard limit: see 'known gaps' below.
    { name: 'unreadable', readBack: 'unreadable', hard: undefined },
  ])(
    'fails a create whose taken name reads back $name, keeping the intent for the next run',
    async ({ readBack, hard }) => {
      // Prepare: Coder answers 409, then the name reads back as `readBack`.
      const w = await world();
      w.coder.beforeCreate = async () => {
        throw new WorkspaceOpError('already_exists', 'Workspace "team-2" already exists.');
      };
      if (readBack === 'deleted') w.coder.deleted = [workspace('team-2')];
      if (readBack === 'unreadable') w.coder.unreadable.add('name:alice/team-2');

      // Act
      const report = await w.reconcile();

      // Assess
      expect(outcomes(report)).toEqual(['create-child team-2: failed']);
      const ledger = await w.ledger.loadOwner('alice');
      expect(ledger.children.find((c) => c.parent === 'team' && c.index === 2)).toMatchObject({
        state: 'intent',
      });
      expect(ledger.failures).toEqual([expect.objectContaining({ parent: 'team', consecutive: 1 })]);
      if (hard !== undefined) expect(ledger.failures[0]?.hard).toBe(hard);
    },
  );

  it('reconciles the family of a webhook’s child workspace, under its lock, and no other', async () => {
    // Prepare: web needs a child too, but the webhook names team's child.
    const w = await world();
    w.coder.parent(workspace('api'), { additional_workspaces: '1' });

    // Act
    const report = await w.reconcile({
      scope: { kind: 'workspace', workspaceId: w.team1.id },
      dryRun: false,
      trigger: 'webhook',
    });

    // Assess
    expect(w.order).toEqual([
      'ledger alice', // which family the workspace is in
      `lock ${TEAM_LOCK}`,
      'ledger alice',
      'create team-2',
      `release ${TEAM_LOCK}`,
    ]);
    expect(report.families).toBe(1);
    expect(outcomes(report)).toEqual(['create-child team-2: done']);
  });
});

/**
 * Gaps these tests found and that are now closed (issue 19: "a run whose renewal fails or whose
 * lease is lost stops changing that family and reports it"; record.ts: the outcome is recorded
 * "only while this run still holds the family"; ReconcileReport.view: "partial when a Coder list
 * moved on every re-read"; ports.ts: transient failures "never hard-limit").
 */
describe('the lease, outages and partial re-plans at the edges', () => {
  /** Team asks for 2 and has child 1; during the one create, the renewal finds the lock taken. */
  const lostDuringLastAction = async () => {
    const w = await world({ config: { createConcurrency: 1 } });
    const deps = { ...w.deps, locks: { ...w.deps.locks, renew: async () => false } };
    return { ...w, deps };
  };

  // The executor looks at the lease before each action; lost during the family's last one, nothing
  // is left to skip, so the run looks once more before it records the family's outcome.
  it('records no failure, and reports the lock lost, when the lease is lost during the last action', async () => {
    // Prepare
    const w = await lostDuringLastAction();
    w.coder.beforeCreate = async () => {
      await w.timers.tick();
      throw new WorkspaceOpError('permanent', 'template version is archived');
    };

    // Act
    const report = await reconcileFamilies(w.deps, all);

    // Assess
    expect(outcomes(report)).toEqual(['create-child team-2: failed']);
    expect((await w.ledger.loadAll()).failures).toEqual([]);
    expect(report.lockLost).toEqual(['alice/team']);
  });

  // A create that met a taken name is settled after the executor returns (settleTakenName): it too
  // asks whether the lease still holds before it writes the ledger.
  it('changes no ledger record after the lease is lost, not even when settling a taken name', async () => {
    // Prepare: team-2's name is someone else's (and not listed), so the create gets 409.
    const w = await lostDuringLastAction();
    w.coder.unlisted = [workspace('team-2', { build: { number: 1, initiatorId: 'bob' } })];
    w.coder.beforeCreate = async () => {
      await w.timers.tick();
    };

    // Act
    const report = await reconcileFamilies(w.deps, all);

    // Assess: the intent written before the create is still there for the next holder to settle.
    const team = (await w.ledger.loadOwner('alice')).children.filter((c) => c.parent === 'team');
    expect(team.map((c) => [c.index, c.state])).toEqual([
      [1, 'confirmed'],
      [2, 'intent'],
    ]);
    expect(report.lockLost).toEqual(['alice/team']);
  });

  // ports.ts: transient failures (429, 5xx, timeouts) "back a family off but never hard-limit it".
  // A create that times out or gets a 5xx may have created the child, so the name is read back;
  // when Coder is down that read fails too: still transient, so an outage never hard-limits.
  it('counts a create failed by an outage (the read-back failing too) toward backoff only', async () => {
    // Prepare
    const w = await world();
    w.coder.beforeCreate = async () => {
      throw new WorkspaceOpError('transient', 'Coder answered 503');
    };
    w.coder.unreadable.add('name:alice/team-2');

    // Act
    const report = await w.reconcile();

    // Assess
    expect(outcomes(report)).toEqual(['create-child team-2: failed']);
    expect((await w.ledger.loadOwner('alice')).failures).toEqual([
      expect.objectContaining({ parent: 'team', consecutive: 1, hard: 0 }),
    ]);
  });

  // A family re-planned after its lock (recheck.ts) reads its owner's list again; when that list is
  // partial its removals wait, and the report says the view was partial.
  it('reports a partial view met by a re-plan after the lock', async () => {
    // Prepare: before the lock, another run records child 3 (listed, above the count of 2), and the
    // owner's list starts moving on every re-read.
    const w = await world();
    const team3 = workspace('team-3');
    w.coder.workspaces.push(team3);
    const locks = w.deps.locks;
    const deps = {
      ...w.deps,
      locks: {
        ...locks,
        tryAcquire: async (...args: Parameters<FamilyLocks['tryAcquire']>) => {
          w.coder.complete = false;
          await seedLedger(w.ledger, { children: [child('team', 3, team3.id, { parentId: w.parent.id })] });
          return locks.tryAcquire(...args);
        },
      },
    };

    // Act
    const report = await reconcileFamilies(deps, all);

    // Assess
    expect(report.actions[0]).toMatchObject({ kind: 'removal-deferred', cause: 'partial-view' });
    expect(report.view).toBe('partial');
  });
});
