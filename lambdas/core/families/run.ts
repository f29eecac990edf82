/**
 * One reconcile: check the templates, snapshot, plan (reading what the plan asks for), then each
 * family that needs a change under its lock (re-checked after taking it), and the report. Families
 * with nothing to change are not locked at all, so a steady-state run costs the snapshot alone.
 */
import { type Deadline, isDeadlineStop, NO_DEADLINE } from '../contracts/deadline.js';
import { isMutation } from './action-kinds.js';
import { createConcurrencyLimit } from './concurrency.js';
import { decideTakenName } from './decide-child.js';
import {
  type AmbiguousCreate,
  describe,
  type ExecutionContext,
  executeFamilyPlan,
  type Settlement,
  type StopCause,
} from './executor.js';
import { type FamilyLease, takeLease } from './lease.js';
import { type FamilyKey, familyId, familyKey, type LedgerState, type ViewCompleteness } from './model.js';
import { controllerJobsInSnapshot, RunPacing } from './pacing.js';
import type { FamilyPlan } from './planner.js';
import { type FamilyReconcileDeps, type RunCall, WorkspaceOpError } from './ports.js';
import { planOwnerFamily, recheckAfterLock } from './recheck.js';
import { createActionRecorder, type FamilyExecution, recordFamilyOutcome } from './record.js';
import {
  continuationOf,
  type FamilyResult,
  type ReconcileReport,
  type RunTrigger,
  summarize,
  whyIncomplete,
} from './report.js';
import { checkTemplates, loadSnapshot, planWithReads, resolveWorkspace } from './snapshot.js';

export type { ActionOutcome, StopCause } from './executor.js';
export type { FamilyReconcileDeps } from './ports.js';
export type { ReportedAction } from './record.js';
export {
  type IncompleteRun,
  MAX_CONTINUATION_FAMILIES,
  type ReconcileReport,
  type RunTrigger,
} from './report.js';
export { UnknownTemplatesError } from './snapshot.js';

export type ReconcileScope =
  | { kind: 'all' }
  /** Owner username and parent workspace name. */
  | { kind: 'family'; owner: string; parent: string }
  /**
   * A workspace a webhook named: resolved to the family it belongs to (a ledger child → its
   * parent's family; otherwise the workspace as a potential parent, which covers a deleted parent).
   */
  | { kind: 'workspace'; workspaceId?: string; owner?: string; name?: string }
  /**
   * Families a paced run carried over (its continuation): each read and planned on its own, in
   * order, until the pacing allows no more jobs; the rest are carried on again.
   */
  | { kind: 'families'; families: readonly FamilyKey[] };

export interface ReconcileRequest {
  scope: ReconcileScope;
  dryRun: boolean;
  trigger: RunTrigger;
  /** Plan as of this time instead of now: grace periods and backoff are counted to it. Dry runs only. */
  at?: string;
  /**
   * The time the run has (a Lambda's remaining time minus a margin), passed down to every Coder
   * call. The run starts a family only with FAMILY_START_MS left and stops cleanly before it,
   * reporting `incomplete`. @default none
   */
  deadline?: Deadline;
}

/** The least time left to start another family (lock, ledger read, its mutations, release). */
export const FAMILY_START_MS = 2_000;

/** Latches once the run is out of time: nothing new starts after, and every family winds down. */
interface RunStop {
  /** True (and latched) when less than `needMs` is left, or the run already stopped. */
  outOfTime(needMs: number): boolean;
  stopNow(): void;
  readonly stopped: boolean;
}

const createRunStop = (deadline: Deadline): RunStop => {
  let stopped = false;
  return {
    outOfTime(needMs) {
      if (!stopped && deadline.remainingMs() < needMs) stopped = true;
      return stopped;
    },
    stopNow() {
      stopped = true;
    },
    get stopped() {
      return stopped;
    },
  };
};

