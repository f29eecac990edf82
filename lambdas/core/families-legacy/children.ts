import type { FamiliesConfig } from './config.js';
import type { BuildParameter, ChildRecord, FamilyKey, FamilyWorkspace, PlannedAction } from './model.js';
import { childWorkspaceName } from './names.js';
import { type ParentView, type SnapshotIndex, workspaceNamed } from './snapshot-index.js';

/** What every child decision of one family needs to know. */
export interface ChildPlanning {
  readonly family: FamilyKey;
  readonly index: SnapshotIndex;
  readonly config: FamiliesConfig;
  readonly controllerUserId: string | undefined;
}

/**
 * A family's actions by phase; the plan is `[...bookkeeping, ...notes, ...work]` so ledger
 * bookkeeping runs before Coder work, each list in the order it was decided.
 */
export interface FamilyActions {
  readonly bookkeeping: PlannedAction[];
  readonly notes: PlannedAction[];
  readonly work: PlannedAction[];
}

/**
 * Did the controller create this workspace, which holds a child name the ledger has an intent for?
 * A first build names its initiator: ours if that is the controller's own Coder user. When that user
 * could not be read this run the answer is `undecided`, never a guess from clocks: a controller clock
 * ahead of Coder's would otherwise disown (and orphan) a child it created. Once the workspace has
 * later builds its creator is no longer visible, and only a creation time at or after the intent
 * counts as ours: skew can then turn a real child into a reported conflict, never adopt a stranger's.
 */
export const childProvenance = (
  holder: FamilyWorkspace,
  record: Pick<ChildRecord, 'intentAt'>,
  controllerUserId: string | undefined,
): 'ours' | 'theirs' | 'undecided' => {
  const build = holder.latestBuild;
  if (build.number === 1 && build.initiatorId) {
    if (!controllerUserId) return 'undecided';
    return build.initiatorId === controllerUserId ? 'ours' : 'theirs';
  }
  const created = holder.createdAt ? Date.parse(holder.createdAt) : Number.NaN;
  return Number.isFinite(created) && created >= record.intentAt ? 'ours' : 'theirs';
};

/** The parent's parameters with the count set to 0 (and the marker, when configured) for a child. */
export const childParameters = (
  parent: FamilyWorkspace,
  parameters: readonly BuildParameter[],
  config: FamiliesConfig,
): BuildParameter[] => {
  const count = config.countParameter.toLowerCase();
  const marker = config.childMarkerParameter?.toLowerCase();
  const out = parameters
    .filter((p) => p.name.toLowerCase() !== count && p.name.toLowerCase() !== marker)
    .map((p) => ({ name: p.name, value: p.value }));
  out.push({ name: config.countParameter, value: '0' });
  if (config.childMarkerParameter) out.push({ name: config.childMarkerParameter, value: parent.name });
  return out;
};

/**
 * Plans children 1..desired of a live parent: power-follow the confirmed ones, adopt or drop
 * unconfirmed intents, report names held by others, create the missing ones.
 */
export const planDesiredChildren = (
  ctx: ChildPlanning,
  out: FamilyActions,
  parent: ParentView,
  records: readonly ChildRecord[],
  desired: number,
): void => {
  const parentWs = parent.workspace;
  const byIndex = new Map(records.map((r) => [r.index, r]));
  // Computed once: every child of this run is created with the same parameters.
  const parameters = childParameters(parentWs, parent.parameters, ctx.config);
  const create = (i: number, childName: string, reason: string, replacesChildId?: string): void => {
    out.work.push(createAction(ctx.family, parentWs, parameters, i, childName, reason, replacesChildId));
  };

  for (let i = 1; i <= desired; i++) {
    const record = byIndex.get(i);
    // A recorded child keeps its name even if the naming rule changes; new children use the rule.
    const childName = record?.childName ?? childWorkspaceName(parentWs.name, i);
    const holder = workspaceNamed(ctx.index, ctx.family.owner, childName);
    const ref = { index: i, childName };
    if (record?.state === 'confirmed' && record.childId) {
      const child = ctx.index.byId.get(record.childId);
      if (child) {
        planPower(child, record, parentWs, ctx.config, ctx.family, out);
        continue;
      }
      if (holder) {
        out.notes.push(
          conflictAction(
            ctx.family,
            i,
            childName,
            holder,
            'the recorded child was deleted and the name reused',
          ),
        );
        out.bookkeeping.push({
          kind: 'forget-child',
          family: ctx.family,
          ...ref,
          childId: record.childId,
          reason: `recorded child ${record.childId} no longer exists`,
        });
        continue;
      }
      create(
        i,
        childName,
        `child ${i} of ${desired} was deleted outside the controller; recreating it`,
        record.childId,
      );
      continue;
    }
    if (record) {
      const provenance = holder ? childProvenance(holder, record, ctx.controllerUserId) : undefined;
      if (holder && provenance === 'undecided') {
        out.bookkeeping.push(undecidedAction(ctx.family, record, holder));
      } else if (holder && provenance === 'ours') {
        out.bookkeeping.push({
          kind: 'adopt-child',
          family: ctx.family,
          ...ref,
          childId: holder.id,
          reason: `${childName} exists and was created by the controller after its ledger intent; recording its id`,
        });
      } else if (holder) {
        out.notes.push(
          conflictAction(
            ctx.family,
            i,
            childName,
            holder,
            'created by someone else before or outside the controller',
          ),
        );
        out.bookkeeping.push({
          kind: 'forget-child',
          family: ctx.family,
          ...ref,
          reason: `dropping the create intent for ${childName}: the name belongs to someone else`,
        });
      } else {
        create(i, childName, `child ${i} of ${desired} is missing (an earlier create did not finish)`);
      }
      continue;
    }
    if (holder) {
      out.notes.push(conflictAction(ctx.family, i, childName, holder, 'not in the ownership ledger'));
      continue;
    }
    create(i, childName, `child ${i} of ${desired} is missing`);
  }
};

