import type { RunCall } from '../contracts/deadline.js';
import type { LogSink } from '../contracts/log-sink.js';
import type { PruneAction } from './planner.js';
import type { ProvisionerKeyDirectory } from './ports.js';

/** Deletes the keys the planner says go; every decision was made by the planner. */
export const executePrune = async (
  keys: ProvisionerKeyDirectory,
  organization: string,
  actions: readonly PruneAction[],
  log: LogSink,
  call: RunCall,
): Promise<void> => {
  for (const action of actions) {
    switch (action.kind) {
      case 'keep':
        log.info('Keeping provisioner key', {
          keyName: action.keyName,
          role: action.role,
          reason: action.reason,
        });
        break;
      case 'delete': {
        const result = await keys.deleteKey(organization, action.keyName, call);
        log.info('Deleted provisioner key', { keyName: action.keyName, reason: action.reason, result });
        break;
      }
      default: {
        const unreachable: never = action;
        throw new Error(`unknown prune action ${JSON.stringify(unreachable)}`);
      }
    }
  }
};
