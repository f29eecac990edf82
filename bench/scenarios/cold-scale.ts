/**
 * Scenario 7 (issue 12): seed scale from a cold start, with Coder's real limit and Lambda's real
 * timeout, side by side with today's engine (the code at BASELINE_COMMIT, see baseline-engine.ts).
 *
 * - The simulator limits 512 requests per window per user and concrete path (method ignored), as
 *   coderd/httpmw/ratelimit.go does, with 20 ms of latency on every request.
 * - Every run is a Lambda invocation with the deployed reconcile timeout (read from
 *   lib/families/): a run still going at the timeout is killed (its I/O never completes, no
 *   report, its locks stay), as on AWS. Runs start on the 5-minute schedule.
 * - Time is scaled by SCALE: the limiter window, the latency, the timeout, the schedule, the lease
 *   and the client's timeouts and backoff are all divided by it, so 60 s of Coder's window is
 *   3 s here. Figures are given in real-equivalent seconds (measured × SCALE). The engine's fixed
 *   reserves (2 s before a family, 1 s before a mutation, 250 ms before a request) are not scaled,
 *   so the controller's runs stop earlier than a real one would: its figures are pessimistic.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DynamoCoderRequestBudget } from '../../lambdas/adapters/aws/coder-request-budget.js';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CoderClient } from '../../lambdas/adapters/coder/index.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { familiesConfigSchema } from '../../lambdas/core/families/config.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
} from '../../lambdas/core/families/in-memory.js';
import type { BuildParameter } from '../../lambdas/core/families/model.js';
import { ignoreProgress } from '../../lambdas/core/families/progress.js';
import {
  type ReconcileReport,
  type ReconcileRequest,
  reconcileFamilies,
} from '../../lambdas/core/families/run.js';
import { deadlineMarginMs } from '../../lambdas/wiring/deadline.js';
import { intervalScheduler } from '../../lambdas/wiring/scheduler.js';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { startLocalDynamo } from '../../test/support/dynalite.js';
import { check, fmt, type Scenario, type ScenarioResult } from '../lib.js';
import { BASELINE_COMMIT, type BaselineEngine, loadBaselineEngine } from './baseline-engine.js';
import { COUNT, seedTemplate, TEMPLATE, userName } from './fleet.js';

export const SCALE = 20;
const LIMIT = 512;
const WINDOW_MS = 60_000 / SCALE;
const LATENCY_MS = 20 / SCALE;
const SCHEDULE_MS = 5 * 60_000;
const CHILDREN = 2;
const FAMILIES_PER_USER = 4;
const CONTROLLER_MAX_RUNS = 6;
const BASELINE_MAX_RUNS = 3;

/** The deployed timeout of a function, from its construct's default (`props.<name> ?? Duration.minutes(n)`). */
export const deployedTimeoutMs = (prop: 'reconcileTimeout' | 'workerTimeout'): number => {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib', 'families');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    const match = new RegExp(`${prop} \\?\\? Duration\\.(minutes|seconds)\\((\\d+)\\)`).exec(text);
    if (match) return Number(match[2]) * (match[1] === 'minutes' ? 60_000 : 1000);
  }
  throw new Error(`benchmark precondition failed: no default ${prop} in lib/families`);
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const never = new Promise<never>(() => {});

/** Makes every promise-returning method of `target` hang for ever once `killed()` (a frozen Lambda). */
export const killable = <T extends object>(target: T, killed: () => boolean): T =>
  new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        killed() ? never : (value as (...a: unknown[]) => unknown).apply(obj, args);
    },
  });

const t0 = performance.now();
const line = (level: string) => (message: string, extra?: Record<string, unknown>) =>
  process.stderr.write(
    `${((performance.now() - t0) / 1000).toFixed(2)} ${level} ${message} ${JSON.stringify(extra ?? {}).slice(0, 300)}\n`,
  );
