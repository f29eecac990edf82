/**
 * Scenario 8 (issue 22): a cold start paced by Coder's provisioners. The simulator runs Coder's
 * provisioner queue (daemons, tags, one job each, coderd's acquisition order) on a simulated clock;
 * people start and create their own workspaces all along (5 a minute). Side by side in one run,
 * at the reference scale (3,000 workspaces, 20 daemons) and ten times it (30,000, 40 daemons),
 * half the families missing both children:
 *
 * - baseline A: no controller running: how long people's builds wait for a daemon;
 * - baseline B: the engine with no cap, run as the scheduled reconcile Lambda (5-minute schedule,
 *   the deployed timeout and the wiring's deadline margin, killed at the timeout);
 * - the controller: the engine as deployed: the cap from Coder's daemons, and a paced run's
 *   continuation (a delayed message; one that comes due while a run is in flight comes back after
 *   the queue's visibility timeout, as an SQS event source throttled by reserved concurrency 1 does).
 * Then steady state at the fleet's scale, warm and after every workspace stopped and started.
 *
 * Figures are in simulated (real-equivalent) time. `PROVISIONER_QUEUE_FLEETS=reference` runs the
 * reference scale alone; `PROVISIONER_QUEUE_SCALE` changes how fast the clock runs during a
 * controller run (default 10).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAMILIES_DEFAULTS } from '../../lambdas/core/families/config.js';
import { InMemoryFamilyLedger } from '../../lambdas/core/families/in-memory.js';
import { startCoderSimulator } from '../../sim/index.js';
import { check, fmt, mib, runTsChild, type Scenario, type ScenarioResult } from '../lib.js';
import { seedCold, stopAndStartAll } from './cold-scale.js';
import { seedSteadyFleet, seedTemplate } from './fleet.js';
import {
  deployedMemoryMb,
  QUEUE_FLEETS,
  type QueueFigures,
  type QueueFleet,
  type QueueRunFigures,
  runQueueScenario,
} from './provisioner-queue-run.js';
import type { WorkerInput, WorkerOutput } from './steady-state-worker.js';

const WORKER = fileURLToPath(new URL('./steady-state-worker.ts', import.meta.url));

/** Simulated ms as minutes (or seconds under two minutes), for the table. */
export const simTime = (ms: number | undefined): string => {
  if (ms === undefined || !Number.isFinite(ms)) return 'n/a';
  if (ms < 120_000) return `${fmt(ms / 1000, 0)} s`;
  if (ms < 3 * 3_600_000) return `${fmt(ms / 60_000, 0)} min`;
  return `${fmt(ms / 3_600_000, 1)} h`;
};

const waits = (f: QueueFigures): string => `${simTime(f.people.p50Ms)} / ${simTime(f.people.p95Ms)}`;

/**
 * Peak RSS of one cold reconcile at the fleet's scale, in a process of its own (the simulator and
 * its workspaces live in this one): the engine with its deployed caches, creating every missing
 * child, against a simulator with the fleet's daemons.
 */
