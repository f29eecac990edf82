import type { FamiliesConfig } from './config.js';
import {
  type BuildParameter,
  type ChildRecord,
  type FailureRecord,
  type FamiliesSnapshot,
  type FamilyKey,
  type FamilyWorkspace,
  familyId,
  familyKey,
  type ParentMissingRecord,
  type PlannedAction,
} from './model.js';
import { childWorkspaceName } from './names.js';

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
    plans.push({
      family,
      actions: planFamily(id, index, now.getTime(), config, snapshot.controllerUserId),
      parentBuildId: index.parents.get(id)?.workspace.latestBuild.id,
    });
  }
  return plans;
};

/**
 * Workspaces that could be parents: live, and not a child in the ledger (by id, or by name while
 * the child is only an intent). Their latest builds' parameters are what a snapshot must load.
 */
export const parentCandidates = (
  workspaces: readonly FamilyWorkspace[],
  ledger: Pick<FamiliesSnapshot['ledger'], 'children'>,
): FamilyWorkspace[] => {
  const childIds = new Set<string>();
  const intentNames = new Set<string>();
  for (const record of ledger.children) {
    if (record.childId) childIds.add(record.childId);
    if (record.state === 'intent') intentNames.add(ownerName(record.owner, record.childName));
  }
  return workspaces.filter(
    (w) =>
      !childIds.has(w.id) &&
      !intentNames.has(ownerName(w.ownerName, w.name)) &&
      w.latestBuild.transition !== 'delete',
  );
};

/**
 * Whether `holder`, a workspace with the name of a child the ledger holds an intent for, is the one
 * the controller created (a create whose answer was lost to a crash, timeout or 5xx). The intent
 * is written before every create call, so:
 * - while the workspace is on its first build, Coder's `initiator_id` says who created it: the
 *   controller's own user means ours, anyone else means not ours (no clocks involved);
 * - after that, ours only if Coder's `created_at` is not earlier than the intent. Clock skew can
 *   only make this answer "not ours", which is reported as a conflict and never acted on.
 */
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

