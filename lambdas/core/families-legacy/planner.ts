import { planBackoff } from './backoff.js';
import { type ChildPlanning, type FamilyActions, planDesiredChildren, planRemoval } from './children.js';
import type { FamiliesConfig } from './config.js';
import {
  type FamiliesSnapshot,
  type FamilyKey,
  familyId,
  type ParentMissingRecord,
  type PlannedAction,
} from './model.js';
import { type FamilyEntries, familyEntries, indexSnapshot, type ParentView } from './snapshot-index.js';

export { childParameters, childProvenance } from './children.js';
export { parentCandidates, parseCount } from './snapshot-index.js';

/**
 * Desired minus actual for every family in the snapshot, as actions with their reasons (the
 * prebuilds reconciler's order: backoff, then stale state, then removals, then creates). Pure:
 * the same snapshot, clock and config always give the same plan.
 *
 * Safety rules the property tests hold it to:
 * - a workspace is stopped, started, deleted or released only if the ledger records the
 *   controller created it (confirmed child id), never because of its name;
 * - a name held by a workspace the controller did not create is reported, never taken over;
 * - a ledger child is never a parent, whatever its parameters say;
 * - children of a missing parent are kept for the whole grace period.
 */
export const planFamilyReconcile = (
  snapshot: FamiliesSnapshot,
  now: Date,
  config: FamiliesConfig,
): PlannedAction[] => planFamilies(snapshot, now, config).flatMap((plan) => plan.actions);

export interface FamilyPlan {
  readonly family: FamilyKey;
  /** Empty when the family is as it should be. */
  readonly actions: PlannedAction[];
  /** The parent's latest build, when the parent is alive (recorded with failures). */
  readonly parentBuildId: string | undefined;
}

/** The same plan grouped per family, including families with nothing to do (for counting). */
export const planFamilies = (snapshot: FamiliesSnapshot, now: Date, config: FamiliesConfig): FamilyPlan[] => {
  const index = indexSnapshot(snapshot, config);
  const wanted = snapshot.onlyFamilies ? new Set(snapshot.onlyFamilies.map(familyId)) : undefined;
  const plans: FamilyPlan[] = [];
  for (const id of [...index.families].sort()) {
    if (wanted && !wanted.has(id)) continue;
    const family = index.keys.get(id) as FamilyKey;
    // Without the parent's parameters nothing can be decided safely (it is not "missing" either).
    const undecidable = !index.parents.has(id) && index.unknownParents.has(id);
    const ctx: ChildPlanning = { family, index, config, controllerUserId: snapshot.controllerUserId };
    plans.push({
      family,
      actions: undecidable ? [] : planFamily(ctx, familyEntries(index, id), now.getTime()),
      parentBuildId: index.parents.get(id)?.workspace.latestBuild.id,
    });
  }
  return plans;
};

/** One family: backoff first, then either the missing-parent path or the live-parent path. */
const planFamily = (ctx: ChildPlanning, entries: FamilyEntries, now: number): PlannedAction[] => {
  const { parent, records, missing } = entries;
  const backoff = planBackoff(ctx.family, parent, entries.failures, now, ctx.config);
  if (backoff.skip) return [backoff.skip];
  const out: FamilyActions = { bookkeeping: [...backoff.bookkeeping], notes: [], work: [] };
  if (parent === undefined || parent.workspace.latestBuild.transition === 'delete') {
    return planParentGone(ctx, out, records, missing, now);
  }
  return planParentAlive(ctx, out, parent, records, missing);
};

/** The parent is gone: keep its children for the grace period, then remove them. */
const planParentGone = (
  ctx: ChildPlanning,
  out: FamilyActions,
  records: FamilyEntries['records'],
  missing: ParentMissingRecord | undefined,
  now: number,
): PlannedAction[] => {
  const { family, config } = ctx;
  const { bookkeeping, notes, work } = out;
  if (records.length === 0) {
    if (missing) {
      bookkeeping.push({
        kind: 'clear-parent-missing',
        family,
        reason: 'the parent is gone and no children are left to manage',
      });
    }
    return [...bookkeeping, ...notes];
  }
  if (!missing) {
    bookkeeping.push({
      kind: 'record-parent-missing',
      family,
      since: now,
      reason: `parent ${family.parent} not found; its ${records.length} child record(s) are kept for the ${formatDuration(config.gracePeriodMs)} grace period`,
    });
    if (config.gracePeriodMs > 0) return [...bookkeeping];
  }
  const since = missing?.since ?? now;
  const until = since + config.gracePeriodMs;
  if (now < until) {
    return [
      ...bookkeeping,
      {
        kind: 'grace-wait',
        family,
        until,
        reason: `parent ${family.parent} missing since ${new Date(since).toISOString()}; children are removed after ${new Date(until).toISOString()} if it does not come back`,
      },
    ];
  }
  const why = `parent ${family.parent} has been missing since ${new Date(since).toISOString()} (grace period over)`;
  for (const record of records) planRemoval(ctx, out, record, why, true);
  return [...bookkeeping, ...notes, ...work];
};

/** The parent is alive: bring its children to the count it asks for (capped at `maxChildren`). */
const planParentAlive = (
  ctx: ChildPlanning,
  out: FamilyActions,
  parent: ParentView,
  records: FamilyEntries['records'],
  missing: ParentMissingRecord | undefined,
): PlannedAction[] => {
  const { family, config } = ctx;
  const { bookkeeping, notes, work } = out;
  const { workspace: parentWs } = parent;
  if (missing) {
    bookkeeping.push({ kind: 'clear-parent-missing', family, reason: `parent ${parentWs.name} is back` });
  }
  if (parent.count === undefined && records.length > 0) {
    // A count that is not a number says nothing about what the owner wants: change nothing.
    return [...bookkeeping];
  }
  const requested = parent.count ?? 0;
  const desired = Math.min(requested, config.maxChildren);
  if (requested > config.maxChildren) {
    notes.push({
      kind: 'count-clamped',
      family,
      requested,
      max: config.maxChildren,
      reason: `${config.countParameter}=${requested} is above the maximum of ${config.maxChildren}; managing ${config.maxChildren} children`,
    });
  }
  planDesiredChildren(ctx, out, parent, records, desired);

  const why =
    requested === 0
      ? `${config.countParameter} of ${parentWs.name} is now 0`
      : `${config.countParameter} of ${parentWs.name} is now ${desired}`;
  for (const record of records) {
    if (record.index > desired) planRemoval(ctx, out, record, why, false);
  }
  return [...bookkeeping, ...notes, ...work];
};

const formatDuration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}-minute` : `${Math.round(ms / 1000)}-second`;
