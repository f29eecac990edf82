/** The seed-004-scale fleet several scenarios share: users, one managed template, families already in place. */
import type { ChildRecord } from '../../lambdas/core/families/model.js';
import { childWorkspaceName } from '../../lambdas/core/families/names.js';
import type { CoderSimulator } from '../../sim/index.js';

export const TEMPLATE = 'team-dev';
export const COUNT = 'additional_workspaces';

export const seedTemplate = (sim: CoderSimulator): void => {
  sim.seed.template({
    name: TEMPLATE,
    parameters: [
      { name: COUNT, type: 'number', defaultValue: '0' },
      { name: 'cpu', type: 'number', defaultValue: '2' },
      { name: 'memory', type: 'number', defaultValue: '4' },
      { name: 'region', defaultValue: 'eu' },
    ],
  });
};

export const userName = (i: number): string => `u${String(i).padStart(4, '0')}`;

export interface SteadyFleet {
  readonly families: number;
  readonly workspaces: number;
  /** The ledger the controller would hold after creating every child. */
  readonly ledger: ChildRecord[];
  /** Build parameters of every parent's latest build (what the DynamoDB parameter store holds). */
  readonly parentParameters: Record<string, Array<{ name: string; value: string }>>;
}

/**
 * `families` parents with `additional_workspaces=children`, spread over users `familiesPerUser`
 * at a time, their children already created and recorded in the ledger: nothing to do.
 */
export const seedSteadyFleet = (
  sim: CoderSimulator,
  options: { families: number; children: number; familiesPerUser: number },
): SteadyFleet => {
  const ledger: ChildRecord[] = [];
  const parentBuilds = new Map<string, string>();
  const createdAt = Date.now() - 3_600_000;
  for (let f = 0; f < options.families; f++) {
    const owner = userName(Math.floor(f / options.familiesPerUser));
    if (f % options.familiesPerUser === 0) sim.seed.user({ username: owner });
    const parent = `proj${f % options.familiesPerUser}`;
    const parameters = { cpu: String(2 + (f % 3)), memory: '8', region: f % 2 === 0 ? 'eu' : 'us' };
    const seeded = sim.seed.workspace({
      owner,
      name: parent,
      template: TEMPLATE,
      parameters: { ...parameters, [COUNT]: String(options.children) },
    });
    parentBuilds.set(seeded.latestBuildId, seeded.id);
    for (let i = 1; i <= options.children; i++) {
      const childName = childWorkspaceName(parent, i);
      const child = sim.seed.workspace({
        owner,
        name: childName,
        template: TEMPLATE,
        parameters: { ...parameters, [COUNT]: '0' },
      });
      ledger.push({
        owner,
        parent,
        index: i,
        childName,
        state: 'confirmed',
        intentAt: createdAt,
        parentId: seeded.id,
        runId: 'seeded',
        childId: child.id,
        createdAt,
      });
    }
  }
  const parentParameters: SteadyFleet['parentParameters'] = {};
  for (const w of sim.workspacesSnapshot()) {
    if (!parentBuilds.has(w.latestBuildId)) continue;
    parentParameters[w.latestBuildId] = Object.entries(w.parameters).map(([name, value]) => ({
      name,
      value,
    }));
  }
  return {
    families: options.families,
    workspaces: options.families * (options.children + 1),
    ledger,
    parentParameters,
  };
};
