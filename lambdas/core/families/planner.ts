import { guardDestructive, presenceOf, unconfirmedAbsence } from './absence.js';
import { traitsOf } from './action-kinds.js';
import { planBackoff } from './backoff.js';
import type { FamiliesConfig } from './config.js';
import { type ChildDecision, type ChildPlanning, decideChild } from './decide-child.js';
import {
  type FamiliesSnapshot,
  type FamilyKey,
  familyId,
  type ParentMissingRecord,
  type PlannedAction,
  type WorkspaceRef,
} from './model.js';
import { type FamilyEntries, familyEntries, indexSnapshot, type ParentView } from './snapshot-index.js';

export { childParameters, childProvenance } from './decide-child.js';
export { parentCandidates, parseCount } from './snapshot-index.js';

export interface FamilyPlan {
  readonly family: FamilyKey;
  /** Ledger bookkeeping first, then reports, then Coder work (each in the order decided). Empty: as it should be. */
  readonly actions: PlannedAction[];
  /** The parent's latest build, when the parent is alive (recorded with failures). */
  readonly parentBuildId: string | undefined;
  /** Workspaces to read by themselves before the family can be decided (absence.ts); then plan again. */
  readonly reads: WorkspaceRef[];
  /** The parent's full parameters are needed to create a child (only its count is known). */
  readonly needsParameters: boolean;
}

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
 * - nothing is decided from a workspace's absence from a list: it is read by itself first, and
 *   only a deleted or vanished workspace is gone (absence.ts); a partial view removes nothing;
 * - children of a gone parent are kept for the whole grace period.
 */
export const planFamilies = (snapshot: FamiliesSnapshot, now: Date, config: FamiliesConfig): FamilyPlan[] => {
  const index = indexSnapshot(snapshot, config);
  const wanted = snapshot.onlyFamilies ? new Set(snapshot.onlyFamilies.map(familyId)) : undefined;
  const plans: FamilyPlan[] = [];
  for (const id of [...index.families].sort()) {
    if (wanted && !wanted.has(id)) continue;
    const family = index.keys.get(id) as FamilyKey;
    const parentBuildId = index.parents.get(id)?.workspace.latestBuild.id;
    // Without the parent's parameters nothing can be decided safely (it is not "missing" either).
    if (!index.parents.has(id) && index.unknownParents.has(id)) {
      plans.push({ family, actions: [], parentBuildId, reads: [], needsParameters: false });
      continue;
    }
    const ctx: ChildPlanning = { family, index, config, controllerUserId: snapshot.controllerUserId };
    plans.push({ family, parentBuildId, ...planFamily(ctx, familyEntries(index, id), now.getTime()) });
  }
  return plans;
};

/** Every family's actions in one list (tests and reports). */
export const planFamilyReconcile = (
  snapshot: FamiliesSnapshot,
  now: Date,
  config: FamiliesConfig,
): PlannedAction[] => planFamilies(snapshot, now, config).flatMap((plan) => plan.actions);

type Planned = Pick<FamilyPlan, 'actions' | 'reads' | 'needsParameters'>;

/** Collects a family's decisions in phase order: bookkeeping, then reports, then Coder work. */
class FamilyDecisions {
  private readonly byPhase = {
    ledger: [] as PlannedAction[],
    report: [] as PlannedAction[],
    coder: [] as PlannedAction[],
  };
  private readonly reads: WorkspaceRef[] = [];
  private needsParameters = false;

  add(...actions: PlannedAction[]): this {
    for (const action of actions) this.byPhase[traitsOf(action.kind).phase].push(action);
    return this;
  }

  take(decision: ChildDecision): this {
    this.add(...decision.actions);
    this.reads.push(...decision.reads);
    this.needsParameters ||= decision.needsParameters;
    return this;
  }

  read(ref: WorkspaceRef): this {
    this.reads.push(ref);
    return this;
  }

  done(): Planned {
    // A family that must read first changes nothing this round: its plan comes from the next one.
    const waiting = this.reads.length > 0 || this.needsParameters;
    return {
      actions: waiting ? [] : [...this.byPhase.ledger, ...this.byPhase.report, ...this.byPhase.coder],
      reads: this.reads,
      needsParameters: this.needsParameters,
    };
  }
}

/** One family: backoff first, then either the gone-parent path or the live-parent path. */
const planFamily = (ctx: ChildPlanning, entries: FamilyEntries, now: number): Planned => {
  const { parent, records, missing } = entries;
  const backoff = planBackoff(ctx.family, parent, entries.failures, now, ctx.config);
  const out = new FamilyDecisions();
  if (backoff.skip) return out.add(backoff.skip).done();
  out.add(...backoff.bookkeeping);
  if (parent) return planParentAlive(ctx, out, parent, records, missing);
  return planParentNotListed(ctx, out, records, missing, now);
};

