/**
 * Carries out one family's plan. It makes no decisions: every action is the planner's, and when a
 * create meets a taken name (409) or loses its answer, the executor reads the name back and reports
 * the create as ambiguous; the run decides what that holder is (decide-child.ts) and settles it.
 */
import { isDeadlineStop } from '../contracts/deadline.js';
import { isDestructive, traitsOf } from './action-kinds.js';
import type { ConcurrencyLimit } from './concurrency.js';
import type { ChildRecord, FamilyKey, PlannedAction, WorkspaceRead } from './model.js';
import { type FamilyLedger, type FamilyWorkspacesPort, type RunCall, WorkspaceOpError } from './ports.js';

export type ActionOutcome = 'done' | 'planned' | 'skipped' | 'failed' | 'conflict';

/**
 * Why an action was not started: the run is out of time, the family's lock was lost, the
 * controller already has as many provisioner jobs in flight as it may (pacing.ts), or no
 * provisioner daemon can take them.
 */
export type StopCause = 'out-of-time' | 'lock-lost' | 'provisioner-cap' | 'no-provisioner';

export interface Settlement {
  readonly outcome: ActionOutcome;
  /** Why it failed, or what happened instead (e.g. "already deleted"). */
  readonly error?: unknown;
  /** Set when the action was not started because the run or the family had to stop. */
  readonly stoppedBy?: StopCause;
}

/**
 * Told each action's outcome the moment it is known (ledger actions in plan order, Coder actions
 * as they finish). Recording is the caller's (see record.ts).
 */
export type OutcomeSink = (action: PlannedAction, settlement: Settlement) => void;

export interface ExecutionContext {
  readonly workspaces: FamilyWorkspacesPort;
  readonly ledger: FamilyLedger;
  /** Shared by every family in the run: bounds the Coder mutations in flight. */
  readonly mutations: ConcurrencyLimit;
  readonly now: () => Date;
  readonly runId: string;
  readonly dryRun: boolean;
  /** Every Coder call carries the run's deadline. */
  readonly call: RunCall;
  /**
   * Whether a step needing `needMs` may start: undefined when it may, otherwise why not (the run
   * is out of time, or this family's lock was lost). Checked before every mutation.
   */
  readonly mayStart: (needMs: number) => { cause: StopCause; detail: string } | undefined;
  /**
   * Whether this Coder action may queue a provisioner job now (it takes a slot if so): undefined
   * when it may, otherwise why not. Asked after `mayStart`, for every Coder action.
   */
  readonly mayQueue: (action: PlannedAction) => { cause: StopCause; detail: string } | undefined;
}

/** The least time left to start a Coder mutation (ledger intent, the call, the confirmation). */
export const MUTATION_START_MS = 1_000;

/** A create whose name was taken (409) or whose answer was lost: the name as read back, to decide. */
export interface AmbiguousCreate {
  readonly action: Extract<PlannedAction, { kind: 'create-child' }>;
  /** The intent record the ledger holds for it. */
  readonly intent: ChildRecord;
  readonly holder: WorkspaceRead;
  readonly error: unknown;
}

/**
 * Runs ledger bookkeeping first and in order (so Coder work sees an up-to-date ledger), then the
 * Coder mutations in parallel under the run's bound; reports are settled as they are. Returns the
 * creates whose outcome depends on who holds the name, for the run to decide.
 */
export const executeFamilyPlan = async (
  ctx: ExecutionContext,
  family: FamilyKey,
  actions: readonly PlannedAction[],
  settled: OutcomeSink,
): Promise<AmbiguousCreate[]> => {
  const ambiguous: AmbiguousCreate[] = [];
  for (const action of actions.filter((a) => traitsOf(a.kind).phase === 'ledger')) {
    if (ctx.dryRun) {
      settled(action, { outcome: 'planned' });
      continue;
    }
    const stop = ctx.mayStart(0);
    if (stop?.cause === 'lock-lost') {
      settled(action, { outcome: 'skipped', error: stop.detail, stoppedBy: stop.cause });
      continue;
    }
    try {
      await runLedgerAction(ctx, family, action);
      settled(action, { outcome: 'done' });
    } catch (error) {
      settled(action, { outcome: 'failed', error });
    }
  }
  for (const action of actions.filter((a) => traitsOf(a.kind).phase === 'report')) {
    settled(action, { outcome: action.kind === 'report-conflict' ? 'conflict' : 'skipped' });
  }
  const coder = actions.filter((a) => traitsOf(a.kind).phase === 'coder');
  // Removals and stops go before creations (as coder/coder#19937 orders the prebuilds reconciler's
  // actions): they free provisioner capacity and never wait behind the creates they would make room for.
  for (const batch of [
    coder.filter((a) => isDestructive(a.kind)),
    coder.filter((a) => !isDestructive(a.kind)),
  ]) {
    await Promise.all(
      batch.map(async (action) => {
        if (ctx.dryRun) {
          settled(action, { outcome: 'planned' });
          return;
        }
        const result = await ctx.mutations(async (): Promise<Settlement | AmbiguousCreate> => {
          // Checked after the queue: waiting for a slot can use up the run's time.
          const stop = ctx.mayStart(MUTATION_START_MS) ?? ctx.mayQueue(action);
          if (stop) return { outcome: 'skipped', error: stop.detail, stoppedBy: stop.cause };
          try {
            return await runCoderAction(ctx, family, action);
          } catch (error) {
            if (!isDeadlineStop(error)) return { outcome: 'failed', error };
            return {
              outcome: 'skipped',
              error: `the run ran out of time during this step; the next run picks it up (${describe(error)})`,
              stoppedBy: 'out-of-time',
            };
          }
        });
        if ('holder' in result) ambiguous.push(result);
        else settled(action, result);
      }),
    );
  }
  return ambiguous;
};

