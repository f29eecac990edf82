/**
 * One run of the provisioner-queue scenario (issue 22): a cold fleet in the simulator's
 * provisioner queue, people starting and creating their own workspaces all along, and a controller
 * (none, today's engine, or one the caller builds) run as the scheduled reconcile Lambda would run
 * it. Returns the figures; provisioner-queue.ts turns them into the table.
 *
 * Time. The simulator's clock is simulated time. While a controller run is in flight the clock
 * runs at SCALE× real time, and everything the Lambda would see is on it: its deadline (the
 * deployed reconcile timeout minus the wiring's margin, in simulated ms), its `now`, the rate-limit
 * window. A run still going at the timeout is killed (its I/O never completes, as on AWS). Between
 * two runs the clock jumps to the next schedule tick: the queue and the people are discrete events,
 * so hours of provisioning pass in the time it takes to process them. The controller's own CPU is
 * not scaled, so a run's real work counts SCALE× in simulated time: at SCALE 10 a listing that takes
 * 5 s here stands for 50 s, about what 300 pages from a loaded coderd take. The client's timeouts,
 * backoff and rate window are divided by SCALE, as in cold-scale.ts.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CoderClient } from '../../lambdas/adapters/coder/index.js';
import { CoderProvisionerCapacity } from '../../lambdas/adapters/coder/provisioner-capacity.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import {
  FAMILIES_DEFAULTS,
  type FamiliesConfig,
  familiesConfigSchema,
} from '../../lambdas/core/families/config.js';
import {
  type ContinuationEvent,
  claimContinuation,
  deferScheduledRun,
  scheduleContinuation,
} from '../../lambdas/core/families/continuation.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
} from '../../lambdas/core/families/in-memory.js';
import {
  type BuildParameter,
  type ChildRecord,
  type FamilyKey,
  type LedgerState,
  parseFamilyId,
} from '../../lambdas/core/families/model.js';
import { ignoreProgress } from '../../lambdas/core/families/progress.js';
import {
  type FamilyReconcileDeps,
  type ReconcileReport,
  type ReconcileRequest,
  reconcileFamilies,
} from '../../lambdas/core/families/run.js';
import { deadlineMarginMs } from '../../lambdas/wiring/deadline.js';
import { intervalScheduler } from '../../lambdas/wiring/scheduler.js';
import { RECONCILE_MEMORY_MB } from '../../lib/families/timing.js';
import {
  type CoderSimulator,
  describeJobDuration,
  type JobDuration,
  queueWaits,
  startCoderSimulator,
} from '../../sim/index.js';
import { percentile } from '../lib.js';
import { deployedTimeoutMs, killable, seedCold } from './cold-scale.js';
import { TEMPLATE, userName } from './fleet.js';

/** The template people use: not managed by the controller, served by the same daemons. */
export const PEOPLE_TEMPLATE = 'people-dev';

export interface QueueFleet {
  /** For the table: "30,000". */
  readonly label: string;
  /** Families of a parent and 2 children; every other one is missing both children. */
  readonly families: number;
  readonly daemons: number;
  /** Stopped workspaces people can start (on PEOPLE_TEMPLATE), spread over the family owners. */
  readonly peopleWorkspaces: number;
}

/** Issue 22: ten times the reference deployment, and the reference itself. */
export const QUEUE_FLEETS = {
  x10: { label: '30,000', families: 10_000, daemons: 40, peopleWorkspaces: 2_000 },
  reference: { label: '3,000', families: 1_000, daemons: 20, peopleWorkspaces: 500 },
} as const satisfies Record<string, QueueFleet>;

/** What a controller under test is built from, per Lambda container (a warm container keeps them). */
export interface QueueControllerDeps extends FamilyReconcileDeps {
  /** The container's Coder client (scaled timeouts, counting requests and 429s). */
  readonly client: CoderClient;
  /** Provisioner capacity for the managed templates, read through the same client. */
  readonly capacity: CoderProvisionerCapacity;
  /** The families config today's engine runs with; a capped engine adds its own settings. */
  readonly config: FamiliesConfig;
}

/** One reconcile invocation; the request carries the run's deadline. */
export type QueueReconcile = (request: ReconcileRequest) => Promise<ReconcileReport>;

/**
 * `none`: nobody creates the missing children (people's wait with idle-ish provisioners).
 * `today`: the engine before pacing: no cap (its capacity reads as unlimited).
 * `paced`: the engine as deployed: the cap from Coder's daemons, and continuations (delayed
 * messages, one pending at a time, as the handler sends them; see the run loop).
 * A function: the engine the caller builds from the deps, once per container.
 */