const debugSink = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') };
const debugLog = { ...debugSink, forFamily: () => ({ ...debugSink, info: () => {} }) };

interface RunFigures {
  /** Real-equivalent ms. */
  readonly wallMs: number;
  readonly killed: boolean;
  readonly requests: number;
  readonly throttled: number;
  readonly created: number;
  readonly incomplete: boolean;
}

type Side = 'controller' | 'baseline';

interface Deployment {
  readonly side: Side;
  readonly sim: CoderSimulator;
  readonly ledger: InMemoryFamilyLedger;
  readonly locks: InMemoryFamilyLocks;
  readonly stored: Map<string, BuildParameter[]>;
  readonly budget: DynamoCoderRequestBudget | undefined;
  readonly baseline: BaselineEngine;
}

/** One Lambda container: its own client and caches, the deployment's stores, killable. */
export const container = (d: Deployment, timeoutMs: number) => {
  let killed = false;
  const isKilled = () => killed;
  const scaledClient = {
    baseUrl: d.sim.url,
    token: d.sim.adminToken,
    rateLimitWindowMs: WINDOW_MS,
    timeoutMs: 10_000 / SCALE,
    retry: { baseDelayMs: 200 / SCALE, maxDelayMs: 5_000 / SCALE },
    fetch: (input: string | URL | Request, init?: RequestInit) => (killed ? never : fetch(input, init)),
  };
  const store = killable(
    {
      getMany: async (ids: readonly string[]) =>
        new Map(ids.flatMap((id) => (d.stored.has(id) ? [[id, d.stored.get(id) ?? []] as const] : []))),
      putMany: async (entries: ReadonlyMap<string, readonly BuildParameter[]>) => {
        for (const [id, parameters] of entries) d.stored.set(id, [...parameters]);
      },
    },
    isKilled,
  );
  const ledger = killable(d.ledger, isKilled);
  const locks = killable(d.locks, isKilled);
  const controller = d.side === 'controller';
  const client = controller
    ? new CoderClient({ ...scaledClient, ...(d.budget ? { sharedBudget: d.budget } : {}) })
    : new d.baseline.CoderClient(scaledClient);
  const config = {
    ...(controller ? familiesConfigSchema : d.baseline.familiesConfigSchema).parse({ templates: [TEMPLATE] }),
    // The lease in scaled time: 2 minutes now (renewed), 10 minutes before issue 12.
    lockLeaseMs: (controller ? 2 : 10) * (60_000 / SCALE),
    backoffBaseMs: 60_000 / SCALE,
  };
  const workspaces = controller
    ? new CoderFamilyWorkspaces({
        client,
        templates: config.templates,
        organization: 'default',
        parameterCache: new Map(),
        parameterStore: store,
      })
    : new d.baseline.CoderFamilyWorkspaces({
        client,
        templates: config.templates,
        organization: 'default',
        parameterCache: new Map(),
        parameterStore: store,
      });
  const deps = {
    config,
    workspaces,
    ledger,
    locks,
    now: () => new Date(),
    newRunId: () => crypto.randomUUID(),
    timers: intervalScheduler,
    progress: ignoreProgress,
    capacity: ampleProvisioners(),
    log: process.env.COLD_SCALE_DEBUG ? debugLog : { ...silentLog, forFamily: () => silentLog },
  };
  const reconcile: (request: ReconcileRequest) => Promise<ReconcileReport> = controller
    ? (request) => reconcileFamilies(deps, request)
    : (request) => d.baseline.reconcileFamilies(deps, request);

  /** One invocation: the deadline as the wiring gives it, killed at the timeout as on AWS. */
  const invoke = async (scope: ReconcileRequest['scope']): Promise<RunFigures> => {
    const before = client.stats();
    const liveBefore = d.sim.workspacesSnapshot().length;
    const started = performance.now();
    const margin = deadlineMarginMs(timeoutMs * SCALE) / SCALE;
    const deadline = { remainingMs: () => timeoutMs - margin - (performance.now() - started) };
    const outcome = await Promise.race([
      reconcile({ scope, dryRun: false, trigger: 'schedule', ...(controller ? { deadline } : {}) }),
      sleep(timeoutMs).then(() => 'killed' as const),
    ]);
    const wallMs = Math.min(performance.now() - started, timeoutMs) * SCALE;
    if (outcome === 'killed') killed = true;
    const after = client.stats();
    return {
      wallMs,
      killed: outcome === 'killed',
      requests: after.requests - before.requests,
      throttled: after.rateLimited - before.rateLimited,
      created: d.sim.workspacesSnapshot().length - liveBefore,
      incomplete: outcome !== 'killed' && outcome.incomplete !== undefined,
    };
  };
  return { invoke, stats: () => client.stats() };
};

