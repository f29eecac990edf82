import { type Deadline, isDeadlineStop } from '../contracts/deadline.js';
import type { ConcurrencyLimit } from './concurrency.js';
import { type ChildRecord, type FamilyKey, isMutation, type PlannedAction } from './model.js';
import { childProvenance } from './planner.js';
import { type FamilyLedger, type FamilyWorkspacesPort, WorkspaceOpError } from './ports.js';

export type ActionOutcome = 'done' | 'planned' | 'skipped' | 'failed' | 'conflict';

/**
 * Told each action's outcome the moment it is known (ledger actions in plan order, Coder actions
 * as they finish), with the error or note behind it. Recording is the caller's (see record.ts).
 */
export type OutcomeSink = (action: PlannedAction, outcome: ActionOutcome, error?: unknown) => void;

export interface ExecutionContext {
  readonly workspaces: FamilyWorkspacesPort;
  readonly ledger: FamilyLedger;
  /** Shared by every family in the run: bounds the Coder mutations in flight. */
  readonly mutations: ConcurrencyLimit;
  readonly now: () => Date;
  readonly runId: string;
  readonly controllerUserId: string | undefined;
  readonly dryRun: boolean;
  /** The run's time left; a Coder mutation starts only with at least MUTATION_START_MS of it. */
  readonly deadline: Deadline;
  /** Set once the run is out of time: nothing new starts, every run step winds down. */
  readonly stop: { reached: boolean };
}

/** The least time left to start a Coder mutation (ledger intent, the call, the confirmation). */
export const MUTATION_START_MS = 1_000;

/** The note on an action the run had no time for. */
export const OUT_OF_TIME = 'the run ran out of time before this step; the next run does it';

/** True (and the run marked as stopping) when there is no time left for another Coder mutation. */
export const outOfTime = (ctx: Pick<ExecutionContext, 'deadline' | 'stop'>, needMs: number): boolean => {
  if (!ctx.stop.reached && ctx.deadline.remainingMs() < needMs) ctx.stop.reached = true;
  return ctx.stop.reached;
};

/** Bookkeeping (ledger-only) actions run first and in order, so Coder work sees an up-to-date ledger. */
const LEDGER_KINDS = new Set<PlannedAction['kind']>([
  'clear-failures',
  'record-parent-missing',
  'clear-parent-missing',
  'adopt-child',
  'forget-child',
  'release-child',
]);

/**
 * Carries out one family's plan. It makes no decisions: every action is the planner's; this only
 * maps Coder's answers to outcomes (409 "already exists" and "build active" are normal states).
 */
export const executeFamilyPlan = async (
  ctx: ExecutionContext,
  family: FamilyKey,
  actions: readonly PlannedAction[],
  settled: OutcomeSink,
): Promise<void> => {
  const ledgerActions = actions.filter((a) => LEDGER_KINDS.has(a.kind));
  const coderActions = actions.filter((a) => !LEDGER_KINDS.has(a.kind));

  for (const action of ledgerActions) {
    if (ctx.dryRun) {
      settled(action, 'planned');
      continue;
    }
    try {
      await runLedgerAction(ctx, family, action);
      settled(action, 'done');
    } catch (error) {
      settled(action, 'failed', error);
    }
  }
  await Promise.all(
    coderActions.map(async (action) => {
      if (!isMutation(action)) {
        settled(action, action.kind === 'report-conflict' ? 'conflict' : 'skipped');
        return;
      }
      if (ctx.dryRun) {
        settled(action, 'planned');
        return;
      }
      const result = await ctx.mutations(async (): Promise<CoderResult> => {
        // Checked after the queue: waiting for a slot can use up the run's time.
        if (outOfTime(ctx, MUTATION_START_MS)) return { outcome: 'skipped', error: OUT_OF_TIME };
        return runCoderAction(ctx, family, action).catch((error: unknown): CoderResult => {
          if (!isDeadlineStop(error)) return { outcome: 'failed', error };
          ctx.stop.reached = true;
          return { outcome: 'skipped', error: `${OUT_OF_TIME} (${describe(error)})` };
        });
      });
      settled(action, result.outcome, result.error);
    }),
  );
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

interface CoderResult {
  outcome: ActionOutcome;
  error?: unknown;
}

const runCoderAction = async (
  ctx: ExecutionContext,
  family: FamilyKey,
  action: PlannedAction,
): Promise<CoderResult> => {
  switch (action.kind) {
    case 'create-child':
      return createChild(ctx, family, action);
    case 'delete-child':
      return buildChild(ctx, action.childId, 'delete');
    case 'stop-child':
      return buildChild(ctx, action.childId, 'stop');
    case 'start-child':
      return buildChild(ctx, action.childId, 'start');
    case 'adopt-child':
    case 'forget-child':
    case 'release-child':
    case 'record-parent-missing':
    case 'clear-parent-missing':
    case 'clear-failures':
    case 'report-conflict':
    case 'backoff-skip':
    case 'hard-limit-skip':
    case 'grace-wait':
    case 'child-busy':
    case 'count-clamped':
    case 'keep-child':
    case 'ownership-undecided':
      return { outcome: 'skipped' };
    default: {
      const unreachable: never = action;
      throw new Error(`unknown action ${JSON.stringify(unreachable)}`);
    }
  }
};

const buildChild = async (
  ctx: ExecutionContext,
  childId: string,
  transition: 'start' | 'stop' | 'delete',
): Promise<CoderResult> => {
  try {
    await ctx.workspaces.transition(childId, transition);
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
): Promise<CoderResult> => {
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
    const created = await ctx.workspaces.createWorkspace({
      organizationId: action.organizationId,
      ownerName: action.ownerName,
      name: action.childName,
      templateId: action.templateId,
      parameters: action.parameters,
    });
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
    // 409 / 500-duplicate, or a 5xx/timeout that may have created it: read back by name.
    let holder: Awaited<ReturnType<FamilyWorkspacesPort['getWorkspaceByOwnerAndName']>>;
    try {
      holder = await ctx.workspaces.getWorkspaceByOwnerAndName(action.ownerName, action.childName);
    } catch (readError) {
      if (isDeadlineStop(readError)) throw readError;
      return { outcome: 'failed', error: readError };
    }
    const provenance = holder ? childProvenance(holder, stored, ctx.controllerUserId) : undefined;
    if (holder && provenance === 'ours') {
      await ctx.ledger.confirmChild(family, action.index, holder.id, ctx.now().getTime());
      return { outcome: 'done', error: `created (confirmed by reading it back after: ${describe(error)})` };
    }
    if (holder && provenance === 'undecided') {
      // Keep the intent: the next run, knowing who it is, decides. Guessing here could orphan our own child.
      return {
        outcome: 'failed',
        error: new WorkspaceOpError(
          'transient',
          `${action.childName} exists but the controller's own Coder user is unknown this run, so whether it created it is decided next run (${describe(error)})`,
        ),
      };
    }
    if (holder) {
      await ctx.ledger.forgetChild(family, action.index, undefined);
      return {
        outcome: 'conflict',
        error: `${action.childName} was created by someone else (workspace ${holder.id}); not taking it over`,
      };
    }
    // The name was taken a moment ago and is free now: try again next run.
    return { outcome: 'failed', error: new WorkspaceOpError('transient', describe(error)) };
  }
};

export const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
