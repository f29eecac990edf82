/**
 * A family lock held for the length of one family's work: taken without waiting, renewed every
 * third of its lease through the injected scheduler, and released only after the renewal has
 * stopped and any renewal in flight has landed (so a late renewal cannot revive a released lock).
 * A renewal that fails, or finds the lock no longer ours, marks the lease lost: the family's work
 * stops changing anything and the run reports it.
 */
import type { FamilyLocks, Scheduler } from './ports.js';

export interface FamilyLease {
  /** Why this run may no longer change the family; undefined while the lease is held. */
  lost(): string | undefined;
  /** Stops renewing (waiting for a renewal in flight), then releases the lock if still ours. */
  end(): Promise<void>;
}

export interface LeaseParts {
  readonly locks: FamilyLocks;
  readonly timers: Scheduler;
  readonly now: () => Date;
  readonly leaseMs: number;
}

/** Takes the lock for `key`, or undefined when another run holds an unexpired lease. */
export const takeLease = async (
  parts: LeaseParts,
  key: string,
  holder: string,
): Promise<FamilyLease | undefined> => {
  const { locks, leaseMs } = parts;
  let heldUntil = parts.now().getTime() + leaseMs;
  if (!(await locks.tryAcquire(key, holder, leaseMs, parts.now().getTime()))) return undefined;
  let lostBecause: string | undefined;
  const renewal = parts.timers.every(Math.max(1, Math.floor(leaseMs / 3)), async () => {
    if (lostBecause) return;
    const at = parts.now().getTime();
    try {
      if (await locks.renew(key, holder, leaseMs, at)) heldUntil = at + leaseMs;
      else lostBecause = 'another run took the family lock (this run’s lease had expired)';
    } catch (error) {
      lostBecause = `the family lock could not be renewed (${error instanceof Error ? error.message : String(error)})`;
    }
  });
  return {
    lost: () => {
      if (!lostBecause && parts.now().getTime() >= heldUntil) {
        lostBecause = 'the family lock’s lease ran out before it was renewed';
      }
      return lostBecause;
    },
    end: async () => {
      await renewal.stop();
      await locks.release(key, holder);
    },
  };
};
