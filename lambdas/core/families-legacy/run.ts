import { type Deadline, isDeadlineStop, NO_DEADLINE } from '../contracts/deadline.js';
import type { LogSink } from '../contracts/log-sink.js';
import { createConcurrencyLimit } from './concurrency.js';
import { type ExecutionContext, executeFamilyPlan, OUT_OF_TIME, outOfTime } from './executor.js';
import { type FamilyKey, familyId, familyKey, isMutation, type LedgerState } from './model.js';
import { type FamilyPlan, planFamilies } from './planner.js';
import type { FamilyReconcileDeps } from './ports.js';
import {
  createActionRecorder,
  type FamilyExecution,
  type ReportedAction,
  type RunState,
  recordFamilyRun,
} from './record.js';
import { ledgerFingerprint, loadSnapshot, resolveWorkspace } from './snapshot.js';

export type { ActionOutcome } from './executor.js';
export type { FamilyReconcileDeps } from './ports.js';
export type { ReportedAction } from './record.js';

export type ReconcileScope =
  | { kind: 'all' }
  /** Owner username and parent workspace name. */
  | { kind: 'family'; owner: string; parent: string }
  /**
   * A workspace a webhook named: resolved to the family it belongs to (a ledger child → its
   * parent's family; otherwise the workspace as a potential parent, which covers a deleted parent).
   */
  | { kind: 'workspace'; workspaceId?: string; owner?: string; name?: string };

export interface ReconcileRequest {
  scope: ReconcileScope;
  dryRun: boolean;
  trigger: 'schedule' | 'webhook' | 'operator';
  /** Plan as of this time instead of now: grace periods and backoff are counted to it. Dry runs only. */
  at?: string;
  /**
   * The time the run has (a Lambda's remaining time minus a margin). The run starts a family only
   * with FAMILY_START_MS left and stops cleanly before it, reporting `incomplete`. @default none
   */
  deadline?: Deadline;
}

/** The least time left to start another family (lock, ledger read, its mutations, release). */
export const FAMILY_START_MS = 2_000;

/** Why a run stopped before the end, and what it left for the next one. */
export interface IncompleteRun {
  reason: 'deadline';
  /**
   * Families with changes the run did not get to (or only partly did); undefined when the run ran
   * out of time before it knew them (while reading the snapshot).
   */
  familiesLeft: number | undefined;
  detail: string;
}

