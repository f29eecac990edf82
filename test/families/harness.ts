/** A workspace-family test bed: the Coder simulator over HTTP, DynamoDB on dynalite, an injected clock. */
import { randomUUID } from 'node:crypto';
import { DynamoBuildParameterStore, DynamoFamilyLedger } from '../../lambdas/adapters/aws/family-ledger.js';
import { DynamoFamilyLocks } from '../../lambdas/adapters/aws/family-locks.js';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CoderClient, type CoderClientOptions } from '../../lambdas/adapters/coder/index.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { type FamiliesConfigInput, familiesConfigSchema } from '../../lambdas/core/families/config.js';
import { ampleProvisioners } from '../../lambdas/core/families/in-memory.js';
import type { BuildParameter } from '../../lambdas/core/families/model.js';
import type { FamilyLogSink, FamilyReconcileDeps } from '../../lambdas/core/families/ports.js';
import { ignoreProgress } from '../../lambdas/core/families/progress.js';
import { intervalScheduler } from '../../lambdas/wiring/scheduler.js';
import { type CoderSimulator, type CoderSimulatorOptions, startCoderSimulator } from '../../sim/index.js';
import { type LocalDynamo, startLocalDynamo } from '../support/dynalite.js';

export const TEMPLATE = 'team-dev';
export const COUNT = 'additional_workspaces';

export interface FamilyHarness {
  readonly sim: CoderSimulator;
  readonly dynamo: LocalDynamo;
  readonly client: CoderClient;
  readonly deps: FamilyReconcileDeps;
  readonly ledger: DynamoFamilyLedger;
  readonly parameterCache: Map<string, BuildParameter[]>;
  /** The injected clock, epoch ms. */
  clock: { now: number; advance(ms: number): void };
  /** A token for a seeded user, to act as that user (edit parameters, delete). */
  userClient(username: string): CoderClient;
  /** Builds another set of deps on the same sim and tables (a second Lambda container). */
  makeDeps(overrides?: { config?: Partial<FamiliesConfigInput>; log?: FamilyLogSink }): FamilyReconcileDeps;
  close(): Promise<void>;
}

export const quietFamilyLog: FamilyLogSink = { ...silentLog, forFamily: () => silentLog };

export const startFamilyHarness = async (
  options: {
    sim?: CoderSimulatorOptions;
    config?: Partial<FamiliesConfigInput>;
    users?: string[];
    client?: Partial<CoderClientOptions>;
  } = {},
): Promise<FamilyHarness> => {
  const sim = await startCoderSimulator({ buildDurationMs: 20, rateLimit: false, ...options.sim });
  const tokens = new Map<string, string>();
  for (const username of options.users ?? ['alice']) tokens.set(username, sim.seed.user({ username }).token);
  sim.seed.template({
    name: TEMPLATE,
    parameters: [
      { name: COUNT, type: 'number', defaultValue: '0' },
      { name: 'cpu', type: 'number', defaultValue: '2' },
      { name: 'memory', type: 'number', defaultValue: '4' },
      { name: 'region', defaultValue: 'eu' },
    ],
  });
  const dynamo = await startLocalDynamo();
  await dynamo.createTable({ tableName: 'ledger', partitionKey: 'pk', sortKey: 'sk' });
  await dynamo.createTable({ tableName: 'locks', partitionKey: 'pk', sortKey: 'sk' });
  const clock = {
    now: Date.now(),
    advance(ms: number) {
      this.now += ms;
    },
  };
  const clientOptions: CoderClientOptions = {
    baseUrl: sim.url,
    token: sim.adminToken,
    rateLimitPerMinute: false,
    timeoutMs: 2_000,
    retry: { baseDelayMs: 5, maxDelayMs: 25 },
    ...options.client,
  };
  const client = new CoderClient(clientOptions);
  const parameterCache = new Map<string, BuildParameter[]>();
  const ledger = new DynamoFamilyLedger(dynamo.documentClient, 'ledger');
  const makeDeps: FamilyHarness['makeDeps'] = (overrides = {}) => {
    const config = familiesConfigSchema.parse({
      templates: [TEMPLATE],
      ...options.config,
      ...overrides.config,
    });
    return {
      config,
      workspaces: new CoderFamilyWorkspaces({
        client,
        templates: config.templates,
        organization: config.organization,
        parameterCache,
        parameterStore: new DynamoBuildParameterStore(dynamo.documentClient, 'ledger'),
      }),
      ledger,
      locks: new DynamoFamilyLocks(dynamo.documentClient, 'locks'),
      timers: intervalScheduler,
      now: () => new Date(clock.now),
      newRunId: () => randomUUID(),
      log: overrides.log ?? quietFamilyLog,
      progress: ignoreProgress,
      capacity: ampleProvisioners(),
    };
  };
  return {
    sim,
    dynamo,
    client,
    deps: makeDeps(),
    ledger,
    parameterCache,
    clock,
    makeDeps,
    userClient: (username) =>
      new CoderClient({ ...clientOptions, token: tokens.get(username) ?? sim.seed.user({ username }).token }),
    async close() {
      await sim.close();
      await dynamo.close();
    },
  };
};

/** Live workspaces of `owner` in the simulator, by name. */
export const liveWorkspaces = (sim: CoderSimulator, owner = 'alice') =>
  new Map(
    sim
      .workspacesSnapshot()
      .filter((w) => w.ownerName === owner && !w.deleted && w.status !== 'deleted')
      .map((w) => [w.name, w]),
  );

/** Mutating Coder requests (creates and builds) the simulator answered. */
export const mutatingRequests = (sim: CoderSimulator): number =>
  sim.exchanges().filter((e) => e.method === 'POST').length;
