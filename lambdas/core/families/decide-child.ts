/**
 * The one decision about a child (as Instance Scheduler's scheduling decision is one function of
 * its inputs): given what the ledger records for an index, what Coder shows under its id and name,
 * and whether the family still wants it, what to do and why. Planning uses it for every index; the
 * run uses it again after a create's 409 (the executor only reads the name back and reports
 * "ambiguous"), so ownership is decided in exactly one place.
 */
import {
  guardDestructive,
  type Presence,
  presenceOf,
  presentWorkspace,
  unconfirmedAbsence,
} from './absence.js';
import type { FamiliesConfig } from './config.js';
import type {
  BuildParameter,
  ChildRecord,
  FamilyKey,
  FamilyWorkspace,
  FullParameters,
  PlannedAction,
  WorkspaceRef,
} from './model.js';
import { childWorkspaceName } from './names.js';
import type { ParentView, SnapshotIndex } from './snapshot-index.js';

/** What every child decision of one family needs to know. */
export interface ChildPlanning {
  readonly family: FamilyKey;
  readonly index: SnapshotIndex;
  readonly config: FamiliesConfig;
  readonly controllerUserId: string | undefined;
}

/** One child index of a family, and what the family wants of it. */
export type ChildSubject =
  | {
      readonly kind: 'wanted';
      readonly index: number;
      readonly record: ChildRecord | undefined;
      readonly parent: ParentView;
      readonly desired: number;
    }
  | {
      readonly kind: 'unwanted';
      readonly record: ChildRecord;
      /** Why the family no longer wants it, for the reason. */
      readonly why: string;
      /** The parent is gone (confirmed): policy `keep` releases the child instead of keeping it managed. */
      readonly parentGone: boolean;
    };

export interface ChildDecision {
  readonly actions: PlannedAction[];
  /** Workspaces to read by themselves before this child can be decided (then decide again). */
  readonly reads: WorkspaceRef[];
  /** A create is due but only the parent's count is known: read its full parameters, then decide again. */
  readonly needsParameters: boolean;
}

const decided = (...actions: PlannedAction[]): ChildDecision => ({
  actions,
  reads: [],
  needsParameters: false,
});
const mustRead = (ref: WorkspaceRef): ChildDecision => ({
  actions: [],
  reads: [ref],
  needsParameters: false,
});

/**
 * Did the controller create `holder`, which holds a child name the ledger has a record for?
 * - The ledger's own child id: ours, whatever its build number (an owner may have stopped and
 *   started it since).
 * - A first build names its initiator: ours if that is the controller's own Coder user. When that
 *   user could not be read this run the answer is `undecided`, never a guess from clocks: a
 *   controller clock ahead of Coder's would otherwise disown (and orphan) a child it created.
 * - Once the workspace has later builds its creator is no longer visible, and only a creation time
 *   at or after the intent counts as ours: skew can then turn a real child into a reported
 *   conflict, never adopt a stranger's.
 */
export const childProvenance = (
  holder: FamilyWorkspace,
  record: Pick<ChildRecord, 'intentAt' | 'childId'>,
  controllerUserId: string | undefined,
): 'ours' | 'theirs' | 'undecided' => {
  if (record.childId !== undefined && holder.id === record.childId) return 'ours';
  const build = holder.latestBuild;
  if (build.number === 1 && build.initiatorId) {
    if (!controllerUserId) return 'undecided';
    return build.initiatorId === controllerUserId ? 'ours' : 'theirs';
  }
  const created = holder.createdAt ? Date.parse(holder.createdAt) : Number.NaN;
  return Number.isFinite(created) && created >= record.intentAt ? 'ours' : 'theirs';
};

/**
 * The parent's parameters with the count set to 0 (and the marker, when configured) for a child.
 * Takes only full parameters: a count found by search cannot create a child.
 */
export const childParameters = (
  parent: FamilyWorkspace,
  parameters: FullParameters,
  config: FamiliesConfig,
): BuildParameter[] => {
  const count = config.countParameter.toLowerCase();
  const marker = config.childMarkerParameter?.toLowerCase();
  const out = parameters.values
    .filter((p) => p.name.toLowerCase() !== count && p.name.toLowerCase() !== marker)
    .map((p) => ({ name: p.name, value: p.value }));
  out.push({ name: config.countParameter, value: '0' });
  if (config.childMarkerParameter) out.push({ name: config.childMarkerParameter, value: parent.name });
  return out;
};

/** The decision for one child index. Pure: the same subject and snapshot always decide the same. */
export const decideChild = (ctx: ChildPlanning, subject: ChildSubject): ChildDecision =>
  subject.kind === 'wanted' ? decideWanted(ctx, subject) : decideUnwanted(ctx, subject);

