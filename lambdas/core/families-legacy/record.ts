import type { LogSink } from '../contracts/log-sink.js';
import { type ActionOutcome, describe, type OutcomeSink } from './executor.js';
import { isMutation, type LedgerState, type PlannedAction } from './model.js';
import type { FamilyPlan } from './planner.js';
import { type FamilyReconcileDeps, WorkspaceOpError } from './ports.js';

export type ReportedAction = PlannedAction & {
  outcome: ActionOutcome;
  /** Why it failed, or what happened instead (e.g. "adopted after 409"). Never a secret. */
  error?: string;
};

export interface FamilyExecution {
  readonly actions: ReportedAction[];
  /** Failures that count toward the family's backoff. */
  readonly failed: number;
  /** Of those, failures that are not transient (count toward the hard limit). */
  readonly hardFailed: number;
  readonly firstError: string | undefined;
}

/** What a run gathers for its report, family by family. */
export interface RunState {
  actions: ReportedAction[];
  skippedLocked: string[];
  families: number;
  hardLimited: number;
  /** Families with changes the run ran out of time for. */
  familiesLeft: number;
}

export interface ActionRecorder {
  /** Hand this to the executor: logs and tallies each outcome as it happens. */
  readonly settled: OutcomeSink;
  /** The family's reported actions in plan order, with its failure tally. */
  finish(): FamilyExecution;
}

/** Records one family's action outcomes as the executor reports them. */
export const createActionRecorder = (actions: readonly PlannedAction[], log: LogSink): ActionRecorder => {
  let failed = 0;
  let hardFailed = 0;
  let firstError: string | undefined;
  const positions = new Map(actions.map((a, i) => [a, i]));
  const outcomes = new Map<PlannedAction, ReportedAction>();
  const settled: OutcomeSink = (action, outcome, error) => {
    const message = error === undefined ? undefined : describe(error);
    if (outcome === 'failed') {
      failed++;
      if (!(error instanceof WorkspaceOpError && error.kind === 'transient')) hardFailed++;
      firstError ??= message;
    }
    const reported: ReportedAction =
      message === undefined ? { ...action, outcome } : { ...action, outcome, error: message };
    const line = {
      kind: action.kind,
      outcome,
      child: 'childName' in action ? action.childName : undefined,
      reason: action.reason,
      error: message,
    };
    if (outcome === 'failed') log.warn('family action failed', line);
    else if (outcome === 'conflict') log.warn('family action', line);
    else log.info('family action', line);
    outcomes.set(action, reported);
  };
  const finish = (): FamilyExecution => {
    const results: ReportedAction[] = [];
    for (const [action, reported] of outcomes) results[positions.get(action) ?? results.length] = reported;
    return { actions: results.filter(Boolean), failed, hardFailed, firstError };
  };
  return { settled, finish };
};

/**
 * Records one executed family in the run's report and, outside dry runs, its outcome in the
 * ledger: a failure (which drives backoff and the hard cap) or, after a clean run that changed
 * something, the end of an earlier failure streak.
 */
export const recordFamilyRun = async (
  deps: FamilyReconcileDeps,
  state: RunState,
  plan: FamilyPlan,
  ledger: LedgerState | undefined,
  dryRun: boolean,
  result: FamilyExecution,
  log: LogSink,
): Promise<void> => {
  state.actions.push(...result.actions);
  if (dryRun || !ledger) return;
  const previous = ledger.failures.find(
    (f) => f.owner === plan.family.owner && f.parent === plan.family.parent,
  );
  const executed = plan.actions.some(isMutation);
  try {
    if (result.failed > 0) {
      const failure = await deps.ledger.recordFailure(plan.family, {
        at: deps.now().getTime(),
        hard: result.hardFailed > 0,
        parentBuildId: plan.parentBuildId ?? previous?.parentBuildId,
        error: result.firstError ?? 'unknown error',
      });
      if (failure.hard >= deps.config.failureCap) {
        state.hardLimited++;
        log.error('family reached the consecutive failure cap and is now left alone', {
          failures: failure.hard,
          cap: deps.config.failureCap,
        });
      } else {
        log.warn('family run failed; backing off', { consecutive: failure.consecutive, hard: failure.hard });
      }
    } else if (executed && previous && (previous.consecutive > 0 || previous.hard > 0)) {
      await deps.ledger.clearFailures(plan.family);
    }
  } catch (error) {
    log.error('could not record the family outcome in the ledger', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
