/**
 * Absence is confirmed, never inferred. The one rule every decision that forgets, recreates,
 * deletes, stops or marks missing passes through (as Karpenter's disruption re-validation is one
 * named step):
 *
 * 1. A workspace missing from a list is no proof it is gone. Offset paging over a list that
 *    changes underneath skips rows (coderd/database/queries/workspaces.sql orders running
 *    workspaces first, so an owner's stop moves a row across a page), a renamed template takes its
 *    workspaces out of a `template:` search, and a renamed owner moves them in the order. Before
 *    acting on an absence the engine reads the workspace itself (by id, or by owner and name for
 *    an unconfirmed intent) with deleted ones included: only `deleted` or `vanished` is gone.
 * 2. A view that may be partial (a list that moved on every re-read) may create, never remove:
 *    every destructive kind (action-kinds.ts) waits for a complete view.
 *
 * `presenceOf` says what is known of a workspace and what must be read; `guardDestructive` is where
 * every destructive action is admitted or deferred with its reason.
 */
import { isDestructive } from './action-kinds.js';
import { type FamilyWorkspace, isGone, type PlannedAction, refKey, type WorkspaceRef } from './model.js';
import { ownerName, type SnapshotIndex } from './snapshot-index.js';

/** What the run knows of one workspace. */
export type Presence =
  /** In this run's list. */
  | { readonly kind: 'listed'; readonly workspace: FamilyWorkspace }
  /** Not in the list, but read by itself and still there (not deleted). */
  | { readonly kind: 'read'; readonly workspace: FamilyWorkspace }
  /** Read by itself: deleted or unknown to Coder. The only proof of absence. */
  | { readonly kind: 'gone' }
  /** Not in the list and not (yet) read: nothing may be decided from its absence. */
  | { readonly kind: 'unconfirmed'; readonly ref: WorkspaceRef; readonly readFailed: string | undefined };

/** What the list and this run's reads say about the workspace `ref` names. */
export const presenceOf = (index: SnapshotIndex, ref: WorkspaceRef): Presence => {
  const listed =
    ref.id !== undefined
      ? index.byId.get(ref.id)
      : index.byOwnerName.get(ownerName(ref.owner ?? '', ref.name ?? ''));
  if (listed) return { kind: 'listed', workspace: listed };
  const read = index.reads.get(refKey(ref));
  if (isGone(read)) return { kind: 'gone' };
  if (read?.state === 'present') return { kind: 'read', workspace: read.workspace };
  return { kind: 'unconfirmed', ref, readFailed: read?.state === 'unreadable' ? read.error : undefined };
};

/** The workspace behind a presence, when it is there. */
export const presentWorkspace = (presence: Presence): FamilyWorkspace | undefined =>
  presence.kind === 'listed' || presence.kind === 'read' ? presence.workspace : undefined;

/**
 * Admits a destructive action, or defers it with the reason: on a partial view nothing is removed,
 * stopped or forgotten. (Absences it rests on are confirmed before the planner gets here: a decision
 * that meets an `unconfirmed` presence asks for the read instead, see `ChildDecision.reads`.)
 */
export const guardDestructive = (
  index: Pick<SnapshotIndex, 'view'>,
  action: PlannedAction,
): PlannedAction => {
  if (!isDestructive(action.kind) || index.view === 'complete') return action;
  return {
    kind: 'removal-deferred',
    family: action.family,
    deferred: action.kind,
    cause: 'partial-view',
    ...('index' in action ? { index: action.index, childName: action.childName } : {}),
    reason: `${action.kind} waits: Coder's workspace list kept changing while it was read, so this run's view may be partial and removes nothing (${action.reason})`,
  };
};

/** The report for a decision that rests on an absence the run could not confirm (the read failed). */
export const unconfirmedAbsence = (
  action: Extract<PlannedAction, { kind: 'removal-deferred' }>['family'],
  deferred: Extract<PlannedAction, { kind: 'removal-deferred' }>['deferred'],
  presence: Extract<Presence, { kind: 'unconfirmed' }>,
  subject: string,
  child?: { index: number; childName: string },
): PlannedAction => ({
  kind: 'removal-deferred',
  family: action,
  deferred,
  cause: 'unconfirmed',
  ...(child ?? {}),
  reason: `${subject} is not in this run's list and reading it by itself failed (${presence.readFailed ?? 'not read'}); nothing is removed or forgotten until Coder confirms it is gone`,
});