export type QueueController = 'none' | 'today' | 'paced' | ((deps: QueueControllerDeps) => QueueReconcile);

export interface QueueScenarioOptions {
  readonly fleet: QueueFleet;
  readonly controller: QueueController;
  /** Simulated ms per real ms while a controller run is in flight. @default 10 */
  readonly scale?: number;
  /** @default lognormal, mean 60 s, σ 0.25 */
  readonly jobDuration?: JobDuration;
  /** People's arrivals per simulated minute. @default 5 */
  readonly peoplePerMinute?: number;
  /** How long to watch without a controller, simulated ms. @default 2 h */
  readonly horizonMs?: number;
  /** Give up after this many controller runs. @default 200 */
  readonly maxRuns?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Called after each run, for progress lines. */
  readonly onRun?: (run: QueueRunFigures, index: number) => void;
}

export interface QueueRunFigures {
  /** Simulated ms the run took (to its end, or to the kill). */
  readonly simulatedMs: number;
  readonly realMs: number;
  readonly killed: boolean;
  readonly incomplete: boolean;
  readonly requests: number;
  readonly throttled: number;
  readonly childrenRunning: number;
  /** `continuation`: a paced run's follow-up, for the families it carried. */
  readonly trigger: 'schedule' | 'continuation';
}

export interface QueueFigures {
  readonly fleet: QueueFleet;
  readonly controller: string;
  readonly scale: number;
  readonly jobDuration: string;
  readonly peoplePerMinute: number;
  readonly childrenMissing: number;
  /** People's queue waits over the measured window (creation of their job within it), simulated ms. */
  readonly people: {
    readonly jobs: number;
    readonly stillWaiting: number;
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly maxMs: number;
  };
  /** Simulated ms from the first run until the last missing child's build succeeded; undefined if not. */
  readonly convergeMs: number | undefined;
  /** children × mean job time ÷ daemons: the fastest the provisioners could do it, ms. */
  readonly idealAllDaemonsMs: number;
  /** The measured window, simulated ms. */
  readonly windowMs: number;
  readonly runs: readonly QueueRunFigures[];
  readonly killed: number;
  readonly throttled: number;
  readonly requests: number;
  /** Coder requests per child that reached running; undefined without a controller. */
  readonly requestsPerChild: number | undefined;
  /** The most jobs the controller had pending at once (seen between runs). */
  readonly peakControllerPending: number;
  /** Scheduled ticks left to the continuations catching up (pacing.fullRunMinutesWhileContinuing). */
  readonly deferredTicks: number;
  readonly realMs: number;
}

const SCHEDULE_MS = 5 * 60_000;
const LATENCY_MS = 20;
const DEFAULT_DURATION: JobDuration = { kind: 'lognormal', meanMs: 60_000, sigma: 0.25 };

/** A timer that can be cleared, so a finished run does not leave its kill timer behind. */
const timer = (ms: number) => {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    handle = setTimeout(resolve, Math.max(0, ms));
  });
  return { done, clear: () => clearTimeout(handle) };
};

/** A request of a killed container: never answered. */
const never = new Promise<never>(() => {});

/**
 * The in-memory ledger with an index by owner: its `loadOwner` filters every record, which at
 * 20,000 children costs the controller's run more than DynamoDB's query by owner would.
 */
class IndexedFamilyLedger extends InMemoryFamilyLedger {
  private readonly byOwner = new Map<string, Map<string, ChildRecord>>();

  index(key: string): void {
    const record = this.children.get(key);
    const owner = key.slice(0, key.indexOf('/'));
    let own = this.byOwner.get(owner);
    if (own === undefined) {
      own = new Map();
      this.byOwner.set(owner, own);
    }
    if (record === undefined) own.delete(key);
    else own.set(key, record);
  }

  override async loadOwner(owner: string): Promise<LedgerState> {
    const o = owner.toLowerCase();
    return {
      children: [...(this.byOwner.get(o)?.values() ?? [])],
      missing: [...this.missing.values()].filter((m) => m.owner === o),
      failures: [...this.failures.values()].filter((f) => f.owner === o),
    };
  }

  override async beginCreate(
    intent: ChildRecord,
    replacesChildId?: string,
  ): Promise<ChildRecord | undefined> {
    const stored = await super.beginCreate(intent, replacesChildId);
    this.index(`${intent.owner}/${intent.parent}#${intent.index}`);
    return stored;
  }

