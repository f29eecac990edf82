/**
 * What a run reads before and while it plans: the configured templates (they must exist in Coder),
 * the workspaces and ledger (one owner's or all), each parent's count (discovery), and then what
 * the plan asks for: workspaces read by themselves to confirm an absence (absence.ts), and full
 * parameters of parents that need a child created. Also which family a webhook's workspace is in.
 */
import { didYouMean } from '../contracts/suggest.js';
import { createConcurrencyLimit } from './concurrency.js';
import {
  type FamiliesSnapshot,
  type FamilyKey,
  familyId,
  familyKey,
  type LedgerState,
  type ParentParameters,
  refKey,
  type WorkspaceRead,
  type WorkspaceRef,
} from './model.js';
import { type FamilyPlan, planFamilies } from './planner.js';
import type { FamilyReconcileDeps, RunCall } from './ports.js';
import { parentCandidates } from './snapshot-index.js';

/** Reads of workspaces by themselves in flight at once. */
const READ_CONCURRENCY = 8;
/** Plan, read what the plan asks for, plan again: reads never lead to more than this many rounds. */
const MAX_PLAN_ROUNDS = 3;

/**
 * Configured templates that match no template in Coder (renamed, deleted or misspelt). The run
 * changes nothing: a rename must be an operator's alert, never every child "no longer existing".
 */
export class UnknownTemplatesError extends Error {
  override readonly name = 'UnknownTemplatesError';
  readonly kind = 'unknown-templates' as const;
  constructor(
    readonly unknown: readonly string[],
    readonly known: readonly string[],
  ) {
    super(
      `${unknown.map((t) => `"${t}"${didYouMean(t, known)}`).join(', ')}: no such template in Coder ` +
        `(it has ${known.length === 0 ? 'none the token can see' : known.map((t) => `"${t}"`).join(', ')}). ` +
        'A template renamed in Coder needs the families config updated; nothing was changed this run',
    );
  }
}

/** Fails the run when a configured template is not in Coder (names compared as Coder compares them). */
export const checkTemplates = async (deps: FamilyReconcileDeps, call: RunCall): Promise<void> => {
  const known = await deps.workspaces.templateNames(call);
  const names = new Set(known.map((t) => t.toLowerCase()));
  const unknown = deps.config.templates.filter((t) => !names.has(t.toLowerCase()));
  if (unknown.length > 0) throw new UnknownTemplatesError(unknown, [...new Set(known)].sort());
};

export const loadSnapshot = async (
  deps: FamilyReconcileDeps,
  call: RunCall,
  controllerUserId: string | undefined,
  family: FamilyKey | undefined,
  knownLedger?: LedgerState,
): Promise<FamiliesSnapshot> => {
  const [listing, ledger] = await Promise.all([
    family
      ? deps.workspaces.listOwnerWorkspaces(family.owner, call)
      : deps.workspaces.listManagedWorkspaces(call),
    knownLedger ?? (family ? deps.ledger.loadOwner(family.owner) : deps.ledger.loadAll()),
  ]);
  const candidates = parentCandidates(listing.workspaces, ledger).filter(
    (w) => !family || familyId(familyKey(w.ownerName, w.name)) === familyId(family),
  );
  let done = 0;
  const parameters = await deps.workspaces.parentParameters(
    candidates,
    {
      countParameter: deps.config.countParameter,
      maxCount: deps.config.maxChildren,
      knownChildren: ledger.children.length,
    },
    {
      ...call,
      onRead: (count) => {
        done += count;
        deps.progress({ kind: 'parameters-read', done, total: candidates.length });
      },
    },
  );
  return {
    workspaces: listing.workspaces,
    view: listing.complete ? 'complete' : 'partial',
    parameters,
    reads: new Map(),
    ledger,
    controllerUserId,
    onlyFamilies: family ? [family] : undefined,
  };
};

/**
 * Plans, then reads what the plans ask for (workspaces by themselves, full parameters of parents
 * that must create a child) and plans again, until no plan asks for more. A read that fails is
 * recorded as such, so the plan that follows decides nothing from that absence.
 */
export const planWithReads = async (
  deps: FamilyReconcileDeps,
  call: RunCall,
  initial: FamiliesSnapshot,
  now: Date,
): Promise<{ snapshot: FamiliesSnapshot; plans: FamilyPlan[] }> => {
  let snapshot = initial;
  for (let round = 1; ; round++) {
    const plans = planFamilies(snapshot, now, deps.config);
    const waiting = plans.filter((p) => p.reads.length > 0 || p.needsParameters);
    if (waiting.length === 0 || round === MAX_PLAN_ROUNDS) {
      // Anything still waiting changes nothing this run (its plan is empty) and is read again next run.
      return { snapshot, plans };
    }
    snapshot = await readWhatPlansNeed(deps, call, snapshot, waiting);
  }
};

const readWhatPlansNeed = async (
  deps: FamilyReconcileDeps,
  call: RunCall,
  snapshot: FamiliesSnapshot,
  waiting: readonly FamilyPlan[],
): Promise<FamiliesSnapshot> => {
  const refs = new Map<string, WorkspaceRef>();
  for (const plan of waiting) for (const ref of plan.reads) refs.set(refKey(ref), ref);
  const needed = waiting
    .filter((p) => p.needsParameters && p.parentBuildId !== undefined)
    .map((p) => p.parentBuildId as string);
  const limit = createConcurrencyLimit(READ_CONCURRENCY);
  const [read, full] = await Promise.all([
    Promise.all(
      [...refs].map(([key, ref]) =>
        limit(
          async (): Promise<[string, WorkspaceRead]> => [key, await deps.workspaces.readWorkspace(ref, call)],
        ),
      ),
    ),
    needed.length > 0 ? deps.workspaces.buildParameters(needed, call) : Promise.resolve(new Map()),
  ]);
  const reads = new Map(snapshot.reads);
  for (const [key, result] of read) reads.set(key, result);
  let parameters: ReadonlyMap<string, ParentParameters> = snapshot.parameters;
  if (needed.length > 0) {
    const next = new Map(snapshot.parameters);
    // A parent whose full read failed leaves the snapshot: nothing is decided about its family.
    for (const id of needed) {
      const values = full.get(id);
      if (values) next.set(id, values);
      else next.delete(id);
    }
    parameters = next;
  }
  return { ...snapshot, reads, parameters };
};

/**
 * The family a webhook's workspace belongs to: a ledger child's parent family, otherwise the
 * workspace as a potential parent (which covers a deleted parent). Undefined when Coder has no
 * such workspace and the event named none.
 */
export const resolveWorkspace = async (
  deps: FamilyReconcileDeps,
  call: RunCall,
  scope: { workspaceId?: string | undefined; owner?: string | undefined; name?: string | undefined },
): Promise<FamilyKey | undefined> => {
  let owner = scope.owner;
  let name = scope.name;
  if ((!owner || !name) && scope.workspaceId) {
    const found = await deps.workspaces.readWorkspace({ id: scope.workspaceId }, call);
    if (found.state === 'unreadable')
      throw new Error(`could not read workspace ${scope.workspaceId}: ${found.error}`);
    if (found.state === 'vanished') {
      deps.log.info('workspace from the event is unknown to Coder; nothing to reconcile', {
        workspaceId: scope.workspaceId,
      });
      return undefined;
    }
    owner = found.workspace.ownerName;
    name = found.workspace.name;
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
