import type { FamiliesConfig } from './config.js';
import {
  type ChildRecord,
  type FailureRecord,
  type FamiliesSnapshot,
  type FamilyKey,
  type FamilyWorkspace,
  familyId,
  familyKey,
  type ParentMissingRecord,
  type ParentParameters,
  type ViewCompleteness,
  type WorkspaceRead,
} from './model.js';

/** A live parent with the parameters of its latest build. */
export interface ParentView {
  readonly workspace: FamilyWorkspace;
  readonly parameters: ParentParameters;
  /** Undefined when the count parameter is absent or not a number. */
  readonly count: number | undefined;
}

/** The snapshot looked up by family id (`familyId`), by workspace id and by owner and name. */
export interface SnapshotIndex {
  readonly view: ViewCompleteness;
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
  /** Workspaces read by themselves this run, by `refKey`. */
  readonly reads: ReadonlyMap<string, WorkspaceRead>;
}

/** What the snapshot holds about one family. */
export interface FamilyEntries {
  readonly family: FamilyKey;
  readonly parent: ParentView | undefined;
  /** The ledger's child records, by index. */
  readonly records: ChildRecord[];
  readonly missing: ParentMissingRecord | undefined;
  readonly failures: FailureRecord | undefined;
}

export const ownerName = (owner: string, name: string): string =>
  `${owner.toLowerCase()}/${name.toLowerCase()}`;

/** A count parameter's value: a non-negative integer, `undefined` when absent or not a number. */
export const parseCountValue = (raw: string | undefined): number | undefined => {
  const value = raw?.trim();
  if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
};

/** The parent's count: from the count parameter, or as discovery found it. */
export const parseCount = (parameters: ParentParameters, countParameter: string): number | undefined => {
  if (parameters.kind === 'count-only') return parameters.count;
  const wanted = countParameter.toLowerCase();
  return parseCountValue(parameters.values.find((p) => p.name.toLowerCase() === wanted)?.value);
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

export const indexSnapshot = (snapshot: FamiliesSnapshot, config: FamiliesConfig): SnapshotIndex => {
  const index: SnapshotIndex = {
    view: snapshot.view,
    families: new Set(),
    keys: new Map(),
    parents: new Map(),
    unknownParents: new Set(),
    children: new Map(),
    missing: new Map(),
    failures: new Map(),
    byId: new Map(),
    byOwnerName: new Map(),
    reads: snapshot.reads,
  };
  for (const record of snapshot.ledger.children) {
    const id = addFamily(index, familyKey(record.owner, record.parent));
    const list = index.children.get(id) ?? [];
    list.push(record);
    index.children.set(id, list);
  }
  for (const record of snapshot.ledger.missing) {
    index.missing.set(addFamily(index, familyKey(record.owner, record.parent)), record);
  }
  for (const record of snapshot.ledger.failures) {
    index.failures.set(addFamily(index, familyKey(record.owner, record.parent)), record);
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
      addFamily(index, key);
      index.parents.set(id, { workspace, parameters, count });
    }
  }
  return index;
};

const addFamily = (index: SnapshotIndex, key: FamilyKey): string => {
  const id = familyId(key);
  index.families.add(id);
  index.keys.set(id, key);
  return id;
};

export const familyEntries = (index: SnapshotIndex, id: string): FamilyEntries => ({
  family: index.keys.get(id) as FamilyKey,
  parent: index.parents.get(id),
  records: [...(index.children.get(id) ?? [])].sort((a, b) => a.index - b.index),
  missing: index.missing.get(id),
  failures: index.failures.get(id),
});

/** The listed workspace that holds a name in the owner's namespace, whoever created it. */
export const workspaceNamed = (
  index: SnapshotIndex,
  owner: string,
  name: string,
): FamilyWorkspace | undefined => index.byOwnerName.get(ownerName(owner, name));