export const seedCold = (sim: CoderSimulator, families: number, ledger: InMemoryFamilyLedger): number => {
  seedTemplate(sim);
  let expected = 0;
  for (let f = 0; f < families; f++) {
    const owner = userName(Math.floor(f / FAMILIES_PER_USER));
    if (f % FAMILIES_PER_USER === 0) sim.seed.user({ username: owner });
    const parent = `proj${f % FAMILIES_PER_USER}`;
    const seeded = sim.seed.workspace({
      owner,
      name: parent,
      template: TEMPLATE,
      parameters: { [COUNT]: '2' },
    });
    expected += 1 + CHILDREN;
    // Every other family already has its children (created earlier, in the ledger); the rest have none.
    if (f % 2 === 1) continue;
    for (let i = 1; i <= CHILDREN; i++) {
      const child = sim.seed.workspace({
        owner,
        name: `${parent}-${i}`,
        template: TEMPLATE,
        parameters: { [COUNT]: '0' },
      });
      ledger.children.set(`${owner}/${parent}#${i}`, {
        owner,
        parent,
        index: i,
        childName: `${parent}-${i}`,
        state: 'confirmed',
        intentAt: 0,
        parentId: seeded.id,
        runId: 'seeded',
        childId: child.id,
        createdAt: 0,
      });
    }
  }
  return expected;
};

interface Convergence {
  readonly runs: RunFigures[];
  /** Runs until every child existed; undefined when it did not within the cap. */
  readonly convergedAfter: number | undefined;
  readonly missingAtEnd: number;
}

const converge = async (d: Deployment, expected: number, maxRuns: number): Promise<Convergence> => {
  const timeoutMs = deployedTimeoutMs('reconcileTimeout') / SCALE;
  const runs: RunFigures[] = [];
  let convergedAfter: number | undefined;
  for (let run = 1; run <= maxRuns; run++) {
    const started = performance.now();
    runs.push(await container(d, timeoutMs).invoke({ kind: 'all' }));
    if (d.sim.workspacesSnapshot().length >= expected) {
      convergedAfter = run;
      break;
    }
    await sleep(started + SCHEDULE_MS / SCALE - performance.now());
  }
  return { runs, convergedAfter, missingAtEnd: expected - d.sim.workspacesSnapshot().length };
};

export const deployment = async (side: Side, baseline: BaselineEngine, budget?: DynamoCoderRequestBudget) => {
  const sim = await startCoderSimulator({
    rateLimit: { perMinute: LIMIT, windowMs: WINDOW_MS, keyBy: 'user' },
    record: false,
    buildDurationMs: 50,
  });
  sim.setFaults({ latencyMs: LATENCY_MS });
  const d: Deployment = {
    side,
    sim,
    ledger: new InMemoryFamilyLedger(),
    locks: new InMemoryFamilyLocks(),
    stored: new Map(),
    budget,
    baseline,
  };
  return d;
};

