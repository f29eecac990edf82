/**
 * A paced run's continuation (issue 22): when a run stops at the provisioner cap with families
 * still to do, the reconcile Lambda is invoked again `afterSeconds` later for those families, so
 * the controller refills its slots as its jobs finish instead of waiting for the next scheduled
 * run. Nothing waits inside a Lambda: the wait is a delayed message (SQS, to the second).
 *
 * One continuation is pending per deployment at a time, held as a lease in the lock table: every
 * paced run would otherwise start a chain of its own, and chains would pile up a run every few
 * seconds. The continuation's run gives the lease back as it starts, so its own paced outcome can
 * send the next one; a lost message frees the lease after PENDING_LEASE_MS. A scheduled run
 * supersedes the pending one (its list is fresher, and a continuation that met the scheduled run
 * in progress is throttled back to its queue for a visibility timeout): the late one still runs,
 * finds the lease not its own and sends nothing after it.
 */

import { type FamilyKey, familyId } from './model.js';
import type { FamilyLocks } from './ports.js';

/** The lock table as the continuation uses it: a lease, and a scheduled run superseding it. */
export interface ContinuationLocks extends Pick<FamilyLocks, 'tryAcquire' | 'release'> {
  /** Takes `key` whoever holds it (a put without a condition). */
  supersede(key: string, holder: string, leaseMs: number, now: number): Promise<void>;
  /** Whether someone holds an unexpired lease on `key` (a consistent read). */
  isHeld(key: string, now: number): Promise<boolean>;
}

/** The lock-table key of the pending continuation (no `/`: never a family's key). */
export const CONTINUATION_LOCK = 'continuation';
/** The lock-table key marking the last full reconcile, for as long as it stays recent. */
export const FULL_RUN_MARK = 'full-run';
/** How long a continuation stays pending past its delay before another run may start one. */
export const PENDING_LEASE_MS = 15 * 60_000;

/** The event a continuation invokes the reconcile Lambda with (parsed back by events.ts). */
export interface ContinuationEvent {
  readonly trigger: 'continuation';
  readonly families: string[];
  /** The pending lease this continuation holds; its run gives it back. */
  readonly token: string;
}

/** Where continuations go: delivered to the reconcile Lambda after `delaySeconds`. */
export interface ContinuationQueue {
  send(event: ContinuationEvent, delaySeconds: number): Promise<void>;
}

export type ContinuationOutcome =
  | { readonly scheduled: string }
  | { readonly alreadyPending: string }
  | { readonly notScheduled: string };

/**
 * Sends the continuation unless one is already pending (that one carries on; its run re-reads
 * what it does). A send that fails gives the lease back and throws.
 */
export const scheduleContinuation = async (
  parts: { readonly locks: ContinuationLocks; readonly queue: ContinuationQueue; readonly now: () => Date },
  request: {
    readonly afterSeconds: number;
    readonly families: readonly FamilyKey[];
    readonly token: string;
    /** A scheduled (or operator's) run: it replaces the pending continuation. */
    readonly supersede: boolean;
  },
): Promise<ContinuationOutcome> => {
  const now = parts.now().getTime();
  const due = new Date(now + request.afterSeconds * 1000).toISOString();
  const leaseMs = request.afterSeconds * 1000 + PENDING_LEASE_MS;
  if (request.supersede) await parts.locks.supersede(CONTINUATION_LOCK, request.token, leaseMs, now);
  else if (!(await parts.locks.tryAcquire(CONTINUATION_LOCK, request.token, leaseMs, now))) {
    return {
      alreadyPending: `a continuation is already pending; it carries on (this run's would have been due at ${due})`,
    };
  }
  const event: ContinuationEvent = {
    trigger: 'continuation',
    families: request.families.map(familyId),
    token: request.token,
  };
  try {
    await parts.queue.send(event, request.afterSeconds);
  } catch (error) {
    await parts.locks.release(CONTINUATION_LOCK, request.token);
    throw error;
  }
  return { scheduled: due };
};

/** A continuation's run starts: it is no longer pending, so its own outcome may send the next. */
export const claimContinuation = (locks: ContinuationLocks, token: string): Promise<void> =>
  locks.release(CONTINUATION_LOCK, token);

/**
 * Whether a scheduled run leaves this tick to the continuations: only while one is pending and a
 * full reconcile ran less than `everyMs` ago. Otherwise the run goes ahead and is marked as the
 * last full run. Returns why it defers, or undefined.
 */
export const deferScheduledRun = async (
  locks: ContinuationLocks,
  run: { readonly now: number; readonly everyMs: number; readonly runId: string },
): Promise<string | undefined> => {
  if (run.everyMs <= 0) return undefined;
  if ((await locks.isHeld(CONTINUATION_LOCK, run.now)) && (await locks.isHeld(FULL_RUN_MARK, run.now))) {
    const minutes = Math.round(run.everyMs / 60_000);
    return `continuations are catching up at the provisioner cap; while they do, the full reconcile runs at most every ${minutes} min (pacing.fullRunMinutesWhileContinuing) and the last one was less than that ago`;
  }
  await locks.supersede(FULL_RUN_MARK, run.runId, run.everyMs, run.now);
  return undefined;
};