/** The parent's count parameter: a non-negative integer, `undefined` when absent or not a number. */
export const parseCount = (
  parameters: readonly BuildParameter[],
  countParameter: string,
): number | undefined => {
  const wanted = countParameter.toLowerCase();
  const raw = parameters.find((p) => p.name.toLowerCase() === wanted)?.value.trim();
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return undefined;
  return Number(raw);
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

interface ParentView {
  readonly workspace: FamilyWorkspace;
  readonly parameters: readonly BuildParameter[];
  /** Undefined when the count parameter is absent or not a number. */
  readonly count: number | undefined;
}

interface SnapshotIndex {
  readonly families: Set<string>;
  readonly keys: Map<string, FamilyKey>;
  readonly parents: Map<string, ParentView>;
  /** A workspace that would be a parent but whose build parameters were not loaded. */
  readonly unknownParents: Set<string>;
  readonly children: Map<string, ChildRecord[]>;
  readonly missing: Map<string, ParentMissingRecord>;
  readonly failures: Map<string, FailureRecord>;
  readonly byId: Map<string, FamilyWorkspace>;
  /** `<owner>/<name>`, lowercased. */
  readonly byOwnerName: Map<string, FamilyWorkspace>;
}

const ownerName = (owner: string, name: string): string => `${owner.toLowerCase()}/${name.toLowerCase()}`;

const indexSnapshot = (snapshot: FamiliesSnapshot, config: FamiliesConfig): SnapshotIndex => {
  const index: SnapshotIndex = {
    families: new Set(),
    keys: new Map(),
    parents: new Map(),
    unknownParents: new Set(),
    children: new Map(),
    missing: new Map(),
    failures: new Map(),
    byId: new Map(),
    byOwnerName: new Map(),
  };
  const addFamily = (key: FamilyKey): string => {
    const id = familyId(key);
    index.families.add(id);
    index.keys.set(id, key);
    return id;
  };
  for (const record of snapshot.ledger.children) {
    const id = addFamily(familyKey(record.owner, record.parent));
    const list = index.children.get(id) ?? [];
    list.push(record);
    index.children.set(id, list);
  }
  for (const record of snapshot.ledger.missing) {
    index.missing.set(addFamily(familyKey(record.owner, record.parent)), record);
  }
  for (const record of snapshot.ledger.failures) {
    index.failures.set(addFamily(familyKey(record.owner, record.parent)), record);
  }
  for (const workspace of snapshot.workspaces) {
    index.byId.set(workspace.id, workspace);
    index.byOwnerName.set(ownerName(workspace.ownerName, workspace.name), workspace);
  }
  // Loop prevention by ownership, not by name: a workspace the controller created (or may just
  // have created) is never a parent, even if someone edits its count parameter.
  for (const workspace of parentCandidates(snapshot.workspaces, snapshot.ledger)) {
    const key = familyKey(workspace.ownerName, workspace.name);
    const parameters = snapshot.parameters.get(workspace.latestBuild.id);
    if (!parameters) {
      index.unknownParents.add(familyId(key));
      continue;
    }
    const count = parseCount(parameters, config.countParameter);
    const id = familyId(key);
    if ((count ?? 0) >= 1 || index.families.has(id)) {
      addFamily(key);
      index.parents.set(id, { workspace, parameters, count });
    }
  }
  return index;
};

const planFamily = (
  id: string,
  index: SnapshotIndex,
  now: number,
  config: FamiliesConfig,
  controllerUserId: string | undefined,
): PlannedAction[] => {
  const family = index.keys.get(id) as FamilyKey;
  const parent = index.parents.get(id);
  // Without the parent's parameters nothing can be decided safely (it is not "missing" either).
  if (!parent && index.unknownParents.has(id)) return [];
  const records = [...(index.children.get(id) ?? [])].sort((a, b) => a.index - b.index);
  const missing = index.missing.get(id);
  const failures = index.failures.get(id);

  const bookkeeping: PlannedAction[] = [];
  const work: PlannedAction[] = [];
  const notes: PlannedAction[] = [];

  if (failures && (failures.consecutive > 0 || failures.hard > 0)) {
    const parentChanged =
      parent !== undefined &&
      failures.parentBuildId !== undefined &&
      parent.workspace.latestBuild.id !== failures.parentBuildId;
    if (failures.hard >= config.failureCap && !parentChanged) {
      return [
        {
          kind: 'hard-limit-skip',
          family,
          failures: failures.hard,
          reason: `${failures.hard} consecutive failures reached the cap of ${config.failureCap}; the family is left alone until its parent gets a new build or an operator resets it (last error: ${failures.lastError ?? 'unknown'})`,
        },
      ];
    }
    if (parentChanged) {
      bookkeeping.push({
        kind: 'clear-failures',
        family,
        reason: 'the parent has a new build since the last failure, so the failure count starts over',
      });
    } else {
      const until = failures.lastFailureAt + failures.consecutive * config.backoffBaseMs;
      if (now < until) {
        return [
          {
            kind: 'backoff-skip',
            family,
            until,
            reason: `backing off after ${failures.consecutive} failed run(s) until ${new Date(until).toISOString()}`,
          },
        ];
      }
    }
  }

  const provenanceOf = (holder: FamilyWorkspace, record: ChildRecord) =>
    childProvenance(holder, record, controllerUserId);
  const undecided = (record: ChildRecord, holder: FamilyWorkspace): PlannedAction => ({
    kind: 'ownership-undecided',
    family,
    index: record.index,
    childName: record.childName,
    holderId: holder.id,
    reason: `${record.childName} exists but the controller's own Coder user could not be read this run; keeping the create intent and deciding ownership next run`,
  });

  const holderOf = (childName: string): FamilyWorkspace | undefined =>
    index.byOwnerName.get(ownerName(family.owner, childName));

  const parentGone = parent === undefined || parent.workspace.latestBuild.transition === 'delete';

  const remove = (record: ChildRecord, why: string): void => {
    const ref = { index: record.index, childName: record.childName };
    if (record.state === 'intent' || !record.childId) {
      const holder = holderOf(record.childName);
      const provenance = holder ? provenanceOf(holder, record) : undefined;
      if (holder && provenance === 'undecided') {
        bookkeeping.push(undecided(record, holder));
      } else if (holder && provenance === 'ours') {
        bookkeeping.push({
          kind: 'adopt-child',
          family,
          ...ref,
          childId: holder.id,
          reason: `${record.childName} was created by the controller (ledger intent) but never confirmed; recording it before removing it on the next run`,
        });
      } else {
        bookkeeping.push({
          kind: 'forget-child',
          family,
          ...ref,
          reason: `the create intent for ${record.childName} is no longer needed (${why})`,
        });
      }
      return;
    }
    const child = index.byId.get(record.childId);
    if (!child) {
      bookkeeping.push({
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
        bookkeeping.push({
          kind: 'release-child',
          family,
          ...ref,
          childId: child.id,
          reason: `${why}; policy "keep" leaves ${record.childName} to its owner and stops managing it`,
        });
      } else {
        notes.push({
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
      notes.push({
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
      work.push({
        kind: 'stop-child',
        family,
        ...ref,
        childId: child.id,
        removal: true,
        reason: `${why}; policy "stop"`,
      });
      return;
    }
    work.push({ kind: 'delete-child', family, ...ref, childId: child.id, reason: `${why}; policy "delete"` });
  };

  if (parentGone) {
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
    for (const record of records) remove(record, why);
    return [...bookkeeping, ...notes, ...work];
  }

  // The parent is alive.
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
  const byIndex = new Map(records.map((r) => [r.index, r]));
  const parameters = childParameters(parentWs, parent.parameters, config);
  const create = (i: number, childName: string, reason: string, replacesChildId?: string): void => {
    work.push({
      kind: 'create-child',
      family,
      index: i,
      childName,
      ownerName: parentWs.ownerName,
      organizationId: parentWs.organizationId,
      templateId: parentWs.templateId,
      parentId: parentWs.id,
      parameters,
      replacesChildId,
      reason,
    });
  };
  const conflict = (i: number, childName: string, holder: FamilyWorkspace, why: string): void => {
    notes.push({
      kind: 'report-conflict',
      family,
      index: i,
      childName,
      holderId: holder.id,
      reason: `${childName} is held by workspace ${holder.id}, which the controller did not create (${why}); not taking it over`,
    });
  };

  for (let i = 1; i <= desired; i++) {
    const record = byIndex.get(i);
    // A recorded child keeps its name even if the naming rule changes; new children use the rule.
    const childName = record?.childName ?? childWorkspaceName(parentWs.name, i);
    const holder = holderOf(childName);
    const ref = { index: i, childName };
    if (record?.state === 'confirmed' && record.childId) {
      const child = index.byId.get(record.childId);
      if (child) {
        planPower(child, record, parentWs, config, family, work, notes);
        continue;
      }
      if (holder) {
        conflict(i, childName, holder, 'the recorded child was deleted and the name reused');
        bookkeeping.push({
          kind: 'forget-child',
          family,
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
      const provenance = holder ? provenanceOf(holder, record) : undefined;
      if (holder && provenance === 'undecided') {
        bookkeeping.push(undecided(record, holder));
      } else if (holder && provenance === 'ours') {
        bookkeeping.push({
          kind: 'adopt-child',
          family,
          ...ref,
          childId: holder.id,
          reason: `${childName} exists and was created by the controller after its ledger intent; recording its id`,
        });
      } else if (holder) {
        conflict(i, childName, holder, 'created by someone else before or outside the controller');
        bookkeeping.push({
          kind: 'forget-child',
          family,
          ...ref,
          reason: `dropping the create intent for ${childName}: the name belongs to someone else`,
        });
      } else {
        create(i, childName, `child ${i} of ${desired} is missing (an earlier create did not finish)`);
      }
      continue;
    }
    if (holder) {
      conflict(i, childName, holder, 'not in the ownership ledger');
      continue;
    }
    create(i, childName, `child ${i} of ${desired} is missing`);
  }

  const why =
    requested === 0
      ? `${config.countParameter} of ${parentWs.name} is now 0`
      : `${config.countParameter} of ${parentWs.name} is now ${desired}`;
  for (const record of records) {
    if (record.index > desired) remove(record, why);
  }
  return [...bookkeeping, ...notes, ...work];
};

const planPower = (
  child: FamilyWorkspace,
  record: ChildRecord,
  parent: FamilyWorkspace,
  config: FamiliesConfig,
  family: FamilyKey,
  work: PlannedAction[],
  notes: PlannedAction[],
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
    notes.push({ kind: 'child-busy', family, ...ref, reason: `${record.childName} has a build in progress` });
    return;
  }
  if (parentRunning && childStopped) {
    work.push({ kind: 'start-child', family, ...ref, reason: `parent ${parent.name} is running` });
  } else if (parentStopped && childRunning) {
    work.push({
      kind: 'stop-child',
      family,
      ...ref,
      removal: false,
      reason: `parent ${parent.name} is stopped`,
    });
  }
};

const formatDuration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}-minute` : `${Math.round(ms / 1000)}-second`;