const decideWanted = (
  ctx: ChildPlanning,
  subject: Extract<ChildSubject, { kind: 'wanted' }>,
): ChildDecision => {
  const { family } = ctx;
  const { record, parent, desired, index: i } = subject;
  // A recorded child keeps its name even if the naming rule changes; new children use the rule.
  const childName = record?.childName ?? childWorkspaceName(parent.workspace.name, i);
  const ref = { index: i, childName };
  const holder = presenceOf(ctx.index, { owner: family.owner, name: childName });
  const listedHolder = holder.kind === 'listed' ? holder.workspace : undefined;

  if (record?.state === 'confirmed' && record.childId) {
    const child = presenceOf(ctx.index, { id: record.childId });
    const alive = presentWorkspace(child);
    if (alive) return decided(...planPower(ctx, alive, record, parent.workspace));
    if (child.kind === 'unconfirmed') {
      if (child.readFailed === undefined) return mustRead(child.ref);
      return decided(unconfirmedAbsence(family, 'forget-child', child, `recorded child ${childName}`, ref));
    }
    // Confirmed gone by reading it: the name is free again, or someone else took it.
    if (listedHolder) {
      return decided(
        conflictAction(
          family,
          i,
          childName,
          listedHolder,
          'the recorded child was deleted and the name reused',
        ),
        guardDestructive(ctx.index, {
          kind: 'forget-child',
          family,
          ...ref,
          childId: record.childId,
          reason: `recorded child ${record.childId} no longer exists (read back as deleted)`,
        }),
      );
    }
    return create(
      ctx,
      parent,
      i,
      childName,
      `child ${i} of ${desired} was deleted outside the controller (read back as deleted); recreating it`,
      record.childId,
    );
  }
  if (record) {
    if (listedHolder) return settleHolder(ctx, ctx.index, record, listedHolder, 'wanted');
    return create(
      ctx,
      parent,
      i,
      childName,
      `child ${i} of ${desired} is missing (an earlier create did not finish)`,
    );
  }
  if (listedHolder) {
    return decided(conflictAction(family, i, childName, listedHolder, 'not in the ownership ledger'));
  }
  return create(ctx, parent, i, childName, `child ${i} of ${desired} is missing`);
};

/**
 * A child the family no longer wants, by the removal policy. Only a child the ledger confirms is
 * ever stopped or deleted; an unconfirmed intent is adopted first (when the controller created its
 * holder) or forgotten once its name is read back as free or someone else's.
 */
const decideUnwanted = (
  ctx: ChildPlanning,
  subject: Extract<ChildSubject, { kind: 'unwanted' }>,
): ChildDecision => {
  const { family, config } = ctx;
  const { record, why, parentGone } = subject;
  const ref = { index: record.index, childName: record.childName };
  if (record.state === 'intent' || !record.childId) {
    const holder = presenceOf(ctx.index, { owner: family.owner, name: record.childName });
    const found = presentWorkspace(holder);
    if (found) return settleHolder(ctx, ctx.index, record, found, 'unwanted', why);
    if (holder.kind === 'unconfirmed') {
      if (holder.readFailed === undefined) return mustRead(holder.ref);
      return decided(unconfirmedAbsence(family, 'forget-child', holder, record.childName, ref));
    }
    return decided(
      guardDestructive(ctx.index, {
        kind: 'forget-child',
        family,
        ...ref,
        reason: `the create intent for ${record.childName} is no longer needed (${why}) and no workspace holds the name`,
      }),
    );
  }
  const presence: Presence = presenceOf(ctx.index, { id: record.childId });
  const child = presentWorkspace(presence);
  if (!child) {
    if (presence.kind === 'unconfirmed') {
      if (presence.readFailed === undefined) return mustRead(presence.ref);
      return decided(unconfirmedAbsence(family, 'forget-child', presence, record.childName, ref));
    }
    return decided(
      guardDestructive(ctx.index, {
        kind: 'forget-child',
        family,
        ...ref,
        childId: record.childId,
        reason: `${record.childName} no longer exists in Coder (read back as deleted)`,
      }),
    );
  }
  const build = child.latestBuild;
  if (config.removalPolicy === 'keep') {
    if (parentGone) {
      return decided(
        guardDestructive(ctx.index, {
          kind: 'release-child',
          family,
          ...ref,
          childId: child.id,
          reason: `${why}; policy "keep" leaves ${record.childName} to its owner and stops managing it`,
        }),
      );
    }
    return decided({
      kind: 'keep-child',
      family,
      ...ref,
      childId: child.id,
      reason: `${why}; policy "keep" leaves ${record.childName} as it is`,
    });
  }
  if (build.jobActive) {
    return decided({
      kind: 'child-busy',
      family,
      ...ref,
      childId: child.id,
      reason: `${why}, but ${record.childName} has a ${build.transition} build in progress; retrying next run`,
    });
  }
  if (config.removalPolicy === 'stop') {
    if ((build.transition === 'stop' && build.status === 'stopped') || build.transition === 'delete') {
      return decided();
    }
    return decided(
      guardDestructive(ctx.index, {
        kind: 'stop-child',
        family,
        ...ref,
        childId: child.id,
        removal: true,
        reason: `${why}; policy "stop"`,
      }),
    );
  }
  return decided(
    guardDestructive(ctx.index, {
      kind: 'delete-child',
      family,
      ...ref,
      childId: child.id,
      reason: `${why}; policy "delete"`,
    }),
  );
};

