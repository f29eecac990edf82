import { type FamiliesConfigInput, familiesConfigSchema } from '../../../lambdas/core/families/config.js';
import type {
  BuildParameter,
  ChildRecord,
  FamiliesSnapshot,
  FamilyWorkspace,
} from '../../../lambdas/core/families/model.js';

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
  parameters: new Map<string, BuildParameter[]>(
    params.map(([w, p]) => [w.latestBuild.id, Object.entries(p).map(([name, value]) => ({ name, value }))]),
  ),
  ledger: { children: [], missing: [], failures: [], ...ledger },
  controllerUserId: CONTROLLER,
});
