/**
 * A run's report, from what each family came to: the tally, why the run stopped early (out of
 * time, or paced by Coder's provisioners) and the continuation a paced run asks for. Pure.
 */
import { isRemoval } from './action-kinds.js';
import type { StopCause } from './executor.js';
import { type FamilyKey, familyId, type ViewCompleteness } from './model.js';
import type { PacingReport } from './pacing.js';
import type { ReportedAction } from './record.js';

/** What started a run. `continuation`: a paced run's follow-up (`ReconcileReport.continuation`). */
export type RunTrigger = 'schedule' | 'webhook' | 'operator' | 'continuation';

/** The most families one continuation carries (its event stays a few KiB). */
export const MAX_CONTINUATION_FAMILIES = 500;

/** Why a run stopped before the end, and what it left for the next one. */
export interface IncompleteRun {
  /**
   * `deadline`: out of time; `provisioner-cap`: the controller already had as many provisioner jobs
   * in flight as it may; `no-provisioner`: no daemon can take the templates' jobs (pacing.ts).
   */
  reason: 'deadline' | 'provisioner-cap' | 'no-provisioner';
  /**
   * Families with changes the run did not get to (or only partly did); undefined when the run ran
   * out of time before it knew them (while reading the snapshot).
   */
  familiesLeft: number | undefined;
  detail: string;
}

export interface ReconcileReport {
  runId: string;
  trigger: RunTrigger;
  dryRun: boolean;
  /** The time a dry run planned for, when it was not now. */
  at?: string;
  /** Families looked at (parents with N ≥ 1 and families the ledger still tracks). */
  families: number;
  actions: ReportedAction[];
  /** Families another run was reconciling; the webhook worker retries these later. */
  skippedLocked: string[];
  /** Families whose lock was lost mid-run: their work stopped there; the next run resumes it. */
  lockLost: string[];
  /** `partial` when a Coder list moved on every re-read: removals waited for a complete view. */
  view: ViewCompleteness;
  failures: number;
  conflicts: number;
  coder: { requests: number; throttled: number };
  /** Set when the run stopped early (out of time, or paced): a normal outcome; the next run resumes. */
  incomplete?: IncompleteRun;
  /** The run's pacing by Coder's provisioners, when some family was about to queue a job. */
  pacing?: PacingReport;
  /**
   * Set when the run stopped at the provisioner cap with families still to do: the run to start
   * `afterSeconds` after this one ends, and the families it takes on (at most
   * MAX_CONTINUATION_FAMILIES, in the order this run met them; the schedule finds any others).
   */
  continuation?: { afterSeconds: number; families: FamilyKey[] };
  summary: {
    /** Children that should exist and did not (create actions planned). */
    childrenMissing: number;
    created: number;
    /** Children deleted, stopped or released because N shrank or the parent went away. */
    removed: number;
    /** Families left alone after reaching the failure cap. */
    hardLimited: number;
    durationMs: number;
  };
}

/** What one family came to in this run. */
export type FamilyResult =
  | {
      readonly kind: 'settled';
      readonly family: FamilyKey;
      readonly actions: ReportedAction[];
      readonly hardLimited: boolean;
      readonly stoppedBy: StopCause | undefined;
      /** A re-plan after the lock read the family's owner again; its list may have been partial. */
      readonly view?: ViewCompleteness;
    }
  /** Not started: the run was out of time. */
  | { readonly kind: 'left'; readonly family: FamilyKey }
  /** A carried-over family not read: the pacing had no slot left; carried on to the continuation. */
  | { readonly kind: 'carried'; readonly family: FamilyKey }
  | { readonly kind: 'locked-by-other'; readonly family: FamilyKey };

/** A family the pacing turned away (whole or in part), or a carried one it had no slot to read. */
export const pacedOut = (result: FamilyResult): boolean =>
  result.kind === 'carried' ||
  (result.kind === 'settled' &&
    (result.stoppedBy === 'provisioner-cap' || result.stoppedBy === 'no-provisioner'));

export const leftForNextRun = (result: FamilyResult): boolean =>
  result.kind === 'left' || (result.kind === 'settled' && result.stoppedBy === 'out-of-time');