/**
 * Plans the removal of one child the family no longer wants (`why` says why), by the removal
 * policy. Only a child the ledger confirms is ever stopped or deleted; an unconfirmed intent is
 * adopted first (when the controller created its holder) or forgotten.
 */
export const planRemoval = (
  ctx: ChildPlanning,
  out: FamilyActions,
  record: ChildRecord,
  why: string,
  parentGone: boolean,
): void => {
  const { family, config } = ctx;
  const ref = { index: record.index, childName: record.childName };
  if (record.state === 'intent' || !record.childId) {
    out.bookkeeping.push(settleIntent(ctx, record, why));
    return;
  }
  const child = ctx.index.byId.get(record.childId);
  if (!child) {
    out.bookkeeping.push({
      kind: 'forget-child',
      family,
      ...ref,
      childId: record.childId,
      reason: `${record.childName} no longer exists in Coder`,
    });
    return;
  }
  const build = child.latestBuild;
  if (config.removalPolicy === 'keep') {
    if (parentGone) {
      out.bookkeeping.push({
        kind: 'release-child',
        family,
        ...ref,
        childId: child.id,
        reason: `${why}; policy "keep" leaves ${record.childName} to its owner and stops managing it`,
      });
    } else {
      out.notes.push({
        kind: 'keep-child',
        family,
        ...ref,
        childId: child.id,
        reason: `${why}; policy "keep" leaves ${record.childName} as it is`,
      });
    }
    return;
  }
  if (build.jobActive) {
    out.notes.push({
      kind: 'child-busy',
      family,
      ...ref,
      childId: child.id,
      reason: `${why}, but ${record.childName} has a ${build.transition} build in progress; retrying next run`,
    });
    return;
  }
  if (config.removalPolicy === 'stop') {
    if (build.transition === 'stop' && build.status === 'stopped') return;
    if (build.transition === 'delete') return;
    out.work.push({
      kind: 'stop-child',
      family,
      ...ref,
      childId: child.id,
      removal: true,
      reason: `${why}; policy "stop"`,
    });
    return;
  }
  out.work.push({
    kind: 'delete-child',
    family,
    ...ref,
    childId: child.id,
    reason: `${why}; policy "delete"`,
  });
};

/** An unconfirmed intent that is no longer wanted: adopt its holder if ours, otherwise forget it. */
const settleIntent = (ctx: ChildPlanning, record: ChildRecord, why: string): PlannedAction => {
  const { family } = ctx;
  const ref = { index: record.index, childName: record.childName };
  const holder = workspaceNamed(ctx.index, family.owner, record.childName);
  const provenance = holder ? childProvenance(holder, record, ctx.controllerUserId) : undefined;
  if (holder && provenance === 'undecided') return undecidedAction(family, record, holder);
  if (holder && provenance === 'ours') {
    return {
      kind: 'adopt-child',
      family,
      ...ref,
      childId: holder.id,
      reason: `${record.childName} was created by the controller (ledger intent) but never confirmed; recording it before removing it on the next run`,
    };
  }
  return {
    kind: 'forget-child',
    family,
    ...ref,
    reason: `the create intent for ${record.childName} is no longer needed (${why})`,
  };
};

/** With `followParentPower`, a confirmed child is started and stopped with its parent. */
const planPower = (
  child: FamilyWorkspace,
  record: ChildRecord,
  parent: FamilyWorkspace,
  config: FamiliesConfig,
  family: FamilyKey,
  out: FamilyActions,
): void => {
  if (!config.followParentPower) return;
  const p = parent.latestBuild;
  const c = child.latestBuild;
  if (p.jobActive || c.transition === 'delete') return;
  const ref = { index: record.index, childName: record.childName, childId: child.id };
  const parentRunning = p.transition === 'start' && p.status === 'running';
  const parentStopped = p.transition === 'stop' && p.status === 'stopped';
  const childRunning = c.transition === 'start' && c.status === 'running';
  const childStopped = c.transition === 'stop' && c.status === 'stopped';
  if (c.jobActive && ((parentRunning && !childRunning) || (parentStopped && !childStopped))) {
    out.notes.push({
      kind: 'child-busy',
      family,
      ...ref,
      reason: `${record.childName} has a build in progress`,
    });
    return;
  }
  if (parentRunning && childStopped) {
    out.work.push({ kind: 'start-child', family, ...ref, reason: `parent ${parent.name} is running` });
  } else if (parentStopped && childRunning) {
    out.work.push({
      kind: 'stop-child',
      family,
      ...ref,
      removal: false,
      reason: `parent ${parent.name} is stopped`,
    });
  }
};

const createAction = (
  family: FamilyKey,
  parent: FamilyWorkspace,
  parameters: BuildParameter[],
  index: number,
  childName: string,
  reason: string,
  replacesChildId: string | undefined,
): PlannedAction => ({
  kind: 'create-child',
  family,
  index,
  childName,
  ownerName: parent.ownerName,
  organizationId: parent.organizationId,
  templateId: parent.templateId,
  parentId: parent.id,
  parameters,
  replacesChildId,
  reason,
});

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
