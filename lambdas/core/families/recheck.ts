/**
 * The re-check after a family's lock is taken, as its own named step (as Karpenter's disruption
 * validation.go re-validates a decision before acting): another run may have changed the family
 * between this run's snapshot and its lock. If the family's ledger moved, the family is read again
 * (its owner's workspaces and ledger) and planned afresh; otherwise the plan still holds.
 */
import type { FamiliesSnapshot, FamilyKey, LedgerState } from './model.js';
import type { FamilyPlan } from './planner.js';
import type { FamilyReconcileDeps, RunCall } from './ports.js';
import { ledgerFingerprint, loadSnapshot, planWithReads } from './snapshot.js';

export type Recheck =
  /** Nobody changed the family since the snapshot: act on the plan made from it. */
  | { readonly kind: 'still-valid'; readonly plan: FamilyPlan; readonly ledger: LedgerState }
  /** The ledger moved: this is the plan from a fresh read of the family. */
  | {
      readonly kind: 'replanned';
      readonly plan: FamilyPlan;
      readonly ledger: LedgerState;
      /** How complete the owner's list was when the family was read again. */
      readonly view: FamiliesSnapshot['view'];
    };

export const recheckAfterLock = async (
  deps: FamilyReconcileDeps,
  call: RunCall,
  plan: FamilyPlan,
  snapshot: Pick<FamiliesSnapshot, 'ledger' | 'controllerUserId'>,
  now: Date,
): Promise<Recheck> => {
  const fresh = await deps.ledger.loadOwner(plan.family.owner);
  if (ledgerFingerprint(fresh, plan.family) === ledgerFingerprint(snapshot.ledger, plan.family)) {
    return { kind: 'still-valid', plan, ledger: fresh };
  }
  const replanned = await planOwnerFamily(deps, call, snapshot.controllerUserId, plan.family, fresh, now);
  return { kind: 'replanned', plan: replanned, ledger: fresh, view: replanned.view };
};

export interface OwnerFamilyPlan extends FamilyPlan {
  /** The family is known (a parent with N ≥ 1 or ledger records), even if it needs nothing. */
  readonly exists: boolean;
  /** How complete the owner's list was. */
  readonly view: FamiliesSnapshot['view'];
}

/** A fresh, family-scoped snapshot and plan: one owner's workspaces and ledger, with the reads it needs. */
export const planOwnerFamily = async (
  deps: FamilyReconcileDeps,
  call: RunCall,
  controllerUserId: string | undefined,
  family: FamilyKey,
  ledger: LedgerState,
  now: Date,
): Promise<OwnerFamilyPlan> => {
  const snapshot = await loadSnapshot(deps, call, controllerUserId, family, ledger);
  const { plans } = await planWithReads(deps, call, snapshot, now);
  const plan = plans.find((p) => p.family.owner === family.owner && p.family.parent === family.parent);
  const view = snapshot.view;
  return plan
    ? { ...plan, exists: true, view }
    : {
        family,
        actions: [],
        parentBuildId: undefined,
        reads: [],
        needsParameters: false,
        exists: false,
        view,
      };
};