const runLedgerAction = async (
  ctx: ExecutionContext,
  family: FamilyKey,
  action: PlannedAction,
): Promise<void> => {
  const at = ctx.now().getTime();
  switch (action.kind) {
    case 'clear-failures':
      return ctx.ledger.clearFailures(family);
    case 'record-parent-missing':
      return ctx.ledger.setParentMissing(family, action.since);
    case 'clear-parent-missing':
      return ctx.ledger.clearParentMissing(family);
    case 'adopt-child':
      return ctx.ledger.confirmChild(family, action.index, action.childId, at);
    case 'forget-child':
      return ctx.ledger.forgetChild(family, action.index, action.childId);
    case 'release-child':
      return ctx.ledger.forgetChild(family, action.index, action.childId);
    default:
      throw new Error(`not a ledger action: ${action.kind}`);
  }
};

const runCoderAction = async (
  ctx: ExecutionContext,
  family: FamilyKey,
  action: PlannedAction,
): Promise<Settlement | AmbiguousCreate> => {
  switch (action.kind) {
    case 'create-child':
      return createChild(ctx, family, action);
    case 'delete-child':
      return buildChild(ctx, action.childId, 'delete');
    case 'stop-child':
      return buildChild(ctx, action.childId, 'stop');
    case 'start-child':
      return buildChild(ctx, action.childId, 'start');
    default:
      throw new Error(`not a Coder action: ${action.kind}`);
  }
};

const buildChild = async (
  ctx: ExecutionContext,
  childId: string,
  transition: 'start' | 'stop' | 'delete',
): Promise<Settlement> => {
  try {
    await ctx.workspaces.transition(childId, transition, ctx.call);
    return { outcome: 'done' };
  } catch (error) {
    if (isDeadlineStop(error)) throw error;
    if (error instanceof WorkspaceOpError) {
      // A build already running is Coder's normal "busy": the next run tries again.
      if (error.kind === 'build_active')
        return { outcome: 'skipped', error: 'a build is already active; retrying next run' };
      if ((error.kind === 'gone' || error.kind === 'not_found') && transition === 'delete') {
        return { outcome: 'done', error: 'already deleted' };
      }
      if (error.kind === 'gone' || error.kind === 'not_found')
        return { outcome: 'skipped', error: 'workspace is gone' };
    }
    return { outcome: 'failed', error };
  }
};

const createChild = async (
  ctx: ExecutionContext,
  family: FamilyKey,
  action: Extract<PlannedAction, { kind: 'create-child' }>,
): Promise<Settlement | AmbiguousCreate> => {
  const intent: ChildRecord = {
    owner: family.owner,
    parent: family.parent,
    index: action.index,
    childName: action.childName,
    state: 'intent',
    intentAt: ctx.now().getTime(),
    parentId: action.parentId,
    runId: ctx.runId,
  };
  // Intent first: a crash after Coder creates the workspace leaves proof that it is ours.
  const stored = await ctx.ledger.beginCreate(intent, action.replacesChildId);
  if (!stored) {
    return {
      outcome: 'skipped',
      error: 'another ledger record holds this child index; the next run re-plans it',
    };
  }
  try {
    const created = await ctx.workspaces.createWorkspace(
      {
        organizationId: action.organizationId,
        ownerName: action.ownerName,
        name: action.childName,
        templateId: action.templateId,
        parameters: action.parameters,
      },
      ctx.call,
    );
    await ctx.ledger.confirmChild(family, action.index, created.id, ctx.now().getTime());
    return { outcome: 'done' };
  } catch (error) {
    // Out of time: the intent stays, and the next run adopts the child by reading it back or creates it.
    if (isDeadlineStop(error)) throw error;
    const ambiguous =
      error instanceof WorkspaceOpError
        ? error.kind === 'already_exists' || error.kind === 'transient'
        : true;
    if (!ambiguous) return { outcome: 'failed', error };
    // 409 / 500-duplicate, or a 5xx/timeout that may have created it: read the name back.
    const holder = await ctx.workspaces.readWorkspace(
      { owner: action.ownerName, name: action.childName },
      ctx.call,
    );
    return { action, intent: stored, holder, error };
  }
};

/** An error's message, for reports and logs. */
export const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
