/**
 * The demo's fleet: the simulator's demo seed plus seed 000's workspace families, for
 * `coder-fleet demo` and for trying the CLI by hand (`npx tsx sim/main.ts --seed demo`).
 */
import { seedDemoFleet } from './demo-seed.js';
import type { SimulatorSeeder } from './types.js';

/** The template of seed 000's families: N = additional_workspaces, children get it set to 0. */
export const DEMO_TEMPLATE = 'kubernetes-multi';
export const DEMO_COUNT_PARAMETER = 'additional_workspaces';

/**
 * The demo fleet: the simulator's own demo seed (users, two ordinary templates, a provisioner key
 * with two daemons) plus seed 000's families:
 * - alice's `my-team` with additional_workspaces=3 (seed 000's example, cpu=4, memory=8);
 * - bob's `ml-lab` with 2;
 * - carol's `frontend` with 2, next to her own, hand-made `frontend-2`: it only looks like a child,
 *   so the controller reports the name as taken and never touches it;
 * - dave's `api-2`, a look-alike with no parent at all, and erin's plain `notebook` (N = 0).
 */
export const seedDemoFamilies = (seed: SimulatorSeeder): void => {
  seedDemoFleet(seed);
  seed.user({ username: 'erin' });
  seed.template({
    name: DEMO_TEMPLATE,
    displayName: 'Kubernetes, multi-workspace (seed 000)',
    parameters: [
      {
        name: DEMO_COUNT_PARAMETER,
        displayName: 'Additional workspaces',
        type: 'number',
        defaultValue: '0',
        validationMin: 0,
        validationMax: 10,
      },
      { name: 'cpu', displayName: 'CPU cores', type: 'number', defaultValue: '2' },
      { name: 'memory', displayName: 'Memory (GiB)', type: 'number', defaultValue: '4' },
    ],
  });
  const family = (owner: string, name: string, count: number, cpu: number, memory: number): void => {
    seed.workspace({
      owner,
      name,
      template: DEMO_TEMPLATE,
      parameters: { [DEMO_COUNT_PARAMETER]: String(count), cpu: String(cpu), memory: String(memory) },
    });
  };
  family('alice', 'my-team', 3, 4, 8);
  family('bob', 'ml-lab', 2, 8, 32);
  family('carol', 'frontend', 2, 2, 4);
  family('carol', 'frontend-2', 0, 2, 4);
  family('dave', 'api-2', 0, 2, 4);
  family('erin', 'notebook', 0, 4, 16);
};
