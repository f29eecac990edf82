/**
 * Child process of the steady-state scenario: runs the family reconcile against the simulator
 * the parent started, so this process's peak RSS is the reconcile's alone (the simulator's 3000
 * workspaces live in the parent). Prints one JSON line.
 *
 * Modes:
 * - `controller`: as deployed: a per-build parameter cache in memory, backed by the parameter
 *   store (an in-memory stand-in for the DynamoDB one, pre-filled as earlier runs would have);
 *   run 1 is a cold container, run 2 a warm one.
 * - `naive`: the same engine without any parameter cache or store, so every run reads each
 *   parent's parameters from Coder: one request per family.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CoderClient } from '../../lambdas/adapters/coder/index.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { familiesConfigSchema } from '../../lambdas/core/families/config.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
} from '../../lambdas/core/families/in-memory.js';
import type { BuildParameter, ChildRecord } from '../../lambdas/core/families/model.js';
import { ignoreProgress } from '../../lambdas/core/families/progress.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { intervalScheduler } from '../../lambdas/wiring/scheduler.js';
import { TEMPLATE } from './fleet.js';

export interface WorkerInput {
  readonly mode: 'controller' | 'naive';
  readonly url: string;
  readonly token: string;
  readonly runs: number;
  readonly ledger: ChildRecord[];
  readonly parentParameters: Record<string, BuildParameter[]>;
}

export interface WorkerRun {
  readonly wallMs: number;
  readonly requests: number;
  readonly byRoute: Record<string, number>;
  readonly families: number;
  readonly actions: number;
}

export interface WorkerOutput {
  readonly mode: WorkerInput['mode'];
  readonly runs: WorkerRun[];
  /** Peak resident set of this process, bytes (process.resourceUsage().maxRSS). */
  readonly maxRssBytes: number;
  /** Peak RSS before the first run (runtime, modules, the input), bytes. */
  readonly startRssBytes: number;
  /** Heap in use after the last run minus before the first, bytes. */
  readonly heapDeltaBytes: number;
}

const main = async (): Promise<void> => {
  const input = JSON.parse(await readFile(process.argv[2] ?? '', 'utf8')) as WorkerInput;
  const client = new CoderClient({ baseUrl: input.url, token: input.token, rateLimitPerMinute: false });
  const config = familiesConfigSchema.parse({ templates: [TEMPLATE] });
  const ledger = new InMemoryFamilyLedger();
  for (const record of input.ledger) {
    ledger.children.set(`${record.owner}/${record.parent}#${record.index}`, record);
  }
  const stored = new Map(Object.entries(input.parentParameters));
  const parameterStore = {
    getMany: async (ids: readonly string[]) =>
      new Map(ids.flatMap((id) => (stored.has(id) ? [[id, stored.get(id) ?? []] as const] : []))),
    putMany: async (entries: ReadonlyMap<string, readonly BuildParameter[]>) => {
      for (const [id, parameters] of entries) stored.set(id, [...parameters]);
    },
  };
  const parameterCache = new Map<string, BuildParameter[]>();
  const locks = new InMemoryFamilyLocks();
  const startRssBytes = process.resourceUsage().maxRSS * 1024;
  const heapBefore = process.memoryUsage().heapUsed;

  // The deployed worker keeps its adapter at module scope, so a warm container reuses its caches.
  const deployed = new CoderFamilyWorkspaces({
    client,
    templates: config.templates,
    organization: config.organization,
    parameterCache,
    parameterStore,
  });
  const runs: WorkerRun[] = [];
  for (let run = 0; run < input.runs; run++) {
    const workspaces =
      input.mode === 'controller'
        ? deployed
        : new CoderFamilyWorkspaces({
            client,
            templates: config.templates,
            organization: config.organization,
            // One parameters read per family, as before issue 12's count discovery.
            discoverCounts: false,
          });
    const before = client.stats();
    const started = performance.now();
    const report = await reconcileFamilies(
      {
        config,
        workspaces,
        ledger,
        locks,
        now: () => new Date(),
        newRunId: () => randomUUID(),
        timers: intervalScheduler,
        progress: ignoreProgress,
        capacity: ampleProvisioners(),
        log: { ...silentLog, forFamily: () => silentLog },
      },
      { scope: { kind: 'all' }, dryRun: false, trigger: 'schedule' },
    );
    const wallMs = performance.now() - started;
    const after = client.stats();
    const byRoute: Record<string, number> = {};
    for (const [route, count] of Object.entries(after.byRoute)) {
      const delta = count - (before.byRoute[route] ?? 0);
      if (delta > 0) byRoute[route] = delta;
    }
    runs.push({
      wallMs,
      requests: after.requests - before.requests,
      byRoute,
      families: report.families,
      actions: report.actions.length,
    });
  }
  const output: WorkerOutput = {
    mode: input.mode,
    runs,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    startRssBytes,
    heapDeltaBytes: process.memoryUsage().heapUsed - heapBefore,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