  override async confirmChild(key: FamilyKey, index: number, childId: string, at: number): Promise<void> {
    await super.confirmChild(key, index, childId, at);
    this.index(`${key.owner}/${key.parent}#${index}`);
  }

  override async forgetChild(key: FamilyKey, index: number, childId: string | undefined): Promise<void> {
    await super.forgetChild(key, index, childId);
    this.index(`${key.owner}/${key.parent}#${index}`);
  }

  /** After seeding straight into `children`. */
  reindex(): void {
    for (const key of this.children.keys()) this.index(key);
  }
}

/** The reconcile function's configured memory, as the construct deploys it. */
export const deployedMemoryMb = (): number => RECONCILE_MEMORY_MB;

/** Cold fleet plus people: family owners also own stopped workspaces of PEOPLE_TEMPLATE. */
const seedQueueFleet = (sim: CoderSimulator, fleet: QueueFleet, ledger: IndexedFamilyLedger) => {
  const expected = seedCold(sim, fleet.families, ledger);
  ledger.reindex();
  sim.seed.template({ name: PEOPLE_TEMPLATE });
  const owners = Math.max(1, Math.ceil(fleet.families / 4));
  const people: string[] = [];
  for (let i = 0; i < fleet.peopleWorkspaces; i++) {
    const owner = userName(i % owners);
    if (i < owners) people.push(owner);
    sim.seed.workspace({
      owner,
      name: `own-${Math.floor(i / owners)}`,
      template: PEOPLE_TEMPLATE,
      status: 'stopped',
    });
  }
  return { expected, people };
};

/** Children (managed-template workspaces) whose latest build succeeded as a start. */
const runningManaged = (sim: CoderSimulator): number =>
  sim.workspacesSnapshot().filter((w) => w.templateName === TEMPLATE && w.status === 'running').length;

