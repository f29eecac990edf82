import type { ScalingConfig } from '../lambdas/core/scaling/config.js';
import type { InMemoryNodeGroups } from '../lambdas/core/scaling/in-memory.js';
import { refOf } from '../lambdas/core/scaling/planner.js';

// The families fleet lives with the simulator, so `sim/main.ts --seed demo` has what the demo has.
export { DEMO_COUNT_PARAMETER, DEMO_TEMPLATE, seedDemoFamilies } from '../sim/demo-families.js';

/**
 * Node groups shaped like seed 004's, held in memory and sized as they would be off-hours: the
 * demo's scaling plan changes nothing real, and says so on every row.
 */
export const simulatedSeed004Groups = (
  config: ScalingConfig,
  groups: InMemoryNodeGroups,
): InMemoryNodeGroups => {
  const offHours: Record<string, { minSize: number; desiredSize: number; maxSize: number }> = {
    'coder-ws': { minSize: 2, desiredSize: 2, maxSize: 30 },
    'coder-prov': { minSize: 0, desiredSize: 1, maxSize: 5 },
    'coder-control': { minSize: 3, desiredSize: 3, maxSize: 3 },
  };
  for (const group of config.nodeGroups) {
    const sizes = offHours[group.name] ?? { minSize: 1, desiredSize: 1, maxSize: 1 };
    groups.set(refOf(config, group), sizes);
  }
  return groups;
};