/** Every workspace through a stop and a start: new builds, as after an evening stop and a mass autostart. */
export const stopAndStartAll = async (sim: CoderSimulator): Promise<void> => {
  const admin = new CoderClient({ baseUrl: sim.url, token: sim.adminToken, rateLimitPerMinute: false });
  const ids = sim.workspacesSnapshot().map((w) => w.id);
  for (const transition of ['stop', 'start'] as const) {
    for (let i = 0; i < ids.length; i += 32) {
      await Promise.all(ids.slice(i, i + 32).map((id) => admin.createBuild(id, { transition })));
    }
    sim.advanceBuilds();
  }
};

const secs = (ms: number) => `${fmt(ms / 1000, 0)} s`;
const runList = (c: Convergence) =>
  c.runs
    .map((r) => `${secs(r.wallMs)}${r.killed ? ' KILLED' : r.incomplete ? ' (cut short)' : ''}`)
    .join(', ');
const converged = (c: Convergence, cap: number) =>
  c.convergedAfter === undefined
    ? `not after ${cap} (${c.missingAtEnd} children missing)`
    : `${c.convergedAfter}`;
const sum = (c: Convergence, key: 'requests' | 'throttled') => c.runs.reduce((s, r) => s + r[key], 0);

export const coldScale: Scenario = {
  id: 'cold-scale',
  title: "7. Cold start at the reference scale under Coder's limit and Lambda's timeout",
  async run(): Promise<ScenarioResult> {
    const baseline = await loadBaselineEngine();
    const dynamo = await startLocalDynamo();
    const timeoutS = deployedTimeoutMs('reconcileTimeout') / 1000;
    try {
      await dynamo.createTable({ tableName: 'budget', partitionKey: 'pk' });
      const budgetFor = (key: string) =>
        new DynamoCoderRequestBudget({
          documentClient: dynamo.documentClient,
          tableName: 'budget',
          budgetKey: key,
          requestsPerMinute: 400,
          windowMs: WINDOW_MS,
          log: silentLog,
        });
      const cold: Record<string, { controller: Convergence; baseline: Convergence; workspaces: number }> = {};
      let steady: Record<string, number> = {};
      let webhook: Record<Side, RunFigures> = {} as never;
      for (const families of [1000, 3334]) {
        const sides = {} as Record<Side, Convergence>;
        let workspaces = 0;
        for (const side of ['controller', 'baseline'] as const) {
          const budget = side === 'controller' ? budgetFor(`cold-${families}`) : undefined;
          const d = await deployment(side, baseline, budget);
          try {
            workspaces = seedCold(d.sim, families, d.ledger);
            sides[side] = await converge(
              d,
              workspaces,
              side === 'controller' ? CONTROLLER_MAX_RUNS : BASELINE_MAX_RUNS,
            );
            if (side === 'controller' && families === 1000) {
              check(sides.controller.convergedAfter !== undefined, 'controller did not converge at 3,000');
              ({ steady, webhook } = await steadyAndWebhook(d));
            }
          } finally {
            await d.sim.close();
          }
        }
        cold[String(workspaces)] = { ...sides, workspaces };
      }
      const c3 = cold['3000'] as (typeof cold)[string];
      const c10 = cold['10002'] as (typeof cold)[string];
      const allRuns = [...c3.controller.runs, ...c10.controller.runs];
      const killed = allRuns.filter((r) => r.killed).length;
      const rows = [3000, 10002].flatMap((n) => {
        const c = cold[String(n)] as (typeof cold)[string];
        const label = n === 3000 ? '3,000' : '10,000';
        return [
          {
            figure: `Cold ${label} workspaces (half the families missing both children): runs to converge`,
            controller: converged(c.controller, CONTROLLER_MAX_RUNS),
            baseline: converged(c.baseline, BASELINE_MAX_RUNS),
            comparison: '',
          },
          {
            figure: `Cold ${label}: wall time of each run, real-equivalent (timeout ${timeoutS} s)`,
            controller: runList(c.controller),
            baseline: runList(c.baseline),
            comparison: '',
          },
          {
            figure: `Cold ${label}: Coder requests / 429s over those runs`,
            controller: `${sum(c.controller, 'requests')} / ${sum(c.controller, 'throttled')}`,
            baseline: `${sum(c.baseline, 'requests')} / ${sum(c.baseline, 'throttled')}`,
            comparison: '',
          },
        ];
      });
      rows.push(
        {
          figure: 'Steady 3,000, warm container: Coder requests per run',
          controller: `${steady.controllerWarm}`,
          baseline: `${steady.baselineWarm}`,
          comparison: '',
        },
        {
          figure: 'Steady 3,000 after every workspace stopped and started (new builds), new container',
          controller: `${steady.controllerAfterCycle} (${fmt((steady.controllerAfterCycle ?? 0) / (steady.controllerWarm ?? 1), 2)}× warm)`,
          baseline: `${steady.baselineAfterCycle}`,
          comparison: `${fmt((steady.baselineAfterCycle ?? 0) / (steady.controllerAfterCycle ?? 1), 1)}× fewer`,
        },
        {
          figure: 'One new family (N = 3) through the webhook path, shared budget: requests / 429s / wall',
          controller: `${webhook.controller.requests} / ${webhook.controller.throttled} / ${fmt(webhook.controller.wallMs / 1000, 1)} s`,
          baseline: `${webhook.baseline.requests} / ${webhook.baseline.throttled} / ${fmt(webhook.baseline.wallMs / 1000, 1)} s`,
          comparison: '',
        },
      );
      check(killed === 0, `a controller run was killed by its timeout (${killed})`);
      return {
        id: this.id,
        title: this.title,
        baseline: `today's engine (the code at ${BASELINE_COMMIT}), same simulator and timeout; time scaled ×${SCALE}`,
        rows,
        data: { scale: SCALE, limit: LIMIT, latencyMs: 20, timeoutS, cold, steady, webhook },
      };
    } finally {
      await dynamo.close();
    }
  },
};

