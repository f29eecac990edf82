/**
 * Scenario 8 (issue 22): a cold start paced by Coder's provisioners. The simulator runs Coder's
 * provisioner queue (daemons, tags, one job each, coderd's acquisition order) on a simulated clock;
 * people start and create their own workspaces all along (5 a minute). Side by side in one run,
 * at the reference scale (3,000 workspaces, 20 daemons) and ten times it (30,000, 40 daemons),
 * half the families missing both children:
 *
 * - baseline A: no controller running: how long people's builds wait for a daemon;
 * - baseline B: today's engine, no cap, run as the scheduled reconcile Lambda (5-minute schedule,
 *   the deployed timeout and the wiring's deadline margin, killed at the timeout);
 * - with the cap: added by passing a controller function to runQueueScenario (see
 *   provisioner-queue-run.ts, `QueueController`).
 *
 * Figures are in simulated (real-equivalent) time. `PROVISIONER_QUEUE_FLEETS=reference` runs the
 * reference scale alone; `PROVISIONER_QUEUE_SCALE` changes how fast the clock runs during a
 * controller run (default 10).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InMemoryFamilyLedger } from '../../lambdas/core/families/in-memory.js';
import { startCoderSimulator } from '../../sim/index.js';
import { check, fmt, mib, runTsChild, type Scenario, type ScenarioResult } from '../lib.js';
import { seedCold } from './cold-scale.js';
import {
  deployedMemoryMb,
  QUEUE_FLEETS,
  type QueueFigures,
  type QueueFleet,
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
    const results: Array<{ fleet: QueueFleet; none: QueueFigures; today: QueueFigures }> = [];
    for (const fleet of fleetsToRun()) {
      const today = await runQueueScenario({
        fleet,
        controller: 'today',
        scale,
        onRun: (run, i) => {
          if (i % 10 === 0) {
            process.stderr.write(
              `  ${fleet.label} today: run ${i + 1}, ${fmt(run.realMs / 1000, 1)} s real, ${run.requests} requests, ${run.childrenRunning} running\n`,
            );
          }
        },
      });
      // Watched as long as today's controller took, so both see the same stretch of the day.
      const none = await runQueueScenario({
        fleet,
        controller: 'none',
        scale,
        horizonMs: Math.max(3_600_000, today.windowMs),
      });
      check(none.people.jobs > 0 && today.people.jobs > 0, `${fleet.label}: people built nothing`);
      results.push({ fleet, none, today });
    }
    const largest = results[results.length - 1]?.fleet ?? QUEUE_FLEETS.reference;
    const memory = await memoryProbe(largest);
    const memoryMb = deployedMemoryMb();

    const rows = results.flatMap(({ fleet, none, today }) => {
      const setup = `${fleet.label} workspaces (${fmt(today.childrenMissing)} children missing), ${fleet.daemons} daemons`;
      const killed = today.killed;
      return [
        {
          figure: `${setup}, jobs ${today.jobDuration}, people ${today.peoplePerMinute}/min: people's queue wait p50 / p95`,
          controller: waits(today),
          baseline: waits(none),
          comparison: `p95 +${simTime(today.people.p95Ms - none.people.p95Ms)} (${fmt(today.people.jobs)} and ${fmt(none.people.jobs)} people's builds)`,
        },
        {
          figure: `${setup}: time to converge vs the ideal (children × mean job ÷ daemons, ${simTime(today.idealAllDaemonsMs)})`,
          controller:
            today.convergeMs === undefined
              ? `not after ${today.runs.length} runs`
              : `${simTime(today.convergeMs)} (${fmt(today.convergeMs / today.idealAllDaemonsMs, 2)}× ideal)`,
          baseline: 'never (nothing creates them)',
          comparison: '',
        },
        {
          figure: `${setup}: reconcile runs / killed / 429s / Coder requests per converged child`,
          controller: `${today.runs.length} / ${killed} / ${today.throttled} / ${fmt(today.requestsPerChild ?? Number.NaN, 2)}`,
          baseline: '',
          comparison: '',
        },
        {
          figure: `${setup}: most of the controller's jobs pending at once (seen after a run)`,
          controller: fmt(today.peakControllerPending),
          baseline: '0',
          comparison: `${fmt((100 * today.peakControllerPending) / today.childrenMissing, 0)}% of the missing children at once`,
        },
      ];
    });
    rows.push({
      figure: `One cold reconcile at ${largest.label} (${fmt(largest.families)} families, half missing both children), own process: peak RSS vs the function's ${memoryMb} MiB`,
      controller: `${mib(memory.maxRssBytes)} (${fmt((100 * memory.maxRssBytes) / (memoryMb * 2 ** 20), 0)}%)`,
      baseline: '',
      comparison: '',
    });
    return {
      id: this.id,
      title: this.title,
      baseline: "no controller running (people only); the controller column is today's engine with no cap",
      rows,
      data: {
        scale,
        results: results.map(({ fleet, none, today }) => ({
          fleet,
          none: { ...none, runs: undefined },
          today: { ...today, runs: today.runs },
        })),
        memory,
        memoryMb,
      },
    };
  },
};
