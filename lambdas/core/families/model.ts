/** The types the family planner, executor and stores speak. No I/O here. */
import type { DestructiveKind } from './action-kinds.js';

/** Owner username and parent workspace name, both lowercased (Coder compares them case-insensitively). */
export interface FamilyKey {
  readonly owner: string;
  readonly parent: string;
}

export const familyKey = (owner: string, parent: string): FamilyKey => ({
  owner: owner.toLowerCase(),
  parent: parent.toLowerCase(),
});

/** `<owner>/<parent>`: the lock key, the log key and the ad-hoc `family` argument. */
export const familyId = (key: FamilyKey): string => `${key.owner}/${key.parent}`;

/** The family an `<owner>/<parent>` id names (familyId's inverse). */
export const parseFamilyId = (id: string): FamilyKey => {
  const slash = id.indexOf('/');
  return familyKey(id.slice(0, slash), id.slice(slash + 1));
};

export interface BuildParameter {
  readonly name: string;
  readonly value: string;
}

/** Every parameter of a build, as Coder stores it: what a child is created from. */
export interface FullParameters {
  readonly kind: 'full';
  readonly values: readonly BuildParameter[];
}

/**
 * Only a build's count, as a `param:` search tells it (adapters/coder/family-parent-counts.ts).
 * Enough to know how many children a family wants; never enough to create one (see `childParameters`).
 */
export interface CountOnlyParameters {
  readonly kind: 'count-only';
  readonly count: number;
}

export type ParentParameters = FullParameters | CountOnlyParameters;

export const fullParameters = (values: readonly BuildParameter[]): FullParameters => ({
  kind: 'full',
  values,
});

/** What the planner needs to know about a workspace (live, or read by itself with its deletion). */
export interface FamilyWorkspace {
  readonly id: string;
  readonly name: string;
  readonly ownerName: string;
  readonly ownerId: string;
  readonly organizationId: string;
  readonly templateId: string;
  readonly templateName: string;
  /** RFC 3339, Coder's clock. */
  readonly createdAt: string | undefined;
  readonly latestBuild: {
    readonly id: string;
    readonly number: number;
    readonly transition: 'start' | 'stop' | 'delete';
    /** Coder's derived workspace status (running, stopped, deleting, failed, …). */
    readonly status: string;
    /** The build's job is pending, running or canceling: a new build would get 409. */
    readonly jobActive: boolean;
    readonly initiatorId: string | undefined;
  };
}

/**
 * A child the controller created (or is about to create). `intent` is written before the create
 * call, `confirmed` once the workspace id is known; see docs/families.md "Ownership".
 */
export interface ChildRecord {
  readonly owner: string;
  readonly parent: string;
  readonly index: number;
  readonly childName: string;
  readonly state: 'intent' | 'confirmed';
  /** When the (first) intent was written: the controller's clock, epoch ms. */
  readonly intentAt: number;
  /** The parent workspace's id when the intent was written: how a parent missing from a list is read back. */
  readonly parentId: string;
  readonly runId: string;
  readonly childId?: string | undefined;
  /** When the create was confirmed, epoch ms. */
  readonly createdAt?: number | undefined;
}

export interface ParentMissingRecord {
  readonly owner: string;
  readonly parent: string;
  /** Epoch ms the controller first saw the parent gone. */
  readonly since: number;
}

export interface FailureRecord {
  readonly owner: string;
  readonly parent: string;
  /** Failed runs in a row (any failure); drives the backoff. */
  readonly consecutive: number;
  /** Failed runs in a row with a non-transient failure; reaching the cap hard-limits the family. */
  readonly hard: number;
  /** Epoch ms of the last failed run. */
  readonly lastFailureAt: number;
  /** The parent's latest build when it last failed; a new parent build lifts a hard limit. */
  readonly parentBuildId: string | undefined;
  readonly lastError: string | undefined;
}

export interface LedgerState {
  readonly children: readonly ChildRecord[];
  readonly missing: readonly ParentMissingRecord[];
  readonly failures: readonly FailureRecord[];
}

export const EMPTY_LEDGER: LedgerState = { children: [], missing: [], failures: [] };

/** A workspace looked up by itself (`GET /workspaces/{id}` or by owner and name), deleted ones included. */
export interface WorkspaceRef {
  readonly id?: string | undefined;
  readonly owner?: string | undefined;
  readonly name?: string | undefined;
}

/** The lookup key of a read: `id:<id>` or `name:<owner>/<name>` (lowercased). */
export const refKey = (ref: WorkspaceRef): string =>
  ref.id !== undefined
    ? `id:${ref.id}`
    : `name:${(ref.owner ?? '').toLowerCase()}/${(ref.name ?? '').toLowerCase()}`;

