import { describe, expect, it } from 'vitest';
import { InMemoryFamilyLocks, ManualScheduler } from '../../../lambdas/core/families/in-memory.js';
import { takeLease } from '../../../lambdas/core/families/lease.js';
import type { FamilyLocks, Scheduler } from '../../../lambdas/core/families/ports.js';
import { NOW } from './fixtures.js';

const KEY = 'family#alice/team';
const LEASE_MS = 120_000;
const T0 = NOW.getTime();

/** Lets every promise callback that is ready run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** In-memory locks, counting the calls the lease makes; `renew` may be replaced. */
const countedLocks = (renew?: FamilyLocks['renew']) => {
  const inner = new InMemoryFamilyLocks();
  const calls = { renew: 0, release: 0 };
  const locks: FamilyLocks = {
    tryAcquire: (...args) => inner.tryAcquire(...args),
    renew: async (...args) => {
      calls.renew++;
      return (renew ?? inner.renew.bind(inner))(...args);
    },
    release: async (...args) => {
      calls.release++;
      return inner.release(...args);
    },
  };
  return { inner, locks, calls };
};

const setup = (renew?: FamilyLocks['renew']) => {
  const { inner, locks, calls } = countedLocks(renew);
  const timers = new ManualScheduler();
  const clock = { now: T0 };
  const parts = { locks, timers, now: () => new Date(clock.now), leaseMs: LEASE_MS };
  return { inner, locks, calls, timers, clock, parts };
};

describe('takeLease', () => {
  it('takes the lock and renews it every third of the lease', async () => {
    // Prepare
    const { inner, parts } = setup();
    const intervals: number[] = [];
    const timers: Scheduler = {
      every: (intervalMs, task) => {
        intervals.push(intervalMs);
        return parts.timers.every(intervalMs, task);
      },
    };

    // Act
    const lease = await takeLease({ ...parts, timers }, KEY, 'run-1');

    // Assess
    expect(lease?.lost()).toBeUndefined();
    expect(inner.holderOf(KEY)).toBe('run-1');
    expect(intervals).toEqual([40_000]);
  });

  it('takes nothing while another run holds an unexpired lease, and schedules no renewal', async () => {
    const { inner, timers, parts } = setup();
    await inner.tryAcquire(KEY, 'other-run', LEASE_MS, T0 - 1_000);

    const lease = await takeLease(parts, KEY, 'run-1');

    expect(lease).toBeUndefined();
    expect(inner.holderOf(KEY)).toBe('other-run');
    expect(timers.active).toBe(0);
  });

  it('extends the lease on each renewal, past the time it would have run out', async () => {
    // Prepare
    const { inner, timers, clock, parts } = setup();
    const lease = await takeLease(parts, KEY, 'run-1');

    // Act: renew at 100 s, then look at 200 s (the first lease ran out at 120 s).
    clock.now = T0 + 100_000;
    await timers.tick();
    clock.now = T0 + 200_000;

    // Assess
    expect(lease?.lost()).toBeUndefined();
    expect(await inner.tryAcquire(KEY, 'other-run', LEASE_MS, clock.now)).toBe(false);
    clock.now = T0 + 220_000;
    expect(lease?.lost()).toMatch(/ran out/);
  });

  it('is lost when a renewal finds the lock no longer ours, and stops renewing', async () => {
    // Prepare: the lease ran out unnoticed and another run took the lock.
    const { inner, calls, timers, clock, parts } = setup();
    const lease = await takeLease(parts, KEY, 'run-1');
    clock.now = T0 + LEASE_MS + 1;
    await inner.tryAcquire(KEY, 'other-run', LEASE_MS, clock.now);
    clock.now = T0 + 10_000;

    // Act
    await timers.tick();
    await timers.tick();

    // Assess
    expect(lease?.lost()).toMatch(/another run took the family lock/);
    expect(calls.renew).toBe(1);
  });

  it('is lost when a renewal fails, with the error as the reason', async () => {
    const { timers, parts } = setup(async () => {
      throw new Error('ConditionalCheckFailed: throttled');
    });
    const lease = await takeLease(parts, KEY, 'run-1');

    await timers.tick();

    expect(lease?.lost()).toBe('the family lock could not be renewed (ConditionalCheckFailed: throttled)');
  });

  it('reports a lease that ran out even when no renewal ran', async () => {
    const { clock, parts } = setup();
    const lease = await takeLease(parts, KEY, 'run-1');

    clock.now = T0 + LEASE_MS - 1;
    const before = lease?.lost();
    clock.now = T0 + LEASE_MS;
    const after = lease?.lost();
    clock.now = T0;

    expect(before).toBeUndefined();
    expect(after).toMatch(/ran out before it was renewed/);
    // Once lost, always lost: the clock going back does not give the family back.
    expect(lease?.lost()).toBe(after);
  });

  describe('end', () => {
    it('stops renewing and releases the lock, once', async () => {
      // Prepare
      const { inner, calls, timers, parts } = setup();
      const lease = await takeLease(parts, KEY, 'run-1');

      // Act
      await lease?.end();
      await timers.tick();

      // Assess
      expect(timers.active).toBe(0);
      expect(inner.holderOf(KEY)).toBeUndefined();
      expect(calls).toEqual({ renew: 0, release: 1 });
    });

    it('leaves another run’s lock in place when the lease was lost to it', async () => {
      const { inner, timers, clock, parts } = setup();
      const lease = await takeLease(parts, KEY, 'run-1');
      clock.now = T0 + LEASE_MS + 1;
      await inner.tryAcquire(KEY, 'other-run', LEASE_MS, clock.now);
      await timers.tick();

      await lease?.end();

      expect(lease?.lost()).toBeDefined();
      expect(inner.holderOf(KEY)).toBe('other-run');
    });

    it('waits for a renewal in flight before releasing, so a late renewal cannot revive the lock', async () => {
      // Prepare: a lock whose renewal lands when the test says, and which (unlike the real ones)
      // would re-create the lock if it landed after the release.
      const order: string[] = [];
      let held: string | undefined;
      let land: () => void = () => {};
      const naive: FamilyLocks = {
        tryAcquire: async (_key, holder) => {
          held = holder;
          return true;
        },
        renew: async (_key, holder) => {
          order.push('renew sent');
          await new Promise<void>((resolve) => {
            land = resolve;
          });
          held = holder;
          order.push('renew landed');
          return true;
        },
        release: async (_key, holder) => {
          order.push('release');
          if (held === holder) held = undefined;
        },
      };
      const timers = new ManualScheduler();
      const lease = await takeLease(
        { locks: naive, timers, now: () => NOW, leaseMs: LEASE_MS },
        KEY,
        'run-1',
      );
      const ticking = timers.tick();
      await settle();

      // Act
      const ending = lease?.end();
      await settle();
      const beforeLanding = [...order];
      land();
      await ending;
      await ticking;

      // Assess
      expect(beforeLanding).toEqual(['renew sent']);
      expect(order).toEqual(['renew sent', 'renew landed', 'release']);
      expect(held).toBeUndefined();
    });
  });
});
