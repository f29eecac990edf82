/**
 * What the families engine needs from the outside world. Every method is required (as Powertools'
 * persistence layer makes its backend methods abstract): a wrapper that forgets one does not compile.
 */
import type { RunCall } from '../contracts/deadline.js';
import type { LogSink } from '../contracts/log-sink.js';
import type { FamiliesConfig } from './config.js';
import type {
  ChildRecord,
  FailureRecord,
  FamilyKey,
  FamilyWorkspace,
  FullParameters,
  LedgerState,
  ParentParameters,
  WorkspaceRead,
  WorkspaceRef,
} from './model.js';
import type { FamilyProgressSink } from './progress.js';
import type { ProvisionerCapacitySource } from './provisioner-capacity.js';

/**
 * Why a Coder operation failed, in the terms the executor needs. `already_exists` and
 * `build_active` are normal states; `transient` failures (429, 5xx, timeouts, network) back a
 * family off but never hard-limit it; `permanent` ones (validation, permission) count toward the cap.
 */
export type WorkspaceOpErrorKind =
  | 'already_exists'
  | 'build_active'
  | 'gone'
  | 'not_found'
  | 'transient'
  | 'permanent'
  /** The run is out of time: a clean stop, never a failure of the family. */
  | 'deadline';

export class WorkspaceOpError extends Error {
  override readonly name = 'WorkspaceOpError';
  constructor(
    readonly kind: WorkspaceOpErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type { RunCall } from '../contracts/deadline.js';

/** A list of workspaces and whether it can be trusted to be whole (see ViewCompleteness). */
export interface WorkspaceListing {
  readonly workspaces: FamilyWorkspace[];
  /** False when a list moved on every re-read: a workspace may be missing from it. */
  readonly complete: boolean;
}

/** The Coder side of the controller, shaped for families (see adapters/coder/family-workspaces.ts). */
export interface FamilyWorkspacesPort {
  /** Names of the templates Coder has in the managed organization (to find configured ones that are gone). */
  templateNames(call: RunCall): Promise<string[]>;
  /** Every live workspace of the managed templates (one paged list per template). */
  listManagedWorkspaces(call: RunCall): Promise<WorkspaceListing>;
  /** One owner's live workspaces of the managed templates. */
  listOwnerWorkspaces(owner: string, call: RunCall): Promise<WorkspaceListing>;
  /**
   * One workspace read by itself, by id or by owner and name, deleted ones included: the only way
   * the engine learns that something is gone. A failed read is `unreadable`, never `vanished`.
   */
  readWorkspace(ref: WorkspaceRef, call: RunCall): Promise<WorkspaceRead>;
  /** Full parameters of each build (cached: a build's parameters never change). Missing ids failed to load. */
  buildParameters(
    buildIds: readonly string[],
    call: RunCall & { onRead?: ((count: number) => void) | undefined },
  ): Promise<Map<string, FullParameters>>;
  /**
   * Parameters of the parent candidates' latest builds, as cheaply as Coder allows: cached ones,
   * then each parent's count found by search (count-only), then full reads. Missing ids failed to load.
   */
  parentParameters(
    candidates: readonly FamilyWorkspace[],
    options: { countParameter: string; maxCount: number; knownChildren: number },
    call: RunCall & { onRead?: ((count: number) => void) | undefined },
  ): Promise<Map<string, ParentParameters>>;
  /** The Coder user the controller acts as (undefined when it cannot tell). */
  controllerUserId(call: RunCall): Promise<string | undefined>;
  createWorkspace(
    input: {
      organizationId: string;
      ownerName: string;
      name: string;
      templateId: string;
      parameters: FullParameters['values'];
    },
    call: RunCall,
  ): Promise<FamilyWorkspace>;
  transition(workspaceId: string, transition: 'start' | 'stop' | 'delete', call: RunCall): Promise<void>;
  /** Counters since construction; the reconcile reports the difference over a run. */
  stats(): { requests: number; throttled: number };
}

/** The ownership ledger: which children the controller created, plus per-family bookkeeping. */
export interface FamilyLedger {
  loadAll(): Promise<LedgerState>;
  loadOwner(owner: string): Promise<LedgerState>;
  /**
   * Writes the create intent for a child before the create call. Succeeds (returning the record
   * now stored) when there is no record for that index, when the stored record is an intent for
   * the same name (an earlier attempt; its `intentAt` is kept), or when it is a confirmed record
   * of `replacesChildId`. Returns undefined when another record holds the index.
   */
  beginCreate(intent: ChildRecord, replacesChildId?: string): Promise<ChildRecord | undefined>;
  /** Records the workspace id of a child (after a create or an adoption). */
  confirmChild(key: FamilyKey, index: number, childId: string, at: number): Promise<void>;
  /** Drops a child record, only if it still refers to `childId` (or is an intent, when childId is undefined). */
  forgetChild(key: FamilyKey, index: number, childId: string | undefined): Promise<void>;
  setParentMissing(key: FamilyKey, since: number): Promise<void>;
  clearParentMissing(key: FamilyKey): Promise<void>;
  recordFailure(
    key: FamilyKey,
    failure: { at: number; hard: boolean; parentBuildId: string | undefined; error: string },
  ): Promise<FailureRecord>;
  clearFailures(key: FamilyKey): Promise<void>;
}

/** One reconcile per family at a time, across the scheduled, webhook and ad-hoc paths. */
export interface FamilyLocks {
  /** Takes the lock unless someone else holds an unexpired lease; never waits. */
  tryAcquire(key: string, holder: string, leaseMs: number, now: number): Promise<boolean>;
  /**
   * Extends `holder`'s lease; false when the lock is no longer `holder`'s (released, expired and
   * taken, or gone). Never creates a lock: a renewal that lands after the release must not revive it.
   */
  renew(key: string, holder: string, leaseMs: number, now: number): Promise<boolean>;
  /** Releases the lock if `holder` still holds it. */
  release(key: string, holder: string): Promise<void>;
}

/** A repeating task, stopped (and its in-flight run awaited) by `stop`. */
export interface RepeatingTask {
  stop(): Promise<void>;
}

/** The timers the engine uses (lock renewal), injected so tests drive them and core starts none itself. */
export interface Scheduler {
  /** Runs `task` every `intervalMs` until stopped; a run never overlaps the previous one. */
  every(intervalMs: number, task: () => Promise<void>): RepeatingTask;
}

/** A LogSink that can carry the family key on every line. */
export interface FamilyLogSink extends LogSink {
  forFamily(family: string): LogSink;
}

export interface FamilyReconcileDeps {
  readonly config: FamiliesConfig;
  readonly workspaces: FamilyWorkspacesPort;
  /** What Coder's provisioners can take, for pacing the controller's own jobs (pacing.ts). */
  readonly capacity: ProvisionerCapacitySource;
  readonly ledger: FamilyLedger;
  readonly locks: FamilyLocks;
  readonly timers: Scheduler;
  readonly now: () => Date;
  readonly newRunId: () => string;
  readonly log: FamilyLogSink;
  /** Typed progress events (the CLI renders them); logs are not an API. */
  readonly progress: FamilyProgressSink;
}
