/**
 * Scenario 1: a steady-state reconcile at seed-004 scale (1000 families, 3000 workspaces, nothing
 * to do), 20 ms of simulated latency on every Coder request. The controller (parameter cache +
 * store) against the same engine with no parameter cache (one parameters read per family per run).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCoderSimulator } from '../../sim/index.js';
import {
  check,
  fmt,
  mib,
  ms,
  routeMix,
  runTsChild,
  type Scenario,
  type ScenarioResult,
  times,
} from '../lib.js';
import { seedSteadyFleet, seedTemplate } from './fleet.js';
import type { WorkerInput, WorkerOutput } from './steady-state-worker.js';

const FAMILIES = 1000;
const CHILDREN = 2;
const LATENCY_MS = 20;
const RUNS = 2;

const WORKER = fileURLToPath(new URL('./steady-state-worker.ts', import.meta.url));

export const steadyState: Scenario = {
  id: 'steady-state',
  title: '1. Steady-state reconcile, 1000 families / 3000 workspaces',
  async run(): Promise<ScenarioResult> {
    // Rate limit off on both sides: the naive pass would otherwise spend minutes waiting for budget.
    const sim = await startCoderSimulator({ rateLimit: false, record: false, buildDurationMs: 50 });
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-steady-'));
    try {
      seedTemplate(sim);
      const fleet = seedSteadyFleet(sim, { families: FAMILIES, children: CHILDREN, familiesPerUser: 4 });
      check(fleet.workspaces === sim.workspacesSnapshot().length, 'fleet size');
      sim.setFaults({ latencyMs: LATENCY_MS });

      const outputs: Record<'controller' | 'naive', WorkerOutput> = {} as never;
      const simRequests: Record<string, number> = {};
      // Alternate so neither side always runs on a warmer machine.
      for (const mode of ['naive', 'controller'] as const) {
        const input: WorkerInput = {
          mode,
          url: sim.url,
          token: sim.adminToken,
          runs: RUNS,
          ledger: fleet.ledger,
          parentParameters: fleet.parentParameters,
        };
        const file = path.join(dir, `${mode}.json`);
        await writeFile(file, JSON.stringify(input));
        const before = sim.totalRequests();
        const output = JSON.parse((await runTsChild(WORKER, [file])).trim()) as WorkerOutput;
        simRequests[mode] = sim.totalRequests() - before;
        outputs[mode] = output;
        const clientCount = output.runs.reduce((sum, r) => sum + r.requests, 0);
        check(
          clientCount === simRequests[mode],
          `${mode}: client counted ${clientCount}, simulator ${simRequests[mode]}`,
        );
        for (const r of output.runs) {
          check(r.actions === 0, `${mode}: steady state planned ${r.actions} actions`);
          check(r.families === FAMILIES, `${mode}: saw ${r.families} families`);
        }
      }

      const c = outputs.controller;
      const n = outputs.naive;
      const [cCold, cWarm] = c.runs as [WorkerOutput['runs'][0], WorkerOutput['runs'][0]];
      const nWarm = n.runs[1] as WorkerOutput['runs'][0];
      const rssGrowth = (o: WorkerOutput) => o.maxRssBytes - o.startRssBytes;
      return {
        id: this.id,
        title: this.title,
        baseline: 'same engine without the parameter cache: one parameters read per family',
        rows: [
          {
            figure: 'Coder requests per run (warm container)',
            controller: `${cWarm.requests} (${routeMix(cWarm.byRoute)})`,
            baseline: `${nWarm.requests} (${routeMix(nWarm.byRoute)})`,
            comparison: `${times(nWarm.requests / cWarm.requests)} fewer`,
          },
          {
            figure: 'Coder requests, first run of a cold container (parameters from the store)',
            controller: `${cCold.requests} (${routeMix(cCold.byRoute)})`,
            baseline: `${(n.runs[0] as WorkerOutput['runs'][0]).requests}`,
            comparison: `${times((n.runs[0] as WorkerOutput['runs'][0]).requests / cCold.requests)} fewer`,
          },
          {
            figure: `Wall time per run, ${LATENCY_MS} ms latency per request (warm)`,
            controller: ms(cWarm.wallMs),
            baseline: ms(nWarm.wallMs),
            comparison: `${times(nWarm.wallMs / cWarm.wallMs)} faster`,
          },
          {
            figure: 'Peak RSS of the reconcile process (growth over its start)',
            controller: `${mib(c.maxRssBytes)} (+${mib(rssGrowth(c))})`,
            baseline: `${mib(n.maxRssBytes)} (+${mib(rssGrowth(n))})`,
            comparison: `${fmt(c.maxRssBytes / n.maxRssBytes, 2)}× the baseline's peak`,
          },
        ],
        data: {
          families: FAMILIES,
          workspaces: fleet.workspaces,
          latencyMs: LATENCY_MS,
          outputs,
          simRequests,
        },
      };
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
