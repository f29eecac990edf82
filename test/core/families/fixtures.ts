import { silentLog } from '../../../lambdas/core/contracts/log-sink.js';
import {
  type FamiliesConfig,
  type FamiliesConfigInput,
  familiesConfigSchema,
} from '../../../lambdas/core/families/config.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
  ManualScheduler,
} from '../../../lambdas/core/families/in-memory.js';
import {
  type BuildParameter,
  type ChildRecord,
  type FamiliesSnapshot,
  type FamilyWorkspace,
  type FullParameters,
  familyId,
  familyKey,
  fullParameters,
  type LedgerState,
  type ParentParameters,
  type PlannedAction,
  refKey,
  type WorkspaceRead,
  type WorkspaceRef,
} from '../../../lambdas/core/families/model.js';
import { planFamilies } from '../../../lambdas/core/families/planner.js';
import {
  type FamilyLogSink,
  type FamilyReconcileDeps,
  type FamilyWorkspacesPort,
  type RunCall,
  type WorkspaceListing,
  WorkspaceOpError,
} from '../../../lambdas/core/families/ports.js';
import type { FamilyProgress } from '../../../lambdas/core/families/progress.js';

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

/** A FamilyLogSink that drops everything. */
export const quietLog: FamilyLogSink = { ...silentLog, forFamily: () => silentLog };

type CreateInput = Parameters<FamilyWorkspacesPort['createWorkspace']>[0];

/**
 * Coder in memory, for the snapshot, executor and run tests: `workspaces` are what lists return,
 * `unlisted` exist but are missing from the lists, `deleted` read back as deleted, `unreadable`
 * (refKeys) fail to read; anything else reads back as vanished. Every call is logged in `calls`;
 * the `before*` hooks run first in their call, so a test can hold it, fail it or change the world.
 */
export class MemoryCoder implements FamilyWorkspacesPort {
  unlisted: FamilyWorkspace[] = [];
  deleted: FamilyWorkspace[] = [];
  readonly unreadable = new Set<string>();
  /** Full parameters by build id. */
  readonly params = new Map<string, BuildParameter[]>();
  /** Discovery answers with each parent's count only (a `param:` search), never its full parameters. */
  countOnly = false;
  templates = ['dev'];
  complete = true;
  controller: string | undefined = CONTROLLER;
  readonly calls: string[] = [];
  beforeList: () => Promise<void> = async () => {};
  beforeRead: (ref: WorkspaceRef) => Promise<void> = async () => {};
  beforeCreate: (input: CreateInput) => Promise<void> = async () => {};
  beforeTransition: (id: string, transition: 'start' | 'stop' | 'delete') => Promise<void> = async () => {};
  private created = 0;

  constructor(public workspaces: FamilyWorkspace[] = []) {}

  /** A listed parent with these build parameters. */
  parent(ws: FamilyWorkspace, parameters: Record<string, string>): FamilyWorkspace {
    this.workspaces.push(ws);
    this.params.set(
      ws.latestBuild.id,
      Object.entries(parameters).map(([name, value]) => ({ name, value })),
    );
    return ws;
  }

  async templateNames(): Promise<string[]> {
    this.calls.push('templates');
    return [...this.templates];
  }

  async listManagedWorkspaces(): Promise<WorkspaceListing> {
    this.calls.push('list');
    await this.beforeList();
    return { workspaces: [...this.workspaces], complete: this.complete };
  }

  async listOwnerWorkspaces(owner: string): Promise<WorkspaceListing> {
    this.calls.push(`list ${owner}`);
    await this.beforeList();
    const o = owner.toLowerCase();
    return {
      workspaces: this.workspaces.filter((w) => w.ownerName.toLowerCase() === o),
      complete: this.complete,
    };
  }

  async readWorkspace(ref: WorkspaceRef): Promise<WorkspaceRead> {
    const key = refKey(ref);
    this.calls.push(`read ${key}`);
    await this.beforeRead(ref);
    if (this.unreadable.has(key)) return { state: 'unreadable', error: 'Coder answered 503' };
    const is = (w: FamilyWorkspace) =>
      refKey(ref.id !== undefined ? { id: w.id } : { owner: w.ownerName, name: w.name }) === key;
    const present = [...this.workspaces, ...this.unlisted].find(is);
    if (present) return { state: 'present', workspace: present };
    const deleted = this.deleted.find(is);
    return deleted ? { state: 'deleted', workspace: deleted } : { state: 'vanished' };
  }

  async buildParameters(buildIds: readonly string[]): Promise<Map<string, FullParameters>> {
    this.calls.push(`parameters ${buildIds.join(',')}`);
    const out = new Map<string, FullParameters>();
    for (const id of buildIds) {
      const values = this.params.get(id);
      if (values) out.set(id, fullParameters(values));
    }
    return out;
  }

