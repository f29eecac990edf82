import type { FamiliesConfig } from './config.js';
import type { FailureRecord, FamilyKey, PlannedAction } from './model.js';
import type { ParentView } from './snapshot-index.js';

export interface BackoffDecision {
  /** The family is left alone this run: this is its only action. */
  readonly skip?: PlannedAction;
  /** Ledger bookkeeping that goes before the family's other actions. */
  readonly bookkeeping: PlannedAction[];
}

/**
 * What a family's failure record allows this run: nothing past the hard cap (until the parent gets
 * a new build, which starts the count over), nothing while backing off, otherwise the normal plan.
 */
export const planBackoff = (
  family: FamilyKey,
  parent: ParentView | undefined,
  failures: FailureRecord | undefined,
  now: number,
  config: FamiliesConfig,
): BackoffDecision => {
  if (!failures || !(failures.consecutive > 0 || failures.hard > 0)) return { bookkeeping: [] };
  const parentChanged =
    parent !== undefined &&
    failures.parentBuildId !== undefined &&
    parent.workspace.latestBuild.id !== failures.parentBuildId;
  if (failures.hard >= config.failureCap && !parentChanged) {
    return {
      skip: {
        kind: 'hard-limit-skip',
        family,
        failures: failures.hard,
        reason: `${failures.hard} consecutive failures reached the cap of ${config.failureCap}; the family is left alone until its parent gets a new build or an operator resets it (last error: ${failures.lastError ?? 'unknown'})`,
      },
      bookkeeping: [],
    };
  }
  if (parentChanged) {
    return {
      bookkeeping: [
        {
          kind: 'clear-failures',
          family,
          reason: 'the parent has a new build since the last failure, so the failure count starts over',
        },
      ],
    };
  }
  const until = failures.lastFailureAt + failures.consecutive * config.backoffBaseMs;
  if (now < until) {
    return {
      skip: {
        kind: 'backoff-skip',
        family,
        until,
        reason: `backing off after ${failures.consecutive} failed run(s) until ${new Date(until).toISOString()}`,
      },
      bookkeeping: [],
    };
  }
  return { bookkeeping: [] };
};