/** What every family step of a run shares. */
interface RunContext {
  readonly deps: FamilyReconcileDeps;
  readonly runId: string;
  readonly dryRun: boolean;
  readonly call: RunCall;
  /** The clock plans are made for (another time only in a dry run). */
  readonly planNow: () => Date;
  readonly stop: RunStop;
  readonly controllerUserId: string | undefined;
  readonly mutations: ReturnType<typeof createConcurrencyLimit>;
  readonly pacing: RunPacing;
}

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
  const call: RunCall = { deadline };
  const stop = createRunStop(deadline);
  deps.log.info('family reconcile started', {
    runId,
    trigger: request.trigger,
    dryRun: request.dryRun,
    scope: request.scope.kind,
  });

  let results: FamilyResult[] = [];
  let families = 0;
  // What the plans hold, for the pacing (set by the full reconcile before any family runs).
  const planned = { removals: 0, activeJobs: 0 };
  const pacing = new RunPacing({
    config: deps.config,
    read: () => deps.capacity.read(call),
    readFailed: (error) =>
      deps.log.warn("could not read Coder's provisioners; pacing conservatively this run", {
        runId,
        error: describe(error),
      }),
    plannedRemovals: () => planned.removals,
    activeInSnapshot: () => planned.activeJobs,
  });
  let view: ViewCompleteness = 'complete';
  let stoppedWhileReading: string | undefined;
  try {
    const controllerUserId = await deps.workspaces.controllerUserId(call);
    const run: RunContext = {
      deps,
      runId,
      dryRun: request.dryRun,
      call,
      planNow: at ? () => at : deps.now,
      stop,
      controllerUserId,
      mutations: createConcurrencyLimit(deps.config.createConcurrency),
      pacing,
    };
    await checkTemplates(deps, call);
    const scope = request.scope;
    if (scope.kind === 'all') {
      ({ results, families, view } = await reconcileAll(run, planned));
    } else if (scope.kind === 'families') {
      ({ results, families, view } = await reconcileCarried(run, scope.families));
    } else {
      const family =
        scope.kind === 'family'
          ? familyKey(scope.owner, scope.parent)
          : await resolveWorkspace(deps, call, scope);
      if (family) ({ results, families, view } = await reconcileOne(run, family));
    }
  } catch (error) {
    // Out of time before the families were known (snapshot, ledger): stop cleanly, say so.
    if (!isDeadlineStop(error)) throw error;
    stop.stopNow();
    stoppedWhileReading = describe(error);
  }

  const report = summarize(results, {
    runId,
    request,
    at,
    families,
    view,
    coder: deps.workspaces.stats(),
    before,
    durationMs: deps.now().getTime() - started.getTime(),
  });
  const paced = pacing.report();
  if (paced) report.pacing = paced;
  const incomplete = whyIncomplete(results, {
    paced,
    stopped: stop.stopped,
    stoppedWhileReading,
    remainingMs: deadline.remainingMs(),
  });
  if (incomplete) {
    report.incomplete = incomplete;
    if (incomplete.reason === 'deadline') {
      deps.log.warn('family reconcile cut short; the next run resumes', { runId, ...incomplete });
    } else {
      deps.log.info("family reconcile paced by Coder's provisioners; the next run continues", {
        runId,
        ...incomplete,
      });
    }
  }
  const continuation = continuationOf(results, {
    dryRun: request.dryRun,
    paced,
    afterSeconds: deps.config.pacing.continueAfterSeconds,
  });
  if (continuation) report.continuation = continuation;
  deps.log.info('family reconcile finished', {
    runId,
    families: report.families,
    actions: report.actions.length,
    failures: report.failures,
    conflicts: report.conflicts,
    skippedLocked: report.skippedLocked.length,
    lockLost: report.lockLost.length,
    view: report.view,
    coderRequests: report.coder.requests,
    coderThrottled: report.coder.throttled,
    incomplete: report.incomplete?.reason,
  });
  return report;
}

const reconcileAll = async (
  run: RunContext,
  planned: { removals: number; activeJobs: number },
): Promise<{ results: FamilyResult[]; families: number; view: ViewCompleteness }> => {
  const { deps, call } = run;
  const initial = await loadSnapshot(deps, call, run.controllerUserId, undefined);
  const { snapshot, plans } = await planWithReads(deps, call, initial, run.planNow());
  planned.removals = plans.reduce(
    (n, p) => n + p.actions.filter((a) => a.kind === 'delete-child' || a.kind === 'stop-child').length,
    0,
  );
  planned.activeJobs = controllerJobsInSnapshot(snapshot.workspaces, run.controllerUserId);
  deps.progress({ kind: 'snapshot-read', families: plans.length, workspaces: snapshot.workspaces.length });
  const changing = plans.filter((p) => p.actions.some(isMutation));
  deps.progress({
    kind: 'changes-planned',
    families: changing.length,
    actions: changing.reduce((n, p) => n + p.actions.filter(isMutation).length, 0),
  });
  // Read the provisioners before any family starts, so families with no slot left are passed
  // over without their lock (at most one family per concurrency slot is locked in vain).
  if (!run.dryRun) await run.pacing.ready(changing.flatMap((p) => p.actions));
  const familyLimit = createConcurrencyLimit(deps.config.createConcurrency);
  const results = await Promise.all(
    plans.map((plan) =>
      familyLimit(async (): Promise<FamilyResult> => {
        const mutates = plan.actions.some(isMutation);
        // Not started: left as it is, unlocked, for the next run.
        if (mutates && !run.dryRun && run.stop.outOfTime(FAMILY_START_MS))
          return { kind: 'left', family: plan.family };
        // Nothing to change (or a dry run): report without taking the lock.
        if (!mutates || run.dryRun) return settleFamily(run, plan, undefined, undefined);
        // Only creates left and no slot for them: reported as refused, without the lock.
        const refused = run.pacing.refusesAll(plan.actions, isMutation);
        if (refused) return settleFamily(run, plan, undefined, undefined, refused);
        return withFamilyLease(run, plan.family, async (lease) => {
          const recheck = await recheckAfterLock(deps, call, plan, snapshot, run.planNow());
          const settled = await settleFamily(run, recheck.plan, recheck.ledger, lease);
          return recheck.kind === 'replanned' && settled.kind === 'settled'
            ? { ...settled, view: recheck.view }
            : settled;
        });
      }),
    ),
  );
  // Partial if the snapshot was, or if any family's re-plan after its lock read a list that was.
  const partial =
    snapshot.view === 'partial' || results.some((r) => r.kind === 'settled' && r.view === 'partial');
  return { results, families: plans.length, view: partial ? 'partial' : 'complete' };
};