export const runQueueScenario = async (options: QueueScenarioOptions): Promise<QueueFigures> => {
  const realStart = performance.now();
  const scale = options.scale ?? 10;
  const jobDuration = options.jobDuration ?? DEFAULT_DURATION;
  const peoplePerMinute = options.peoplePerMinute ?? 5;
  const meanJobMs =
    jobDuration.kind === 'fixed'
      ? jobDuration.ms
      : jobDuration.kind === 'uniform'
        ? (jobDuration.minMs + jobDuration.maxMs) / 2
        : jobDuration.meanMs;
  const sim = await startCoderSimulator({
    record: false,
    timeScale: scale,
    // Coder's limit in simulated time (512 a minute per user and path), not divided by anything.
    rateLimit: { perMinute: 512, windowMs: 60_000, keyBy: 'user' },
    provisioners: {
      jobDuration,
      seed: options.seed ?? 1,
      pools: [{ name: 'provisioner', count: options.fleet.daemons }],
    },
  });
  try {
    sim.setFaults({ latencyMs: LATENCY_MS / scale });
    const ledger = new IndexedFamilyLedger();
    const { expected, people } = seedQueueFleet(sim, options.fleet, ledger);
    const childrenMissing =
      expected - sim.workspacesSnapshot().filter((w) => w.templateName === TEMPLATE).length;
    const t0 = sim.clock.now();
    const stream = sim.provisioners?.startPeople({
      perMinute: peoplePerMinute,
      owners: people,
      template: PEOPLE_TEMPLATE,
      seed: options.seed ?? 1,
    });
    if (stream === undefined) throw new Error('the simulator runs no provisioner queue');

    const runs: QueueRunFigures[] = [];
    /** Scheduled ticks left to the continuations (no run, no request). */
    let deferredTicks = 0;
    let peakControllerPending = 0;
    let windowEnd: number;
    if (options.controller === 'none') {
      windowEnd = t0 + (options.horizonMs ?? 2 * 3_600_000);
      for (let at = t0 + SCHEDULE_MS; at <= windowEnd; at += SCHEDULE_MS) sim.clock.advanceTo(at);
    } else {
      const harness = controllerHarness(sim, ledger, options.controller, scale);
      const maxRuns = options.maxRuns ?? 200;
      // The continuation queue as deployed (lib/families/schedule.ts): messages delayed to the
      // second; one that comes due while a run is in flight is throttled (reserved concurrency 1)
      // and comes back after the queue's visibility timeout.
      const visibilityMs = deployedTimeoutMs('reconcileTimeout') + 30_000;
      const messages: Array<{ due: number; event: ContinuationEvent }> = [];
      const continuationLocks = new InMemoryFamilyLocks();
      const queue = {
        send: async (event: ContinuationEvent, delaySeconds: number) =>
          void messages.push({ due: sim.clock.now() + delaySeconds * 1000, event }),
      };
      const fullRunEveryMs = FAMILIES_DEFAULTS.pacing.fullRunMinutesWhileContinuing * 60_000;
      let nextTick = t0;
      for (let i = 0; i < maxRuns; i++) {
        messages.sort((a, b) => a.due - b.due);
        const message =
          messages[0] !== undefined && messages[0].due < nextTick ? messages.shift() : undefined;
        sim.clock.advanceTo(Math.max(sim.clock.now(), message ? message.due : nextTick));
        // A run that overran a tick makes that invocation wait (reserved concurrency 1); it runs next.
        if (!message) while (nextTick <= sim.clock.now()) nextTick += SCHEDULE_MS;
        if (message) await claimContinuation(continuationLocks, message.event.token);
        // A scheduled tick left to the continuations catching up costs nothing (the handler's check).
        if (
          !message &&
          (await deferScheduledRun(continuationLocks, {
            now: sim.clock.now(),
            everyMs: fullRunEveryMs,
            runId: randomUUID(),
          }))
        ) {
          deferredTicks++;
          continue;
        }
        const startedAt = sim.clock.now();
        const { figures: run, report } = await harness.invoke(
          message
            ? {
                scope: { kind: 'families', families: message.event.families.map(parseFamilyId) },
                trigger: 'continuation',
              }
            : { scope: { kind: 'all' }, trigger: 'schedule' },
          () => runningManaged(sim),
        );
        for (const m of messages) if (m.due > startedAt && m.due < sim.clock.now()) m.due += visibilityMs;
        runs.push(run);
        options.onRun?.(run, i);
        peakControllerPending = Math.max(peakControllerPending, harness.pending());
        if (report?.continuation) {
          await scheduleContinuation(
            { locks: continuationLocks, queue, now: () => new Date(sim.clock.now()) },
            { ...report.continuation, token: randomUUID(), supersede: report.trigger !== 'continuation' },
          );
        }
        if (run.childrenRunning >= expected) break;
      }
      windowEnd = sim.clock.now();
    }
    stream.stop();
    // People who arrived in the window and still wait are waited for (the controller no longer
    // runs), so each wait is measured to its end instead of cut at the window.
    const waiting = () =>
      stream.figures().jobs.filter((j) => j.createdAt <= windowEnd && j.startedAt === undefined).length;
    for (
      let at = sim.clock.now() + SCHEDULE_MS;
      waiting() > 0 && at < windowEnd + 24 * 3_600_000;
      at += SCHEDULE_MS
    ) {
      sim.clock.advanceTo(at);
    }

    const jobs = sim.provisioners?.jobs() ?? [];
    const managed = new Set(
      sim
        .workspacesSnapshot({ includeDeleted: true })
        .filter((w) => w.templateName === TEMPLATE)
        .map((w) => w.id),
    );
    const childJobs = jobs.filter(
      (j) => managed.has(j.workspaceId) && j.createdAt >= t0 && j.transition === 'start',
    );
    const converged = options.controller !== 'none' && runningManaged(sim) >= expected;
    const lastDone = Math.max(...childJobs.map((j) => j.completedAt ?? Number.POSITIVE_INFINITY));
    const convergeMs = converged && Number.isFinite(lastDone) ? lastDone - t0 : undefined;
    const { waitsMs, stillWaiting } = queueWaits(stream.figures().jobs, sim.clock.now(), {
      from: t0,
      to: windowEnd,
    });
    const requests = runs.reduce((s, r) => s + r.requests, 0);
    const created = childJobs.filter((j) => j.status === 'succeeded').length;
    return {
      fleet: options.fleet,
      controller: typeof options.controller === 'string' ? options.controller : 'custom',
      scale,
      jobDuration: describeJobDuration(jobDuration),
      peoplePerMinute,
      childrenMissing,
      people: {
        jobs: waitsMs.length,
        stillWaiting,
        p50Ms: percentile(waitsMs, 50),
        p95Ms: percentile(waitsMs, 95),
        maxMs: waitsMs.length === 0 ? Number.NaN : Math.max(...waitsMs),
      },
      convergeMs,
      idealAllDaemonsMs: (childrenMissing * meanJobMs) / options.fleet.daemons,
      windowMs: windowEnd - t0,
      runs,
      killed: runs.filter((r) => r.killed).length,
      throttled: runs.reduce((s, r) => s + r.throttled, 0),
      requests,
      requestsPerChild: options.controller === 'none' || created === 0 ? undefined : requests / created,
      peakControllerPending,
      deferredTicks,
      realMs: performance.now() - realStart,
    };
  } finally {
    await sim.close();
  }
};

