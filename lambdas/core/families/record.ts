/** What happened to each action, for the report, the logs, the progress events and the ledger's failure records. */
import type { LogSink } from '../contracts/log-sink.js';
import { isMutation } from './action-kinds.js';
import { type ActionOutcome, describe, type OutcomeSink, type StopCause } from './executor.js';
import type { FamilyKey, LedgerState, PlannedAction } from './model.js';
import type { FamilyPlan } from './planner.js';
import { type FamilyReconcileDeps, WorkspaceOpError } from './ports.js';

/** Where a failure came from, from the error's cause chain (route, status, attempts of the Coder call). */
export interface ErrorOrigin {
  readonly method?: string;
  readonly route?: string;
  readonly status?: number;
  readonly attempts?: number;
}

export type ReportedAction = PlannedAction & {
  outcome: ActionOutcome;
  /** Why it failed, or what happened instead (e.g. "adopted after 409"). Never a secret. */
  error?: string;
  /** The Coder call behind a failure, when the error carries one. */
  origin?: ErrorOrigin;
  /** Not started because the run ran out of time or the family's lock was lost. */
  stoppedBy?: StopCause;
};

export interface FamilyExecution {
  readonly actions: ReportedAction[];
  /** Failures that count toward the family's backoff. */
  readonly failed: number;
  /** Of those, failures that are not transient (count toward the hard limit). */
  readonly hardFailed: number;
  readonly firstError: string | undefined;
  /** Why some of its actions were not started, if any were not. */
  readonly stoppedBy: StopCause | undefined;
}

export interface ActionRecorder {
  /** Hand this to the executor: logs, tallies and announces each outcome as it happens. */
  readonly settled: OutcomeSink;
  /** The family's reported actions in plan order, with its failure tally. */
  finish(): FamilyExecution;
}

/** The first route/status/attempts found along an error's `cause` chain. */
export const errorOrigin = (error: unknown): ErrorOrigin | undefined => {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const fields = e as Error & Partial<Record<'method' | 'route' | 'status' | 'attempts', unknown>>;
    if (typeof fields.route === 'string') {
      return {
        ...(typeof fields.method === 'string' ? { method: fields.method } : {}),
        route: fields.route,
        ...(typeof fields.status === 'number' ? { status: fields.status } : {}),
        ...(typeof fields.attempts === 'number' ? { attempts: fields.attempts } : {}),
      };
    }
  }
  return undefined;
};

/** When a family's actions stopped for several reasons, the one it reports: the first here. */
const STOP_PRECEDENCE: readonly StopCause[] = [
  'lock-lost',
  'out-of-time',
  'no-provisioner',
  'provisioner-cap',
];

/** Records one family's action outcomes as the executor reports them. */
export const createActionRecorder = (
  family: FamilyKey,
  actions: readonly PlannedAction[],
  log: LogSink,
  announce: (family: FamilyKey, action: ReportedAction) => void,
): ActionRecorder => {
  let failed = 0;
  let hardFailed = 0;
  let firstError: string | undefined;
  let stoppedBy: StopCause | undefined;
  const positions = new Map(actions.map((a, i) => [a, i]));
  const outcomes = new Map<PlannedAction, ReportedAction>();
  const settled: OutcomeSink = (action, { outcome, error, stoppedBy: stop }) => {
    const message = error === undefined ? undefined : describe(error);
    if (outcome === 'failed') {
      failed++;
      if (!(error instanceof WorkspaceOpError && error.kind === 'transient')) hardFailed++;
      firstError ??= message;
    }
    if (stop && STOP_PRECEDENCE.indexOf(stop) < STOP_PRECEDENCE.indexOf(stoppedBy ?? stop)) stoppedBy = stop;
    else if (stop) stoppedBy ??= stop;
    const origin = outcome === 'failed' ? errorOrigin(error) : undefined;
    const reported: ReportedAction = {
      ...action,
      outcome,
      ...(message === undefined ? {} : { error: message }),
      ...(origin ? { origin } : {}),
      ...(stop ? { stoppedBy: stop } : {}),
    };
    const line = {
      kind: action.kind,
      outcome,
      child: 'childName' in action ? action.childName : undefined,
      reason: action.reason,
      error: message,
      ...(origin ? { origin } : {}),
    };
    if (outcome === 'failed') log.warn('family action failed', line);
    else if (outcome === 'conflict') log.warn('family action', line);
    else log.info('family action', line);
    outcomes.set(action, reported);
    announce(family, reported);
  };
  const finish = (): FamilyExecution => {
    const results: ReportedAction[] = [];
    for (const [action, reported] of outcomes) results[positions.get(action) ?? results.length] = reported;
    return { actions: results.filter(Boolean), failed, hardFailed, firstError, stoppedBy };
  };
  return { settled, finish };
};

/**
 * Records one executed family's outcome in the ledger (outside dry runs, and only while this run
 * still holds the family): a failure (which drives backoff and the hard cap) or, after a clean run
 * that changed something, the end of an earlier failure streak. Returns whether the family has
 * now reached the failure cap.
 */
export const recordFamilyOutcome = async (
  deps: Pick<FamilyReconcileDeps, 'ledger' | 'now' | 'config'>,
  plan: FamilyPlan,
  ledger: LedgerState,
  result: FamilyExecution,
  log: LogSink,
): Promise<{ hardLimited: boolean }> => {
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
        log.error('family reached the consecutive failure cap and is now left alone', {
          failures: failure.hard,
          cap: deps.config.failureCap,
        });
        return { hardLimited: true };
      }
      log.warn('family run failed; backing off', { consecutive: failure.consecutive, hard: failure.hard });
    } else if (executed && previous && (previous.consecutive > 0 || previous.hard > 0)) {
      await deps.ledger.clearFailures(plan.family);
    }
  } catch (error) {
    log.error('could not record the family outcome in the ledger', { error: describe(error) });
  }
  return { hardLimited: false };
};
