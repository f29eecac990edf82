import { type FamiliesSnapshot, type FamilyKey, familyId, familyKey, type LedgerState } from './model.js';
import { parentCandidates, planFamilies } from './planner.js';
import type { FamilyReconcileDeps } from './ports.js';
import type { ReconcileScope } from './run.js';

/**
 * What a run reads before it plans: the workspaces and ledger (one owner's or all), each parent's
 * count (discovery), and full parameters only for parents that need a child created; and which
 * family a webhook's workspace belongs to.
 */

export const loadSnapshot = async (
  deps: FamilyReconcileDeps,
  controllerUserId: string | undefined,
  family: FamilyKey | undefined,
  knownLedger?: LedgerState,
): Promise<FamiliesSnapshot> => {
  const [workspaces, ledger] = await Promise.all([
    family ? deps.workspaces.listOwnerWorkspaces(family.owner) : deps.workspaces.listManagedWorkspaces(),
    knownLedger ?? (family ? deps.ledger.loadOwner(family.owner) : deps.ledger.loadAll()),
  ]);
  const candidates = parentCandidates(workspaces, ledger).filter(
    (w) => !family || familyId(familyKey(w.ownerName, w.name)) === familyId(family),
  );
  const found = deps.workspaces.parentParameters
    ? await deps.workspaces.parentParameters(candidates, {
        countParameter: deps.config.countParameter,
        maxCount: deps.config.maxChildren,
        knownChildren: ledger.children.length,
      })
    : {
        parameters: await deps.workspaces.buildParameters(candidates.map((w) => w.latestBuild.id)),
        countOnly: new Set<string>(),
      };
  const snapshot: FamiliesSnapshot = {
    workspaces,
    parameters: found.parameters,
    ledger,
    controllerUserId,
    onlyFamilies: family ? [family] : undefined,
  };
  return found.countOnly.size === 0 ? snapshot : withCreatorParameters(deps, snapshot, found.countOnly);
};

/**
 * Discovery gave some parents only their count. A parent's full parameters are needed only when a
 * child must be created from them: read those (one request each), and leave a parent whose read
 * failed out of the snapshot, so nothing is decided about its family this run.
 */
const withCreatorParameters = async (
  deps: FamilyReconcileDeps,
  snapshot: FamiliesSnapshot,
  countOnly: ReadonlySet<string>,
): Promise<FamiliesSnapshot> => {
  const draft = planFamilies(snapshot, deps.now(), deps.config);
  const needed = draft
    .filter((p) => p.parentBuildId && countOnly.has(p.parentBuildId))
    .filter((p) => p.actions.some((a) => a.kind === 'create-child'))
    .map((p) => p.parentBuildId as string);
  if (needed.length === 0) return snapshot;
  const full = await deps.workspaces.buildParameters(needed);
  const parameters = new Map(snapshot.parameters);
  for (const id of needed) {
    const read = full.get(id);
    if (read) parameters.set(id, read);
    else parameters.delete(id);
  }
  return { ...snapshot, parameters };
};

export const resolveWorkspace = async (
  deps: FamilyReconcileDeps,
  scope: Extract<ReconcileScope, { kind: 'workspace' }>,
): Promise<FamilyKey | undefined> => {
  let owner = scope.owner;
  let name = scope.name;
  if ((!owner || !name) && scope.workspaceId) {
    const found = await deps.workspaces.describeWorkspace(scope.workspaceId);
    if (!found) {
      deps.log.info('workspace from the event is unknown to Coder; nothing to reconcile', {
        workspaceId: scope.workspaceId,
      });
      return undefined;
    }
    owner = found.ownerName;
    name = found.name;
  }
  if (!owner || !name) return undefined;
  const ledger = await deps.ledger.loadOwner(owner.toLowerCase());
  const lowered = name.toLowerCase();
  const asChild = ledger.children.find(
    (c) =>
      (scope.workspaceId !== undefined && c.childId === scope.workspaceId) ||
      c.childName.toLowerCase() === lowered,
  );
  return asChild ? familyKey(asChild.owner, asChild.parent) : familyKey(owner, name);
};

/** A stable digest of what the ledger says about one family, to detect a concurrent run's changes. */
export const ledgerFingerprint = (ledger: LedgerState, family: FamilyKey): string => {
  const mine = <T extends { owner: string; parent: string }>(items: readonly T[]): T[] =>
    items.filter((i) => i.owner === family.owner && i.parent === family.parent);
  return JSON.stringify({
    children: mine(ledger.children)
      .map((c) => [c.index, c.state, c.childId ?? '', c.childName])
      .sort(),
    missing: mine(ledger.missing).map((m) => m.since),
    failures: mine(ledger.failures).map((f) => [f.consecutive, f.hard, f.lastFailureAt]),
  });
};