/**
 * The parent is not among the listed parents. Gone only if every workspace it has been (the
 * ledger's parent ids, and a listed one still being deleted) reads back as deleted or vanished.
 */
const planParentNotListed = (
  ctx: ChildPlanning,
  out: FamilyDecisions,
  records: FamilyEntries['records'],
  missing: ParentMissingRecord | undefined,
  now: number,
): Planned => {
  const { family } = ctx;
  if (records.length === 0) {
    if (missing) {
      out.add({
        kind: 'clear-parent-missing',
        family,
        reason: 'the parent is gone and no children are left to manage',
      });
    }
    return out.done();
  }
  const listed = presenceOf(ctx.index, { owner: family.owner, name: family.parent });
  const ids = new Set(records.map((r) => r.parentId));
  if (listed.kind === 'listed') ids.add(listed.workspace.id);
  for (const id of [...ids].sort()) {
    const presence = presenceOf(ctx.index, { id });
    if (presence.kind === 'listed' || presence.kind === 'read') {
      // Still there (being deleted, or out of this run's lists): its children stay as they are.
      if (missing && presence.workspace.latestBuild.transition !== 'delete') {
        out.add({
          kind: 'clear-parent-missing',
          family,
          reason: `parent ${family.parent} is there when read by itself (workspace ${id}), though not in this run's list`,
        });
      }
      return out.done();
    }
    if (presence.kind === 'unconfirmed') {
      if (presence.readFailed === undefined) out.read(presence.ref);
      else {
        return out
          .add(
            unconfirmedAbsence(
              family,
              'record-parent-missing',
              presence,
              `parent ${family.parent} (workspace ${id})`,
            ),
          )
          .done();
      }
    }
  }
  if (out.done().reads.length > 0) return out.done();
  return planParentGone(ctx, out, records, missing, now);
};

/** The parent is gone (read back as deleted): keep its children for the grace period, then remove them. */
const planParentGone = (
  ctx: ChildPlanning,
  out: FamilyDecisions,
  records: FamilyEntries['records'],
  missing: ParentMissingRecord | undefined,
  now: number,
): Planned => {
  const { family, config } = ctx;
  if (!missing) {
    const record = guardDestructive(ctx.index, {
      kind: 'record-parent-missing',
      family,
      since: now,
      reason: `parent ${family.parent} is gone (read back as deleted); its ${records.length} child record(s) are kept for the ${formatDuration(config.gracePeriodMs)} grace period`,
    });
    out.add(record);
    if (config.gracePeriodMs > 0 || record.kind !== 'record-parent-missing') return out.done();
  }
  const since = missing?.since ?? now;
  const until = since + config.gracePeriodMs;
  if (now < until) {
    return out
      .add({
        kind: 'grace-wait',
        family,
        until,
        reason: `parent ${family.parent} gone since ${new Date(since).toISOString()}; children are removed after ${new Date(until).toISOString()} if it does not come back`,
      })
      .done();
  }
  const why = `parent ${family.parent} has been gone since ${new Date(since).toISOString()} (grace period over)`;
  for (const record of records)
    out.take(decideChild(ctx, { kind: 'unwanted', record, why, parentGone: true }));
  return out.done();
};

/** The parent is alive: bring its children to the count it asks for (capped at `maxChildren`). */
const planParentAlive = (
  ctx: ChildPlanning,
  out: FamilyDecisions,
  parent: ParentView,
  records: FamilyEntries['records'],
  missing: ParentMissingRecord | undefined,
): Planned => {
  const { family, config } = ctx;
  const { workspace: parentWs } = parent;
  if (missing) out.add({ kind: 'clear-parent-missing', family, reason: `parent ${parentWs.name} is back` });
  if (parent.count === undefined && records.length > 0) {
    // A count that is not a number says nothing about what the owner wants: change nothing.
    return out.done();
  }
  const requested = parent.count ?? 0;
  const desired = Math.min(requested, config.maxChildren);
  if (requested > config.maxChildren) {
    out.add({
      kind: 'count-clamped',
      family,
      requested,
      max: config.maxChildren,
      reason: `${config.countParameter}=${requested} is above the maximum of ${config.maxChildren}; managing ${config.maxChildren} children`,
    });
  }
  const byIndex = new Map(records.map((r) => [r.index, r]));
  for (let i = 1; i <= desired; i++) {
    out.take(decideChild(ctx, { kind: 'wanted', index: i, record: byIndex.get(i), parent, desired }));
  }
  const why = `${config.countParameter} of ${parentWs.name} is now ${requested === 0 ? 0 : desired}`;
  for (const record of records) {
    if (record.index > desired) {
      out.take(decideChild(ctx, { kind: 'unwanted', record, why, parentGone: false }));
    }
  }
  return out.done();
};

const formatDuration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}-minute` : `${Math.round(ms / 1000)}-second`;