/** On the controller's converged 3,000: warm and after-cycle costs for both engines, then the webhook path. */
const steadyAndWebhook = async (
  d: Deployment,
): Promise<{ steady: Record<string, number>; webhook: Record<Side, RunFigures> }> => {
  const timeoutMs = deployedTimeoutMs('reconcileTimeout') / SCALE;
  const other: Deployment = { ...d, side: 'baseline', stored: new Map(), budget: undefined };
  const ctl = container(d, timeoutMs);
  const old = container(other, timeoutMs);
  await ctl.invoke({ kind: 'all' });
  await old.invoke({ kind: 'all' });
  const controllerWarm = (await ctl.invoke({ kind: 'all' })).requests;
  const baselineWarm = (await old.invoke({ kind: 'all' })).requests;
  await sleep(WINDOW_MS);
  await stopAndStartAll(d.sim);
  await sleep(WINDOW_MS);
  const controllerAfterCycle = (await container(d, timeoutMs).invoke({ kind: 'all' })).requests;
  const baselineAfterCycle = (await container(other, timeoutMs).invoke({ kind: 'all' })).requests;

  const workerTimeoutMs = deployedTimeoutMs('workerTimeout') / SCALE;
  const webhook = {} as Record<Side, RunFigures>;
  for (const [side, dep] of [
    ['controller', d],
    ['baseline', other],
  ] as const) {
    const owner = `hook-${side}`;
    d.sim.seed.user({ username: owner });
    d.sim.seed.workspace({ owner, name: 'team', template: TEMPLATE, parameters: { [COUNT]: '3' } });
    webhook[side] = await container(dep, workerTimeoutMs).invoke({ kind: 'workspace', owner, name: 'team' });
    check(webhook[side].created === 3, `${side}: the webhook path created ${webhook[side].created} children`);
  }
  return { steady: { controllerWarm, baselineWarm, controllerAfterCycle, baselineAfterCycle }, webhook };
};