  async parentParameters(
    candidates: readonly FamilyWorkspace[],
    options: { countParameter: string },
    call: RunCall & { onRead?: ((count: number) => void) | undefined },
  ): Promise<Map<string, ParentParameters>> {
    this.calls.push(`parent-parameters ${candidates.map((c) => c.name).join(',')}`);
    const out = new Map<string, ParentParameters>();
    for (const candidate of candidates) {
      const values = this.params.get(candidate.latestBuild.id);
      if (!values) continue;
      if (!this.countOnly) out.set(candidate.latestBuild.id, fullParameters(values));
      else {
        const count = Number(values.find((p) => p.name === options.countParameter)?.value);
        if (Number.isInteger(count)) out.set(candidate.latestBuild.id, { kind: 'count-only', count });
      }
      call.onRead?.(1);
    }
    return out;
  }

  async controllerUserId(): Promise<string | undefined> {
    return this.controller;
  }

  async createWorkspace(input: CreateInput, _call?: RunCall): Promise<FamilyWorkspace> {
    this.calls.push(`create ${input.ownerName}/${input.name}`);
    await this.beforeCreate(input);
    const taken = [...this.workspaces, ...this.unlisted].some(
      (w) =>
        w.ownerName.toLowerCase() === input.ownerName.toLowerCase() &&
        w.name.toLowerCase() === input.name.toLowerCase(),
    );
    if (taken) throw new WorkspaceOpError('already_exists', `Workspace "${input.name}" already exists.`);
    this.created++;
    const ws = workspace(input.name, {
      id: `created-${input.name}-${this.created}`,
      ownerName: input.ownerName,
      organizationId: input.organizationId,
      templateId: input.templateId,
      createdAt: NOW.toISOString(),
      build: { number: 1, status: 'starting', jobActive: true, initiatorId: this.controller },
    });
    this.workspaces.push(ws);
    this.params.set(ws.latestBuild.id, [...input.parameters]);
    return ws;
  }

  async transition(id: string, transition: 'start' | 'stop' | 'delete', _call?: RunCall): Promise<void> {
    this.calls.push(`${transition} ${id}`);
    await this.beforeTransition(id, transition);
    const ws = this.workspaces.find((w) => w.id === id);
    if (!ws) throw new WorkspaceOpError('gone', `workspace ${id} is gone`);
    const next: FamilyWorkspace = {
      ...ws,
      latestBuild: {
        ...ws.latestBuild,
        number: ws.latestBuild.number + 1,
        transition,
        jobActive: true,
        initiatorId: this.controller,
      },
    };
    this.workspaces = this.workspaces.map((w) => (w.id === id ? next : w));
  }

  stats(): { requests: number; throttled: number } {
    return { requests: this.calls.length, throttled: 0 };
  }

  /** The calls that change Coder. */
  get mutations(): string[] {
    return this.calls.filter((c) => /^(create|start|stop|delete) /.test(c));
  }
}

/** Writes ledger records through the ledger's own methods (children, missing) or its failure map. */
export const seedLedger = async (
  ledger: InMemoryFamilyLedger,
  state: Partial<LedgerState>,
): Promise<InMemoryFamilyLedger> => {
  for (const record of state.children ?? []) {
    const key = familyKey(record.owner, record.parent);
    await ledger.beginCreate({ ...record, state: 'intent', childId: undefined, createdAt: undefined });
    if (record.state === 'confirmed' && record.childId) {
      await ledger.confirmChild(key, record.index, record.childId, record.createdAt ?? record.intentAt);
    }
  }
  for (const missing of state.missing ?? []) {
    await ledger.setParentMissing(familyKey(missing.owner, missing.parent), missing.since);
  }
  for (const failure of state.failures ?? []) {
    ledger.failures.set(familyId(familyKey(failure.owner, failure.parent)), failure);
  }
  return ledger;
};

/** Everything a reconcile needs, in memory, with the pieces a test looks at. */
export const memoryRun = (coder: MemoryCoder, overrides: Partial<FamiliesConfigInput> = {}) => {
  const ledger = new InMemoryFamilyLedger();
  const locks = new InMemoryFamilyLocks();
  const timers = new ManualScheduler();
  const events: FamilyProgress[] = [];
  const clock = { now: NOW.getTime() };
  const deps: FamilyReconcileDeps = {
    config: config(overrides),
    workspaces: coder,
    ledger,
    locks,
    timers,
    now: () => new Date(clock.now),
    newRunId: () => 'run-1',
    log: quietLog,
    progress: (event) => events.push(event),
    capacity: ampleProvisioners(),
  };
  return { deps, coder, ledger, locks, timers, events, clock };
};