export interface ReportFrame {
  readonly runId: string;
  readonly request: { readonly trigger: RunTrigger; readonly dryRun: boolean };
  readonly at: Date | undefined;
  readonly families: number;
  readonly view: ViewCompleteness;
  readonly coder: { requests: number; throttled: number };
  readonly before: { requests: number; throttled: number };
  readonly durationMs: number;
}

/** The report from every family's result: a pure tally. */
export const summarize = (results: readonly FamilyResult[], frame: ReportFrame): ReconcileReport => {
  const actions = results.flatMap((r) => (r.kind === 'settled' ? r.actions : []));
  const count = (pred: (a: ReportedAction) => boolean): number => actions.filter(pred).length;
  const ids = (pred: (r: FamilyResult) => boolean) =>
    results
      .filter(pred)
      .map((r) => familyId(r.family))
      .sort();
  return {
    runId: frame.runId,
    trigger: frame.request.trigger,
    dryRun: frame.request.dryRun,
    ...(frame.at ? { at: frame.at.toISOString() } : {}),
    families: frame.families,
    actions,
    skippedLocked: ids((r) => r.kind === 'locked-by-other'),
    lockLost: ids((r) => r.kind === 'settled' && r.stoppedBy === 'lock-lost'),
    view: frame.view,
    failures: count((a) => a.outcome === 'failed'),
    conflicts: count((a) => a.outcome === 'conflict'),
    coder: {
      requests: frame.coder.requests - frame.before.requests,
      throttled: frame.coder.throttled - frame.before.throttled,
    },
    summary: {
      childrenMissing: count((a) => a.kind === 'create-child'),
      created: count((a) => a.kind === 'create-child' && a.outcome === 'done'),
      removed: count((a) => isRemoval(a) && a.outcome === 'done'),
      hardLimited: results.filter((r) => r.kind === 'settled' && r.hardLimited).length,
      durationMs: frame.durationMs,
    },
  };
};

/**
 * Why the run stopped before the end, if it did: out of time (which wins: the run stopped
 * everything), or paced by Coder's provisioners with families turned away.
 */
export const whyIncomplete = (
  results: readonly FamilyResult[],
  run: {
    readonly paced: PacingReport | undefined;
    readonly stopped: boolean;
    /** Set when the run ran out of time before it knew its families (while reading). */
    readonly stoppedWhileReading: string | undefined;
    readonly remainingMs: number;
  },
): IncompleteRun | undefined => {
  if (run.stopped) {
    const left = run.stoppedWhileReading !== undefined ? undefined : results.filter(leftForNextRun).length;
    const where =
      left === undefined ? 'the families were not all read' : `${plural(left, 'family', 'families')} left`;
    return {
      reason: 'deadline',
      familiesLeft: left,
      detail: `out of time with ${Math.max(0, Math.round(run.remainingMs))} ms left before the deadline; ${where} for the next run${run.stoppedWhileReading ? ` (${run.stoppedWhileReading})` : ''}`,
    };
  }
  const left = results.filter(pacedOut).length;
  if (!run.paced || left === 0) return undefined;
  return {
    reason: run.paced.noProvisioner ? 'no-provisioner' : 'provisioner-cap',
    familiesLeft: left,
    detail: `${run.paced.reason}; ${plural(run.paced.turnedAway, 'job', 'jobs')} of ${plural(left, 'family', 'families')} left for the next run`,
  };
};

/**
 * The continuation a paced run asks for: the families it turned away, in order. None in a dry run,
 * when continuations are off, or when no daemon can take the jobs (nothing to hurry for: the
 * schedule looks again, and the alarm fires).
 */
export const continuationOf = (
  results: readonly FamilyResult[],
  run: { readonly dryRun: boolean; readonly paced: PacingReport | undefined; readonly afterSeconds: number },
): ReconcileReport['continuation'] => {
  const families = results.filter(pacedOut).map((r) => r.family);
  if (run.dryRun || !run.paced || run.paced.noProvisioner || run.afterSeconds <= 0 || families.length === 0) {
    return undefined;
  }
  return { afterSeconds: run.afterSeconds, families: families.slice(0, MAX_CONTINUATION_FAMILIES) };
};

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