/**
 * After a create met a taken name (409, or a lost answer), the name was read back and `holder`
 * holds it: the same decision as planning makes for a listed holder. The read was of the workspace
 * itself, so the view behind it is complete. `record` carries the ledger's own child id for the
 * index, if it had one (the record the create replaced).
 */
export const decideTakenName = (
  ctx: Pick<ChildPlanning, 'family' | 'controllerUserId'>,
  record: ChildRecord,
  holder: FamilyWorkspace,
): ChildDecision => settleHolder(ctx, { view: 'complete' }, record, holder, 'wanted');

/** A workspace holds the name of a recorded child: adopt it if ours, report it if someone else's. */
const settleHolder = (
  ctx: Pick<ChildPlanning, 'family' | 'controllerUserId'>,
  view: Pick<SnapshotIndex, 'view'>,
  record: ChildRecord,
  holder: FamilyWorkspace,
  wanted: 'wanted' | 'unwanted',
  why?: string,
): ChildDecision => {
  const { family } = ctx;
  const ref = { index: record.index, childName: record.childName };
  const provenance = childProvenance(holder, record, ctx.controllerUserId);
  if (provenance === 'undecided') return decided(undecidedAction(family, record, holder));
  if (provenance === 'ours') {
    return decided({
      kind: 'adopt-child',
      family,
      ...ref,
      childId: holder.id,
      reason:
        wanted === 'wanted'
          ? `${record.childName} exists and was created by the controller after its ledger intent; recording its id`
          : `${record.childName} was created by the controller (ledger intent) but never confirmed; recording it before removing it on the next run`,
    });
  }
  const forget = guardDestructive(view, {
    kind: 'forget-child',
    family,
    ...ref,
    reason:
      wanted === 'wanted'
        ? `dropping the create intent for ${record.childName}: the name belongs to someone else`
        : `the create intent for ${record.childName} is no longer needed (${why ?? 'not wanted'})`,
  });
  if (wanted === 'unwanted') return decided(forget);
  return decided(
    conflictAction(
      family,
      record.index,
      record.childName,
      holder,
      'created by someone else before or outside the controller',
    ),
    forget,
  );
};

/** With `followParentPower`, a confirmed child is started and stopped with its parent. */
const planPower = (
  ctx: ChildPlanning,
  child: FamilyWorkspace,
  record: ChildRecord,
  parent: FamilyWorkspace,
): PlannedAction[] => {
  const { config, family } = ctx;
  if (!config.followParentPower) return [];
  const p = parent.latestBuild;
  const c = child.latestBuild;
  if (p.jobActive || c.transition === 'delete') return [];
  const ref = { index: record.index, childName: record.childName, childId: child.id };
  const parentRunning = p.transition === 'start' && p.status === 'running';
  const parentStopped = p.transition === 'stop' && p.status === 'stopped';
  const childRunning = c.transition === 'start' && c.status === 'running';
  const childStopped = c.transition === 'stop' && c.status === 'stopped';
  if (c.jobActive && ((parentRunning && !childRunning) || (parentStopped && !childStopped))) {
    return [{ kind: 'child-busy', family, ...ref, reason: `${record.childName} has a build in progress` }];
  }
  if (parentRunning && childStopped) {
    return [{ kind: 'start-child', family, ...ref, reason: `parent ${parent.name} is running` }];
  }
  if (parentStopped && childRunning) {
    return [
      guardDestructive(ctx.index, {
        kind: 'stop-child',
        family,
        ...ref,
        removal: false,
        reason: `parent ${parent.name} is stopped`,
      }),
    ];
  }
  return [];
};

/** A create from the parent's full parameters; with only its count known, the parameters are read first. */
const create = (
  ctx: ChildPlanning,
  parent: ParentView,
  index: number,
  childName: string,
  reason: string,
  replacesChildId?: string,
): ChildDecision => {
  if (parent.parameters.kind !== 'full') return { actions: [], reads: [], needsParameters: true };
  const ws = parent.workspace;
  return decided({
    kind: 'create-child',
    family: ctx.family,
    index,
    childName,
    ownerName: ws.ownerName,
    organizationId: ws.organizationId,
    templateId: ws.templateId,
    parentId: ws.id,
    parameters: childParameters(ws, parent.parameters, ctx.config),
    replacesChildId,
    reason,
  });
};

const conflictAction = (
  family: FamilyKey,
  index: number,
  childName: string,
  holder: FamilyWorkspace,
  why: string,
): PlannedAction => ({
  kind: 'report-conflict',
  family,
  index,
  childName,
  holderId: holder.id,
  reason: `${childName} is held by workspace ${holder.id}, which the controller did not create (${why}); not taking it over`,
});

const undecidedAction = (family: FamilyKey, record: ChildRecord, holder: FamilyWorkspace): PlannedAction => ({
  kind: 'ownership-undecided',
  family,
  index: record.index,
  childName: record.childName,
  holderId: holder.id,
  reason: `${record.childName} exists but the controller's own Coder user could not be read this run; keeping the create intent and deciding ownership next run`,
});
