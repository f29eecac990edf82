import type { LogSink } from '../contracts/log-sink.js';
import type { ScalingAction, ScalingPlan } from './planner.js';
import type { NodeGroupPort } from './ports.js';
import { updateRequestToken } from './request-token.js';

export type ActionOutcome =
  | { readonly group: string; readonly outcome: 'updated'; readonly requestToken: string }
  | { readonly group: string; readonly outcome: 'would-update' }
  /** EKS answered with an earlier update for the same token and changed nothing. */
  | {
      readonly group: string;
      readonly outcome: 'replayed';
      readonly requestToken: string;
      readonly note: string;
    }
  | { readonly group: string; readonly outcome: 'unchanged' | 'skipped' }
  | { readonly group: string; readonly outcome: 'failed'; readonly error: string };

const assertNever = (value: never): never => {
  throw new Error(`Unhandled scaling action: ${JSON.stringify(value)}`);
};

/**
 * Carries out a plan. It makes no decisions: it switches on the action kind. One group's failure
 * never stops the others; every outcome is returned for the report.
 */
export const executeScalingPlan = async (
  plan: ScalingPlan,
  deps: {
    readonly nodeGroups: NodeGroupPort;
    readonly now: Date;
    /** The idempotency window of the request token (the drift-check interval). */
    readonly tokenWindowMinutes: number;
    readonly dryRun: boolean;
    readonly log: LogSink;
  },
): Promise<ActionOutcome[]> => {
  const run = async (action: ScalingAction): Promise<ActionOutcome> => {
    switch (action.kind) {
      case 'update': {
        if (deps.dryRun) return { group: action.group, outcome: 'would-update' };
        const requestToken = updateRequestToken(action.ref, action.target, deps.now, deps.tokenWindowMinutes);
        try {
          const result = await deps.nodeGroups.update(action.ref, action.target, requestToken);
          if (result.outcome === 'replayed') {
            const note = `EKS treated the call as a replay of update ${result.updateId}${result.createdAt ? ` (${result.createdAt.toISOString()})` : ''} with the same clientRequestToken and changed nothing; the next run in a new ${deps.tokenWindowMinutes}-minute window sets the target`;
            deps.log.warn('node group update replayed, nothing changed', {
              group: action.group,
              target: action.target,
              updateId: result.updateId,
            });
            return { group: action.group, outcome: 'replayed', requestToken, note };
          }
          deps.log.info('node group updated', {
            group: action.group,
            current: action.current,
            target: action.target,
            reason: action.reason,
          });
          return { group: action.group, outcome: 'updated', requestToken };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          deps.log.error('node group update failed', {
            group: action.group,
            target: action.target,
            error: message,
          });
          return { group: action.group, outcome: 'failed', error: message };
        }
      }
      case 'none':
        return { group: action.group, outcome: 'unchanged' };
      case 'skip':
        return { group: action.group, outcome: 'skipped' };
      case 'fail':
        return { group: action.group, outcome: 'failed', error: action.reason };
      default:
        return assertNever(action);
    }
  };
  const outcomes: ActionOutcome[] = [];
  // Sequential: a handful of groups, and EKS throttles concurrent updates in one cluster.
  for (const action of plan.actions) outcomes.push(await run(action));
  return outcomes;
};
