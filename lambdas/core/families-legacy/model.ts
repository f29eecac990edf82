/** The types the family planner, executor and stores speak. No I/O here. */

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

export interface BuildParameter {
  readonly name: string;
  readonly value: string;
}

/** What the planner needs to know about a live (not deleted) workspace. */
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
  readonly parentId: string;
  readonly runId: string;
  readonly childId?: string | undefined;
  /** When the create was confirmed, epoch ms. */
  readonly createdAt?: number | undefined;
}

export interface ParentMissingRecord {
  readonly owner: string;
  readonly parent: string;
  /** Epoch ms the controller first saw the parent missing. */
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

/** Everything the planner looks at: one consistent read of Coder and the ledger. */
export interface FamiliesSnapshot {
  /** Live workspaces of the managed templates in scope (all, or one owner's). */
  readonly workspaces: readonly FamilyWorkspace[];
  /** Build parameters by build id, for every workspace that could be a parent. */
  readonly parameters: ReadonlyMap<string, readonly BuildParameter[]>;
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
        /** The ledger record this create replaces (a recorded child that no longer exists). */
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
  | (ActionBase & ChildRef & { readonly kind: 'ownership-undecided'; readonly holderId: string });

export type ActionKind = PlannedAction['kind'];

/** Actions that change Coder or the ledger; everything else is a report. */
export const MUTATING_KINDS: ReadonlySet<ActionKind> = new Set<ActionKind>([
  'create-child',
  'adopt-child',
  'delete-child',
  'stop-child',
  'start-child',
  'forget-child',
  'release-child',
  'record-parent-missing',
  'clear-parent-missing',
  'clear-failures',
]);

export const isMutation = (action: PlannedAction): boolean => MUTATING_KINDS.has(action.kind);