/**
 * A continuation: the families a paced run carried over, one after another (each read and planned
 * on its own, under its lock), until the pacing allows no more creates; the rest are carried on.
 */
const reconcileCarried = async (
  run: RunContext,
  carried: readonly FamilyKey[],
): Promise<{ results: FamilyResult[]; families: number; view: ViewCompleteness }> => {
  const results: FamilyResult[] = [];
  let families = 0;
  let partial = false;
  for (const family of carried) {
    if (run.pacing.createsExhausted) {
      results.push({ kind: 'carried', family });
      continue;
    }
    const one = await reconcileOne(run, family);
    results.push(...one.results);
    families += one.families;
    partial ||= one.view === 'partial';
  }
  return { results, families, view: partial ? 'partial' : 'complete' };
};

const reconcileOne = async (
  run: RunContext,
  family: FamilyKey,
): Promise<{ results: FamilyResult[]; families: number; view: ViewCompleteness }> => {
  const { deps, call } = run;
  if (run.dryRun) {
    const plan = await planOwnerFamily(
      deps,
      call,
      run.controllerUserId,
      family,
      await deps.ledger.loadOwner(family.owner),
      run.planNow(),
    );
    return {
      results: [await settleFamily(run, plan, undefined, undefined)],
      families: plan.actions.length > 0 || plan.exists ? 1 : 0,
      view: plan.view,
    };
  }
  if (run.stop.outOfTime(FAMILY_START_MS))
    return { results: [{ kind: 'left', family }], families: 0, view: 'complete' };
  let families = 0;
  let view: ViewCompleteness = 'complete';
  const result = await withFamilyLease(run, family, async (lease) => {
    const ledger = await deps.ledger.loadOwner(family.owner);
    const plan = await planOwnerFamily(deps, call, run.controllerUserId, family, ledger, run.planNow());
    if (plan.actions.length > 0 || plan.exists) families = 1;
    view = plan.view;
    return settleFamily(run, plan, ledger, lease);
  });
  return { results: [result], families, view };
};

/** Runs `work` holding the family's lease; the lease ends (renewal stopped, then released) whatever happens. */
const withFamilyLease = async (
  run: RunContext,
  family: FamilyKey,
  work: (lease: FamilyLease) => Promise<FamilyResult>,
): Promise<FamilyResult> => {
  const { deps } = run;
  const id = familyId(family);
  const log = deps.log.forFamily(id);
  const lease = await takeLease(
    { locks: deps.locks, timers: deps.timers, now: deps.now, leaseMs: deps.config.lockLeaseMs },
    `family#${id}`,
    run.runId,
  );
  if (!lease) {
    log.info('family is being reconciled by another run; skipped', { runId: run.runId });
    return { kind: 'locked-by-other', family };
  }
  try {
    return await work(lease);
  } catch (error) {
    // Out of time inside the family (its ledger read, a re-plan): left for the next run.
    if (!isDeadlineStop(error)) throw error;
    run.stop.stopNow();
    return { kind: 'left', family };
  } finally {
    await lease.end().catch((error: unknown) => {
      // The lease expires by itself; a failed release only delays the next run for this family.
      log.warn('could not release the family lock', { error: describe(error) });
    });
  }
};

/**
 * One family: execute its plan (a family that needs nothing has nothing to execute), settle creates
 * that met a taken name, and record the outcome in the ledger while the lease is still ours.
 */
