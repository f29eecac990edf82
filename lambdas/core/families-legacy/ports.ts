import type { Deadline } from '../contracts/deadline.js';
import type { LogSink } from '../contracts/log-sink.js';
import type { FamiliesConfig } from './config.js';
import type {
  BuildParameter,
  ChildRecord,
  FailureRecord,
  FamilyKey,
  FamilyWorkspace,
  LedgerState,
} from './model.js';

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
  ) {
    super(message);
  }
}

/** The Coder side of the controller, shaped for families (see adapters/coder/family-workspaces.ts). */
export interface FamilyWorkspacesPort {
  /** Every live workspace of the managed templates (one paged list per template). */
  listManagedWorkspaces(): Promise<FamilyWorkspace[]>;
  /** One owner's live workspaces of the managed templates. */
  listOwnerWorkspaces(owner: string): Promise<FamilyWorkspace[]>;
  /** Owner and name of a workspace by id, deleted ones included; undefined when Coder has no such workspace. */
  describeWorkspace(id: string): Promise<{ ownerName: string; name: string; deleted: boolean } | undefined>;
  /** Parameters of each build (cached: a build's parameters never change). Missing ids failed to load. */
  buildParameters(buildIds: readonly string[]): Promise<Map<string, BuildParameter[]>>;
  /**
   * Parameters of the parent candidates' latest builds, as cheaply as Coder allows: cached ones,
   * then each parent's count found by search, then reads. `countOnly` names the builds for which
   * only the count parameter is known; read them with `buildParameters` before creating a child.
   */
  parentParameters?(
    candidates: readonly FamilyWorkspace[],
    options: { countParameter: string; maxCount: number; knownChildren: number },
  ): Promise<{ parameters: Map<string, BuildParameter[]>; countOnly: ReadonlySet<string> }>;
  /** The Coder user the controller acts as (undefined when it cannot tell). */
  controllerUserId(): Promise<string | undefined>;
  createWorkspace(input: {
    organizationId: string;
    ownerName: string;
    name: string;
    templateId: string;
    parameters: readonly BuildParameter[];
  }): Promise<FamilyWorkspace>;
  getWorkspaceByOwnerAndName(owner: string, name: string): Promise<FamilyWorkspace | undefined>;
  transition(workspaceId: string, transition: 'start' | 'stop' | 'delete'): Promise<void>;
  /** Counters since construction; the reconcile reports the difference over a run. */
  stats(): { requests: number; throttled: number };
  /** The same port for one run bound to its deadline (the Coder client stops waiting at it). */
  withDeadline?(deadline: Deadline): FamilyWorkspacesPort;
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
  /** Releases the lock if `holder` still holds it. */
  release(key: string, holder: string): Promise<void>;
}

/** A LogSink that can carry the family key on every line. */
export interface FamilyLogSink extends LogSink {
  forFamily(family: string): LogSink;
}

export interface FamilyReconcileDeps {
  readonly config: FamiliesConfig;
  readonly workspaces: FamilyWorkspacesPort;
  readonly ledger: FamilyLedger;
  readonly locks: FamilyLocks;
  readonly now: () => Date;
  readonly newRunId: () => string;
  readonly log: FamilyLogSink;
}