const memoryProbe = async (fleet: QueueFleet): Promise<WorkerOutput> => {
  const sim = await startCoderSimulator({
    rateLimit: false,
    record: false,
    provisioners: { pools: [{ name: 'provisioner', count: fleet.daemons }] },
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-queue-'));
  try {
    const ledger = new InMemoryFamilyLedger();
    seedCold(sim, fleet.families, ledger);
    const input: WorkerInput = {
      mode: 'controller',
      url: sim.url,
      token: sim.adminToken,
      runs: 1,
      ledger: [...ledger.children.values()],
      parentParameters: {},
    };
    const file = path.join(dir, 'input.json');
    await writeFile(file, JSON.stringify(input));
    return JSON.parse((await runTsChild(WORKER, [file])).trim()) as WorkerOutput;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await sim.close();
  }
};

/**
 * Steady state at the fleet's scale, every child present, in a process of its own as a Lambda
 * container: a first run (parameters from the deployed store), a warm run, then every workspace is
 * stopped and started (new builds, so the stored parameters are stale) and one run in a new
 * container. Builds run on timers here: the queue plays no part when nothing is created.
 */
const steadyProbe = async (
  fleet: QueueFleet,
): Promise<{ pages: number; cold: number; warm: number; afterCycle: number; workspaces: number }> => {
  const sim = await startCoderSimulator({ rateLimit: false, record: false, buildDurationMs: 1 });
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-queue-steady-'));
  try {
    seedTemplate(sim);
    const seeded = seedSteadyFleet(sim, { families: fleet.families, children: 2, familiesPerUser: 4 });
    const container = async (runs: number): Promise<WorkerOutput> => {
      const input: WorkerInput = {
        mode: 'controller',
        url: sim.url,
        token: sim.adminToken,
        runs,
        ledger: seeded.ledger,
        parentParameters: seeded.parentParameters,
      };
      const file = path.join(dir, `steady-${runs}.json`);
      await writeFile(file, JSON.stringify(input));
      return JSON.parse((await runTsChild(WORKER, [file])).trim()) as WorkerOutput;
    };
    const first = await container(2);
    await stopAndStartAll(sim);
    const after = await container(1);
    const [cold, warm] = first.runs;
    check(cold !== undefined && warm !== undefined && after.runs[0] !== undefined, 'steady runs missing');
    for (const run of [...first.runs, ...after.runs])
      check(run.actions === 0, `steady run planned ${run.actions} actions`);
    return {
      pages: Math.ceil(seeded.workspaces / 100),
      cold: cold?.requests ?? 0,
      warm: warm?.requests ?? 0,
      afterCycle: after.runs[0]?.requests ?? 0,
      workspaces: seeded.workspaces,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await sim.close();
  }
};

interface FleetResult {
  readonly fleet: QueueFleet;
  readonly none: QueueFigures;
  readonly today: QueueFigures;
  readonly paced: QueueFigures;
  readonly steady: Awaited<ReturnType<typeof steadyProbe>>;
}

const goal = (met: boolean, text: string): string => `${text}: ${met ? 'met' : 'NOT met'}`;

/** The cap the deployed config derives from the fleet's daemons (pacing.ts, planJobAllowance). */
const capOf = (fleet: QueueFleet): number =>
  Math.max(1, Math.floor(fleet.daemons * FAMILIES_DEFAULTS.pacing.daemonShare));

const fleetRows = ({ fleet, none, today, paced, steady }: FleetResult) => {
  const setup = `${fleet.label} workspaces (${fmt(paced.childrenMissing)} children missing), ${fleet.daemons} daemons`;
  const cap = capOf(fleet);
  // children × mean job ÷ cap: the fastest the controller may go under its own cap.
  const idealCapMs = (paced.idealAllDaemonsMs * fleet.daemons) / cap;
  const a = none.people.p95Ms;
  const waitGoal = Math.max(2 * a, a + 30_000);
  const runsOf = (f: QueueFigures) => {
    const continuations = f.runs.filter((r) => r.trigger === 'continuation').length;
    const deferred = f.deferredTicks > 0 ? ` (${f.deferredTicks} ticks left to them)` : '';
    return `${f.runs.length - continuations} scheduled + ${continuations} continuations${deferred} / ${f.killed} killed / ${f.throttled} × 429 / ${fmt(f.requestsPerChild ?? Number.NaN, 2)} requests per child`;
  };
  const converge = (f: QueueFigures, idealMs: number) =>
    f.convergeMs === undefined
      ? `not after ${f.runs.length} runs`
      : `${simTime(f.convergeMs)} (${fmt(f.convergeMs / idealMs, 2)}× ideal)`;
  return [
    {
      figure: `${setup}, jobs ${paced.jobDuration}, people ${paced.peoplePerMinute}/min: people's queue wait p50 / p95`,
      controller: waits(paced),
      baseline: `A: ${waits(none)}; B: ${waits(today)}`,
      comparison: goal(
        paced.people.p95Ms <= waitGoal,
        `goal p95 ≤ max(2 × A, A + 30 s) = ${simTime(waitGoal)} (${fmt(paced.people.jobs)} / ${fmt(none.people.jobs)} / ${fmt(today.people.jobs)} people's builds)`,
      ),
    },
    {
      figure: `${setup}: time to converge vs the ideal (children × mean job ÷ the cap of ${cap}: ${simTime(idealCapMs)}; B: ÷ all ${fleet.daemons} daemons, ${simTime(today.idealAllDaemonsMs)})`,
      controller: converge(paced, idealCapMs),
      baseline: `B: ${converge(today, today.idealAllDaemonsMs)}; A: never`,
      comparison: goal(
        paced.convergeMs !== undefined && paced.convergeMs / idealCapMs <= 1.3,
        'goal ≤ 1.3× ideal',
      ),
    },
    {
      figure: `${setup}: reconcile runs / killed / 429s / Coder requests per converged child`,
      controller: runsOf(paced),
      baseline: `B: ${runsOf(today)}`,
      comparison: goal(paced.killed === 0 && paced.throttled === 0, 'goal none killed, 0 × 429'),
    },
    {
      figure: `${setup}: most of the controller's jobs pending at once (seen after a run)`,
      controller: fmt(paced.peakControllerPending),
      baseline: `B: ${fmt(today.peakControllerPending)}`,
      comparison: `cap ${cap} (pending + running)`,
    },
    {
      figure: `Steady ${fmt(steady.workspaces)} workspaces, every child present: Coder requests per run, warm (first run of a container)`,
      controller: `${steady.warm} (${steady.cold})`,
      baseline: `${steady.pages} list pages`,
      comparison: goal(steady.warm <= steady.pages + 5, `goal ≤ pages + 5 = ${steady.pages + 5}`),
    },
    {
      figure: `Steady ${fmt(steady.workspaces)} after every workspace stopped and started (new builds), new container`,
      controller: `${steady.afterCycle} (${fmt(steady.afterCycle / steady.warm, 2)}× warm)`,
      baseline: '',
      comparison: goal(steady.afterCycle <= 2 * steady.warm, 'goal ≤ 2× warm'),
    },
  ];
};

const fleetsToRun = (): QueueFleet[] => {
  const wanted = (process.env.PROVISIONER_QUEUE_FLEETS ?? 'reference,x10').split(',');
  return (Object.entries(QUEUE_FLEETS) as Array<[string, QueueFleet]>)
    .filter(([key]) => wanted.includes(key))
    .map(([, fleet]) => fleet)
    .sort((a, b) => a.families - b.families);
};

export const provisionerQueue: Scenario = {
  id: 'provisioner-queue',
  title: "8. Cold start against Coder's provisioner queue, people building meanwhile",
  async run(): Promise<ScenarioResult> {
    const scale = Number(process.env.PROVISIONER_QUEUE_SCALE ?? 10);
    const progress = (label: string) => (run: QueueRunFigures, i: number) => {
      if (i % 25 === 0) {
        process.stderr.write(
          `  ${label}: run ${i + 1} (${run.trigger}), ${fmt(run.realMs / 1000, 1)} s real, ${run.requests} requests, ${run.childrenRunning} running\n`,
        );
      }
    };
    const results: FleetResult[] = [];
    for (const fleet of fleetsToRun()) {
      const paced = await runQueueScenario({
        fleet,
        controller: 'paced',
        scale,
        maxRuns: 5_000,
        onRun: progress(`${fleet.label} paced`),
      });
      const today = await runQueueScenario({
        fleet,
        controller: 'today',
        scale,
        onRun: progress(`${fleet.label} no cap`),
      });
      // Watched as long as the paced controller took, so all three see the same stretch of the day.
      const none = await runQueueScenario({
        fleet,
        controller: 'none',
        scale,
        horizonMs: Math.max(3_600_000, paced.windowMs, today.windowMs),
      });
      check(
        none.people.jobs > 0 && today.people.jobs > 0 && paced.people.jobs > 0,
        `${fleet.label}: people built nothing`,
      );
      const steady = await steadyProbe(fleet);
      results.push({ fleet, none, today, paced, steady });
    }
    const largest = results[results.length - 1]?.fleet ?? QUEUE_FLEETS.reference;
    const memory = await memoryProbe(largest);
    const memoryMb = deployedMemoryMb();

    const rows = results.flatMap(fleetRows);
    rows.push({
      figure: `One cold reconcile at ${largest.label} (${fmt(largest.families)} families, half missing both children, no cap), own process: peak RSS vs the function's ${memoryMb} MiB`,
      controller: `${mib(memory.maxRssBytes)} (${fmt((100 * memory.maxRssBytes) / (memoryMb * 2 ** 20), 0)}%)`,
      baseline: '',
      comparison: goal((100 * memory.maxRssBytes) / (memoryMb * 2 ** 20) <= 50, 'goal ≤ 50%'),
    });
    return {
      id: this.id,
      title: this.title,
      baseline:
        'A: no controller running (people only); B: the engine with no cap (its capacity read as unlimited); the controller column is the engine as deployed (the cap, continuations)',
      rows,
      data: {
        scale,
        daemonShare: FAMILIES_DEFAULTS.pacing.daemonShare,
        results: results.map(({ fleet, none, today, paced, steady }) => ({
          fleet,
          none: { ...none, runs: undefined },
          today: { ...today, runs: today.runs },
          paced: { ...paced, runs: paced.runs },
          steady,
        })),
        memory,
        memoryMb,
      },
    };
  },
};