const settleFamily = async (
  run: RunContext,
  plan: FamilyPlan,
  ledger: LedgerState | undefined,
  lease: FamilyLease | undefined,
  /** Set for a family passed over at the cap: every job is refused with this, nothing runs. */
  refused?: { cause: StopCause; detail: string },
): Promise<FamilyResult> => {
  const { deps } = run;
  const hardLimitSkip = plan.actions.some((a) => a.kind === 'hard-limit-skip');
  if (plan.actions.length === 0) {
    return { kind: 'settled', family: plan.family, actions: [], hardLimited: false, stoppedBy: undefined };
  }
  const log = deps.log.forFamily(familyId(plan.family));
  if (!refused) await run.pacing.ready(plan.actions);
  const recorder = createActionRecorder(plan.family, plan.actions, log, (family, action) =>
    deps.progress({ kind: 'action-settled', family, action }),
  );
  const ctx: ExecutionContext = {
    workspaces: deps.workspaces,
    ledger: deps.ledger,
    mutations: run.mutations,
    now: run.planNow,
    runId: run.runId,
    dryRun: run.dryRun,
    call: run.call,
    mayStart: (needMs) => {
      const lost = lease?.lost();
      if (lost) return { cause: 'lock-lost', detail: `not started: ${lost}; the next run picks it up` };
      if (run.stop.outOfTime(needMs)) {
        return {
          cause: 'out-of-time',
          detail: 'the run ran out of time before this step; the next run does it',
        };
      }
      return undefined;
    },
    mayQueue: (action) => refused ?? run.pacing.mayQueue(action),
  };
  const ambiguous = await executeFamilyPlan(ctx, plan.family, plan.actions, recorder.settled);
  for (const create of ambiguous) recorder.settled(create.action, await settleTakenName(run, create, lease));
  const result: FamilyExecution = recorder.finish();
  // Lost during the last action, when no later action was left to be stopped: still lost.
  const lost = result.stoppedBy === 'lock-lost' || lease?.lost() !== undefined;
  if (lost) log.warn('family lock lost; its remaining work stopped', { runId: run.runId });
  let hardLimited = hardLimitSkip;
  // Outside dry runs, and only while this run still holds the family: its failure record is its own.
  if (!run.dryRun && ledger && !lost) {
    hardLimited = (await recordFamilyOutcome(deps, plan, ledger, result, log)).hardLimited || hardLimited;
  }
  return {
    kind: 'settled',
    family: plan.family,
    actions: result.actions,
    hardLimited,
    stoppedBy: lost ? 'lock-lost' : result.stoppedBy,
  };
};

/** A create met a taken name (or lost its answer): who holds the name now decides its outcome. */
const settleTakenName = async (
  run: RunContext,
  create: AmbiguousCreate,
  lease: FamilyLease | undefined,
): Promise<Settlement> => {
  const { deps } = run;
  const { action, intent, holder, error } = create;
  const family = action.family;
  // An outage (the create and the read-back both failed) says nothing about the family: back off, never hard-limit.
  if (holder.state === 'unreadable') return { outcome: 'failed', error: transient(holder.error, error) };
  const lost = lease?.lost();
  if (lost) {
    // Another run may hold the family now: the intent stays for whoever settles it next.
    return {
      outcome: 'skipped',
      error: `not settled: ${lost}; the next run reads the name back`,
      stoppedBy: 'lock-lost',
    };
  }
  if (holder.state !== 'present') {
    // The name was taken a moment ago and is free now: try again next run.
    return { outcome: 'failed', error: transient(describe(error), error) };
  }
  // The ledger's own child id for this index (the record the create replaced) counts as ours.
  const record = action.replacesChildId ? { ...intent, childId: action.replacesChildId } : intent;
  const decision = decideTakenName(
    { family, controllerUserId: run.controllerUserId },
    record,
    holder.workspace,
  );
  const at = run.planNow().getTime();
  try {
    for (const next of decision.actions) {
      if (next.kind === 'adopt-child') {
        await deps.ledger.confirmChild(family, next.index, next.childId, at);
        return { outcome: 'done', error: `created (confirmed by reading it back after: ${describe(error)})` };
      }
      if (next.kind === 'ownership-undecided') {
        // Keep the intent: the next run, knowing who it is, decides. Guessing here could orphan our own child.
        return {
          outcome: 'failed',
          error: transient(
            `${action.childName} exists but the controller's own Coder user is unknown this run, so whether it created it is decided next run (${describe(error)})`,
            error,
          ),
        };
      }
      if (next.kind === 'forget-child') await deps.ledger.forgetChild(family, next.index, undefined);
    }
  } catch (ledgerError) {
    // The intent stays: the next run reads the name back and settles it.
    return { outcome: 'failed', error: ledgerError };
  }
  return {
    outcome: 'conflict',
    error: `${action.childName} was created by someone else (workspace ${holder.workspace.id}); not taking it over`,
  };
};

/** Counts toward the family's backoff, never toward its hard limit: the next run will know more. */
const transient = (message: string, cause: unknown): WorkspaceOpError =>
  new WorkspaceOpError('transient', message, { cause });
