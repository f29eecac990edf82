import {
  type FamiliesConfig,
  type FamiliesConfigInput,
  familiesConfigSchema,
} from '../../../lambdas/core/families/config.js';
import {
  type ChildRecord,
  type FamiliesSnapshot,
  type FamilyWorkspace,
  fullParameters,
  type ParentParameters,
  type PlannedAction,
  refKey,
  type WorkspaceRead,
  type WorkspaceRef,
} from '../../../lambdas/core/families/model.js';
import { planFamilies } from '../../../lambdas/core/families/planner.js';

export const CONTROLLER = 'controller-user';
export const NOW = new Date('2030-01-01T12:00:00Z');
export const config = (overrides: Partial<FamiliesConfigInput> = {}) =>
  familiesConfigSchema.parse({ templates: ['dev'], ...overrides });

let counter = 0;
export const workspace = (
  name: string,
  overrides: Partial<Omit<FamilyWorkspace, 'latestBuild'>> & {
    build?: Partial<FamilyWorkspace['latestBuild']>;
  } = {},
): FamilyWorkspace => {
  counter++;
  const { build, ...rest } = overrides;
  return {
    id: `ws-${name}-${counter}`,
    name,
    ownerName: 'alice',
    ownerId: 'alice-id',
    organizationId: 'org',
    templateId: 'tpl',
    templateName: 'dev',
    createdAt: '2030-01-01T00:00:00Z',
    ...rest,
    latestBuild: {
      id: `build-${name}-${counter}`,
      number: 3,
      transition: 'start',
      status: 'running',
      jobActive: false,
      initiatorId: 'alice-id',
      ...build,
    },
  };
};

export const child = (
  parent: string,
  index: number,
  childId: string | undefined,
  overrides: Partial<ChildRecord> = {},
): ChildRecord => ({
  owner: 'alice',
  parent,
  index,
  childName: `${parent}-${index}`,
  state: childId ? 'confirmed' : 'intent',
  intentAt: NOW.getTime() - 3_600_000,
  parentId: 'p',
  runId: 'run-0',
  childId,
  createdAt: childId ? NOW.getTime() - 3_600_000 : undefined,
  ...overrides,
});

export const snapshot = (
  workspaces: FamilyWorkspace[],
  params: Array<[FamilyWorkspace, Record<string, string>]>,
  ledger: Partial<FamiliesSnapshot['ledger']> = {},
): FamiliesSnapshot => ({
  workspaces,
  view: 'complete',
  parameters: new Map<string, ParentParameters>(
    params.map(([w, p]) => [
      w.latestBuild.id,
      fullParameters(Object.entries(p).map(([name, value]) => ({ name, value }))),
    ]),
  ),
  reads: new Map(),
  ledger: { children: [], missing: [], failures: [], ...ledger },
  controllerUserId: CONTROLLER,
});

/**
 * Plans as a run does: every read the plan asks for is answered from `world` (workspaces that
 * exist but are not listed, `deleted` ones) and anything else as vanished, then plans again.
 */
export const planWithWorld = (
  snap: FamiliesSnapshot,
  now: Date,
  cfg: FamiliesConfig,
  world: { unlisted?: FamilyWorkspace[]; deleted?: FamilyWorkspace[]; unreadable?: string[] } = {},
): PlannedAction[] => {
  let current = snap;
  for (let round = 0; round < 3; round++) {
    const plans = planFamilies(current, now, cfg);
    const refs = plans.flatMap((p) => p.reads);
    if (refs.length === 0) return plans.flatMap((p) => p.actions);
    const reads = new Map(current.reads);
    for (const ref of refs) reads.set(refKey(ref), answer(ref, world));
    current = { ...current, reads };
  }
  return planFamilies(current, now, cfg).flatMap((p) => p.actions);
};

const matches = (ref: WorkspaceRef, w: FamilyWorkspace): boolean =>
  ref.id !== undefined
    ? w.id === ref.id
    : w.ownerName.toLowerCase() === ref.owner?.toLowerCase() &&
      w.name.toLowerCase() === ref.name?.toLowerCase();

const answer = (
  ref: WorkspaceRef,
  world: { unlisted?: FamilyWorkspace[]; deleted?: FamilyWorkspace[]; unreadable?: string[] },
): WorkspaceRead => {
  if (world.unreadable?.includes(refKey(ref))) return { state: 'unreadable', error: 'Coder answered 503' };
  const present = world.unlisted?.find((w) => matches(ref, w));
  if (present) return { state: 'present', workspace: present };
  const deleted = world.deleted?.find((w) => matches(ref, w));
  if (deleted) return { state: 'deleted', workspace: deleted };
  return { state: 'vanished' };
};