/**
 * What reading a workspace by itself found. Only `deleted` (its delete build succeeded) and
 * `vanished` (Coder does not know it) mean gone; `unreadable` means the read failed and nothing is
 * known. A workspace merely missing from a list is none of these.
 */
export type WorkspaceRead =
  | { readonly state: 'present'; readonly workspace: FamilyWorkspace }
  | { readonly state: 'deleted'; readonly workspace: FamilyWorkspace }
  | { readonly state: 'vanished' }
  | { readonly state: 'unreadable'; readonly error: string };

export const isGone = (read: WorkspaceRead | undefined): boolean =>
  read?.state === 'deleted' || read?.state === 'vanished';

/**
 * How far the run's lists can be trusted: `complete` when every list held still while it was read;
 * `partial` when one moved on every re-read, so a workspace may be missing from it. A partial view
 * may create, never remove (see absence.ts).
 */
export type ViewCompleteness = 'complete' | 'partial';

/** Everything the planner looks at: one read of Coder and the ledger, plus what was read to decide. */
export interface FamiliesSnapshot {
  /** Live workspaces of the managed templates in scope (all, or one owner's). */
  readonly workspaces: readonly FamilyWorkspace[];
  readonly view: ViewCompleteness;
  /** Parameters by build id, for workspaces that could be parents: full, or only the count. */
  readonly parameters: ReadonlyMap<string, ParentParameters>;
  /** Workspaces read by themselves this run (`refKey`), to confirm an absence before acting on it. */
  readonly reads: ReadonlyMap<string, WorkspaceRead>;
  readonly ledger: LedgerState;
  /** The Coder user the controller acts as: builds it initiated are its own (ownership proof). */
  readonly controllerUserId: string | undefined;
  /** Plan only these families (a family-scoped reconcile); undefined = all. */
  readonly onlyFamilies?: readonly FamilyKey[] | undefined;
}

interface ActionBase {
  readonly family: FamilyKey;
  /** Why: one sentence an operator can read in the report. */
  readonly reason: string;
}

interface ChildRef {
  readonly index: number;
  readonly childName: string;
}

export type PlannedAction =
  | (ActionBase &
      ChildRef & {
        readonly kind: 'create-child';
        readonly ownerName: string;
        readonly organizationId: string;
        readonly templateId: string;
        readonly parentId: string;
        readonly parameters: readonly BuildParameter[];
        /** The ledger record this create replaces (a recorded child read back as deleted). */
        readonly replacesChildId?: string | undefined;
      })
  | (ActionBase & ChildRef & { readonly kind: 'adopt-child'; readonly childId: string })
  | (ActionBase & ChildRef & { readonly kind: 'delete-child'; readonly childId: string })
  | (ActionBase &
      ChildRef & {
        readonly kind: 'stop-child';
        readonly childId: string;
        /** True when stopping is the removal policy; false when following the parent's power. */
        readonly removal: boolean;
      })
  | (ActionBase & ChildRef & { readonly kind: 'start-child'; readonly childId: string })
  | (ActionBase & ChildRef & { readonly kind: 'forget-child'; readonly childId?: string | undefined })
  | (ActionBase & ChildRef & { readonly kind: 'release-child'; readonly childId: string })
  | (ActionBase & { readonly kind: 'record-parent-missing'; readonly since: number })
  | (ActionBase & { readonly kind: 'clear-parent-missing' })
  | (ActionBase & { readonly kind: 'clear-failures' })
  | (ActionBase & ChildRef & { readonly kind: 'report-conflict'; readonly holderId: string | undefined })
  | (ActionBase & { readonly kind: 'backoff-skip'; readonly until: number })
  | (ActionBase & { readonly kind: 'hard-limit-skip'; readonly failures: number })
  | (ActionBase & { readonly kind: 'grace-wait'; readonly until: number })
  | (ActionBase & ChildRef & { readonly kind: 'child-busy'; readonly childId: string })
  | (ActionBase & { readonly kind: 'count-clamped'; readonly requested: number; readonly max: number })
  | (ActionBase & ChildRef & { readonly kind: 'keep-child'; readonly childId: string })
  | (ActionBase & ChildRef & { readonly kind: 'ownership-undecided'; readonly holderId: string })
  | (ActionBase & {
      readonly kind: 'removal-deferred';
      /** The destructive action that waits: the view was partial, or the absence it rests on is unconfirmed. */
      readonly deferred: DestructiveKind;
      readonly cause: 'partial-view' | 'unconfirmed';
      readonly index?: number | undefined;
      readonly childName?: string | undefined;
    });

export type ActionKind = PlannedAction['kind'];