export interface ReconcileReport {
  runId: string;
  trigger: ReconcileRequest['trigger'];
  dryRun: boolean;
  /** The time a dry run planned for, when it was not now. */
  at?: string;
  /** Families looked at (parents with N ≥ 1 and families the ledger still tracks). */
  families: number;
  actions: ReportedAction[];
  /** Families another run was reconciling; the webhook worker retries these later. */
  skippedLocked: string[];
  failures: number;
  conflicts: number;
  coder: { requests: number; throttled: number };
  /** Set when the run stopped early (out of time): a normal outcome; the next run resumes. */
  incomplete?: IncompleteRun;
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

/**
 * One reconcile: snapshot, plan, execute under per-family locks, report. Families with nothing to
 * change are not locked at all, so a steady-state run costs the snapshot and nothing else.
 */
export async function reconcileFamilies(
  deps: FamilyReconcileDeps,
  request: ReconcileRequest,
): Promise<ReconcileReport> {
  const runId = deps.newRunId();
  const started = deps.now();
  // A dry run may plan for another time; it takes no lock and records nothing, so only the plan
  // sees the other clock. A real run always plans for now.
  const at = request.dryRun && request.at !== undefined ? new Date(request.at) : undefined;
  const before = deps.workspaces.stats();
  const deadline = request.deadline ?? NO_DEADLINE;
  if (request.deadline && deps.workspaces.withDeadline) {
    // Every Coder call of this run stops waiting at the deadline; the pacing and counters are shared.
    deps = { ...deps, workspaces: deps.workspaces.withDeadline(request.deadline) };
  }
  const planDeps: FamilyReconcileDeps = at ? { ...deps, now: () => at } : deps;
  const state: RunState = { actions: [], skippedLocked: [], families: 0, hardLimited: 0, familiesLeft: 0 };
  deps.log.info('family reconcile started', {
    runId,
    trigger: request.trigger,
    dryRun: request.dryRun,
    scope: request.scope.kind,
  });

  const controllerUserId = await deps.workspaces.controllerUserId();
  const ctx: ExecutionContext = {
    workspaces: deps.workspaces,
    ledger: deps.ledger,
    mutations: createConcurrencyLimit(deps.config.createConcurrency),
    now: planDeps.now,
    runId,
    controllerUserId,
    dryRun: request.dryRun,
    deadline,
    stop: { reached: false },
  };

  let unknownLeft = false;
  let stoppedBy: string | undefined;
  try {
    const scope = request.scope;
    if (scope.kind === 'all') {
      await reconcileAll(planDeps, ctx, state);
    } else {
      const family =
        scope.kind === 'family' ? familyKey(scope.owner, scope.parent) : await resolveWorkspace(deps, scope);
      if (family) await reconcileOne(planDeps, ctx, state, family);
    }
  } catch (error) {
    // Out of time before the families were known (snapshot, ledger): stop cleanly, say so.
    if (!isDeadlineStop(error)) throw error;
    ctx.stop.reached = true;
    unknownLeft = true;
    stoppedBy = error instanceof Error ? error.message : String(error);
  }

  const after = deps.workspaces.stats();
  const count = (pred: (a: ReportedAction) => boolean): number => state.actions.filter(pred).length;
  const report: ReconcileReport = {
    runId,
    trigger: request.trigger,
    dryRun: request.dryRun,
    ...(at ? { at: at.toISOString() } : {}),
    families: state.families,
    actions: state.actions,
    skippedLocked: state.skippedLocked.sort(),
    failures: count((a) => a.outcome === 'failed'),
    conflicts: count((a) => a.outcome === 'conflict'),
    coder: { requests: after.requests - before.requests, throttled: after.throttled - before.throttled },
    summary: {
      childrenMissing: count((a) => a.kind === 'create-child'),
      created: count((a) => a.kind === 'create-child' && a.outcome === 'done'),
      removed: count(
        (a) =>
          (a.kind === 'delete-child' ||
            a.kind === 'release-child' ||
            (a.kind === 'stop-child' && a.removal)) &&
          a.outcome === 'done',
      ),
      hardLimited: state.hardLimited,
      durationMs: deps.now().getTime() - started.getTime(),
    },
  };
  if (ctx.stop.reached) {
    const left = unknownLeft ? undefined : state.familiesLeft;
    report.incomplete = {
      reason: 'deadline',
      familiesLeft: left,
      detail: `out of time with ${Math.max(0, Math.round(deadline.remainingMs()))} ms left before the deadline; ${left === undefined ? 'the families were not all read' : `${left} famil${left === 1 ? 'y' : 'ies'} left`} for the next run${stoppedBy ? ` (${stoppedBy})` : ''}`,
    };
    deps.log.warn('family reconcile cut short; the next run resumes', { runId, ...report.incomplete });
  }
  deps.log.info('family reconcile finished', {
    runId,
    families: report.families,
    actions: report.actions.length,
    failures: report.failures,
    conflicts: report.conflicts,
    skippedLocked: report.skippedLocked.length,
    coderRequests: report.coder.requests,
    coderThrottled: report.coder.throttled,
    incomplete: report.incomplete?.reason,
  });
  return report;
}

const reconcileAll = async (
  deps: FamilyReconcileDeps,
  ctx: ExecutionContext,
  state: RunState,
): Promise<void> => {
  const snapshot = await loadSnapshot(deps, ctx.controllerUserId, undefined);
  const plans = planFamilies(snapshot, deps.now(), deps.config);
  state.families = plans.length;
  const familyLimit = createConcurrencyLimit(deps.config.createConcurrency);
  await Promise.all(
    plans.map((plan) =>
      familyLimit(async () => {
        const mutates = plan.actions.some(isMutation);
        if (mutates && !ctx.dryRun && outOfTime(ctx, FAMILY_START_MS)) {
          // Not started: left as it is, unlocked, for the next run.
          state.familiesLeft++;
          return;
        }
        if (!mutates || ctx.dryRun) {
          // Nothing to change (or a dry run): report without taking the lock.
          await settle(deps, ctx, state, plan, undefined);
          return;
        }
        await withFamilyLock(deps, ctx, state, plan.family, async () => {
          // Another run may have changed this family between our snapshot and our lock: if its
          // ledger moved, re-read it from Coder before acting; otherwise the snapshot still holds.
          const fresh = await deps.ledger.loadOwner(plan.family.owner);
          const current =
            ledgerFingerprint(fresh, plan.family) === ledgerFingerprint(snapshot.ledger, plan.family)
              ? plan
              : await planOwnerFamily(deps, ctx, plan.family, fresh);
          await settle(deps, ctx, state, current, fresh);
        });
      }),
    ),
  );
};

const reconcileOne = async (
  deps: FamilyReconcileDeps,
  ctx: ExecutionContext,
  state: RunState,
  family: FamilyKey,
): Promise<void> => {
  if (ctx.dryRun) {
    const plan = await planOwnerFamily(deps, ctx, family, await deps.ledger.loadOwner(family.owner));
    if (plan.actions.length > 0 || plan.exists) state.families = 1;
    await settle(deps, ctx, state, plan, undefined);
    return;
  }
  if (outOfTime(ctx, FAMILY_START_MS)) {
    state.familiesLeft++;
    return;
  }
  await withFamilyLock(deps, ctx, state, family, async () => {
    const ledger = await deps.ledger.loadOwner(family.owner);
    const plan = await planOwnerFamily(deps, ctx, family, ledger);
    if (plan.actions.length > 0 || plan.exists) state.families = 1;
    await settle(deps, ctx, state, plan, ledger);
  });
};

const withFamilyLock = async (
  deps: FamilyReconcileDeps,
  ctx: ExecutionContext,
  state: RunState,
  family: FamilyKey,
  work: () => Promise<void>,
): Promise<void> => {
  const id = familyId(family);
  const lockKey = `family#${id}`;
  const log = deps.log.forFamily(id);
  const lease = deps.config.lockLeaseMs;
  if (!(await deps.locks.tryAcquire(lockKey, ctx.runId, lease, deps.now().getTime()))) {
    log.info('family is being reconciled by another run; skipped', { runId: ctx.runId });
    state.skippedLocked.push(id);
    return;
  }
  // The lease is short (a crashed run's families free up within it) and renewed while we work.
  const renewal = setInterval(() => {
    deps.locks.tryAcquire(lockKey, ctx.runId, lease, deps.now().getTime()).catch(() => undefined);
  }, lease / 3);
  renewal.unref?.();
  try {
    await work();
  } catch (error) {
    // Out of time inside the family (its ledger read, a re-plan): left for the next run.
    if (!isDeadlineStop(error)) throw error;
    ctx.stop.reached = true;
    state.familiesLeft++;
  } finally {
    clearInterval(renewal);
    await deps.locks.release(lockKey, ctx.runId).catch((error: unknown) => {
      // The lease expires by itself; a failed release only delays the next run for this family.
      log.warn('could not release the family lock', {
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }
};

/** One family: execute its plan (skipped for families that need nothing), then record the outcome. */
const settle = async (
  deps: FamilyReconcileDeps,
  ctx: ExecutionContext,
  state: RunState,
  plan: FamilyPlan,
  ledger: LedgerState | undefined,
): Promise<void> => {
  if (plan.actions.length === 0) return;
  const log = deps.log.forFamily(familyId(plan.family));
  if (plan.actions.some((a) => a.kind === 'hard-limit-skip')) state.hardLimited++;
  const result = await execute(ctx, plan, log);
  if (result.actions.some((a) => a.outcome === 'skipped' && a.error?.startsWith(OUT_OF_TIME))) {
    state.familiesLeft++;
  }
  await recordFamilyRun(deps, state, plan, ledger, ctx.dryRun, result, log);
};

/** The execute step: the executor runs the actions, the recorder logs and tallies each outcome. */
const execute = async (ctx: ExecutionContext, plan: FamilyPlan, log: LogSink): Promise<FamilyExecution> => {
  const recorder = createActionRecorder(plan.actions, log);
  await executeFamilyPlan(ctx, plan.family, plan.actions, recorder.settled);
  return recorder.finish();
};

interface OwnerFamilyPlan extends FamilyPlan {
  /** The family is known (a parent with N ≥ 1 or ledger records), even if it needs nothing. */
  readonly exists: boolean;
}

/** A fresh, family-scoped snapshot and plan: one owner's workspaces and ledger. */
const planOwnerFamily = async (
  deps: FamilyReconcileDeps,
  ctx: ExecutionContext,
  family: FamilyKey,
  ledger: LedgerState,
): Promise<OwnerFamilyPlan> => {
  const snapshot = await loadSnapshot(deps, ctx.controllerUserId, family, ledger);
  const plans = planFamilies(snapshot, deps.now(), deps.config);
  const plan = plans.find((p) => familyId(p.family) === familyId(family));
  return plan ? { ...plan, exists: true } : { family, actions: [], parentBuildId: undefined, exists: false };
};
