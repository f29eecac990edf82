import type { CoderSimulator } from '../../sim/index.js';

/** Seed 000's `kubernetes-multi` template: `additional_workspaces` children of the parent, and a cpu size. */
export const FAMILY_TEMPLATE = 'kubernetes-multi';

export const seedFamilyTemplate = (sim: CoderSimulator): void => {
  sim.seed.template({
    name: FAMILY_TEMPLATE,
    parameters: [
      { name: 'additional_workspaces', type: 'number', defaultValue: '0' },
      { name: 'cpu', type: 'number', defaultValue: '2' },
    ],
  });
};

/** A running parent on the family template that wants `children` children; its owner is created too. */
export const seedFamilyParent = (
  sim: CoderSimulator,
  family: {
    readonly owner: string;
    readonly parent: string;
    readonly children: number;
    readonly cpu?: number;
  },
): { id: string } => {
  sim.seed.user({ username: family.owner });
  return sim.seed.workspace({
    owner: family.owner,
    name: family.parent,
    template: FAMILY_TEMPLATE,
    parameters: { additional_workspaces: String(family.children), cpu: String(family.cpu ?? 2) },
    status: 'running',
  });
};
