/**
 * The family lock over a whole run, on the simulator and dynalite (the real DynamoDB lease): a
 * renewal still in flight when the run ends cannot revive the lock, and a run whose renewal fails
 * stops changing the family and says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../lambdas/core/families/in-memory.js';
import type { FamilyLocks, FamilyWorkspacesPort } from '../../lambdas/core/families/ports.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { COUNT, type FamilyHarness, liveWorkspaces, startFamilyHarness, TEMPLATE } from './harness.js';

const all = { scope: { kind: 'all' as const }, dryRun: false, trigger: 'schedule' as const };

describe('the family lock over a run', () => {
  let h: FamilyHarness;
  beforeEach(async () => {
    h = await startFamilyHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('releases only after a renewal in flight has landed, so the next run is not locked out', async () => {
    // Prepare: a renewal that starts while the family's creates are running and lands after they end.
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '2' } });
    const base = h.makeDeps();
    const timers = new ManualScheduler();
    let land: () => void = () => {};
    let renewing: Promise<void> | undefined;
    let renewStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      renewStarted = resolve;
    });
    const locks: FamilyLocks = {
      tryAcquire: (...args) => base.locks.tryAcquire(...args),
      release: (...args) => base.locks.release(...args),
      renew: async (...args) => {
        await new Promise<void>((resolve) => {
          land = resolve;
          renewStarted();
        });
        return base.locks.renew(...args);
      },
    };
    const inner = base.workspaces;
    const workspaces: FamilyWorkspacesPort = Object.assign(Object.create(inner) as FamilyWorkspacesPort, {
      createWorkspace: async (...args: Parameters<FamilyWorkspacesPort['createWorkspace']>) => {
        renewing ??= timers.tick();
        return inner.createWorkspace(...args);
      },
    });
    const deps = { ...base, locks, timers, workspaces };

    // Act: the run finishes its work while the renewal is still out; it lands only a moment later.
    const finished = reconcileFamilies(deps, all);
    await started;
    await new Promise((resolve) => setTimeout(resolve, 50));
    land();
    const report = await finished;
    await renewing;
    h.sim.advanceBuilds();
    const next = await reconcileFamilies(h.makeDeps(), all);

    // Assess: the lock was released after the renewal, so the next run got the family.
    expect(report.summary.created).toBe(2);
    expect(report.lockLost).toEqual([]);
    expect(timers.active).toBe(0);
    expect(next.skippedLocked).toEqual([]);
  });

  it('stops changing a family whose lease could not be renewed, and reports it without a failure record', async () => {
    // Prepare: six children to create one at a time; the renewal fails after the first create.
    h.sim.seed.workspace({ owner: 'alice', name: 'team', template: TEMPLATE, parameters: { [COUNT]: '6' } });
    const base = h.makeDeps({ config: { createConcurrency: 1 } });
    const timers = new ManualScheduler();
    const locks: FamilyLocks = {
      tryAcquire: (...args) => base.locks.tryAcquire(...args),
      release: (...args) => base.locks.release(...args),
      renew: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    };
    const inner = base.workspaces;
    let creates = 0;
    const workspaces: FamilyWorkspacesPort = Object.assign(Object.create(inner) as FamilyWorkspacesPort, {
      createWorkspace: async (...args: Parameters<FamilyWorkspacesPort['createWorkspace']>) => {
        const created = await inner.createWorkspace(...args);
        if (++creates === 1) await timers.tick();
        return created;
      },
    });

    // Act
    const report = await reconcileFamilies({ ...base, locks, timers, workspaces }, all);

    // Assess: one child created, the other five not started and reported as stopped by the lost lock.
    expect(report.lockLost).toEqual(['alice/team']);
    expect(report.summary.created).toBe(1);
    const stopped = report.actions.filter((a) => a.stoppedBy === 'lock-lost');
    expect(stopped).toHaveLength(5);
    expect(stopped[0]?.error).toMatch(/could not be renewed \(ProvisionedThroughputExceededException\)/);
    expect(report.failures).toBe(0);
    expect([...liveWorkspaces(h.sim).keys()].sort()).toEqual(['team', 'team-1']);
    expect((await h.ledger.loadAll()).failures).toEqual([]);
  });
});