/**
 * The scheduled reconcile Lambda: one warm container at a time (a killed one is replaced), the
 * deployed timeout, the wiring's deadline margin, all on the simulated clock.
 */
const controllerHarness = (
  sim: CoderSimulator,
  ledger: InMemoryFamilyLedger,
  controller: Exclude<QueueController, 'none'>,
  scale: number,
) => {
  const locks = new InMemoryFamilyLocks();
  const stored = new Map<string, BuildParameter[]>();
  const timeoutMs = deployedTimeoutMs('reconcileTimeout');
  let container: ReturnType<typeof newContainer> | undefined;
  let adminId: string | undefined;

  const newContainer = () => {
    let killed = false;
    const isKilled = () => killed;
    const client = new CoderClient({
      baseUrl: sim.url,
      token: sim.adminToken,
      rateLimitWindowMs: 60_000 / scale,
      timeoutMs: 10_000 / scale,
      retry: { baseDelayMs: 200 / scale, maxDelayMs: 5_000 / scale },
      fetch: (input: string | URL | Request, init?: RequestInit) => (killed ? never : fetch(input, init)),
    });
    const config = familiesConfigSchema.parse({ templates: [TEMPLATE] });
    const parameterStore = killable(
      {
        getMany: async (ids: readonly string[]) =>
          new Map(ids.flatMap((id) => (stored.has(id) ? [[id, stored.get(id) ?? []] as const] : []))),
        putMany: async (entries: ReadonlyMap<string, readonly BuildParameter[]>) => {
          for (const [id, parameters] of entries) stored.set(id, [...parameters]);
        },
      },
      isKilled,
    );
    const workspaces = new CoderFamilyWorkspaces({
      client,
      templates: config.templates,
      organization: config.organization,
      parameterCache: new Map(),
      parameterStore,
    });
    const deps: QueueControllerDeps = {
      config,
      client,
      workspaces,
      capacity: new CoderProvisionerCapacity({
        client,
        organization: config.organization,
        templates: config.templates,
        now: () => sim.clock.now(),
      }),
      ledger: killable(ledger, isKilled),
      locks: killable(locks, isKilled),
      timers: intervalScheduler,
      now: () => new Date(sim.clock.now()),
      newRunId: () => randomUUID(),
      log: { ...silentLog, forFamily: () => silentLog },
      progress: ignoreProgress,
    };
    const reconcile: QueueReconcile =
      controller === 'today'
        ? (request) => reconcileFamilies({ ...deps, capacity: ampleProvisioners() }, request)
        : controller === 'paced'
          ? (request) => reconcileFamilies(deps, request)
          : controller(deps);
    return { client, reconcile, kill: () => (killed = true) };
  };

  return {
    /** The controller's jobs pending now. */
    pending: (): number =>
      (sim.provisioners?.jobs() ?? []).filter((j) => j.status === 'pending' && j.initiatorId === adminId)
        .length,
    invoke: async (
      request: Pick<ReconcileRequest, 'scope' | 'trigger'>,
      childrenRunning: () => number,
    ): Promise<{ figures: QueueRunFigures; report: ReconcileReport | undefined }> => {
      container ??= newContainer();
      const current = container;
      adminId ??= (await current.client.me()).id;
      const before = current.client.stats();
      const startedSim = sim.clock.now();
      const startedReal = performance.now();
      const margin = deadlineMarginMs(timeoutMs);
      const deadline = { remainingMs: () => timeoutMs - margin - (sim.clock.now() - startedSim) };
      const kill = timer(startedReal + timeoutMs / scale - performance.now());
      const outcome = await Promise.race([
        current.reconcile({ ...request, dryRun: false, deadline }),
        kill.done.then(() => 'killed' as const),
      ]);
      kill.clear();
      const after = current.client.stats();
      if (outcome === 'killed') {
        current.kill();
        container = undefined;
      }
      const figures: QueueRunFigures = {
        simulatedMs: Math.min(sim.clock.now() - startedSim, timeoutMs),
        realMs: performance.now() - startedReal,
        killed: outcome === 'killed',
        incomplete: outcome !== 'killed' && outcome.incomplete !== undefined,
        requests: after.requests - before.requests,
        throttled: after.rateLimited - before.rateLimited,
        childrenRunning: childrenRunning(),
        trigger: request.trigger === 'continuation' ? 'continuation' : 'schedule',
      };
      return { figures, report: outcome === 'killed' ? undefined : outcome };
    },
  };
};
