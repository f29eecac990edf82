/**
 * Scenario 2: creating one family's N children. The reconciler (creates in parallel under its
 * bound) against seed 000's startup script (`for i in 1..N: coder create`), as sequential
 * createWorkspace calls each waiting for the previous one, with 300 ms of simulated latency on
 * the create route. `coder create` also waits for the build to finish, so the real script is
 * slower than this baseline: the speed-up is a lower bound.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CODER_ROUTES, CoderClient } from '../../lambdas/adapters/coder/index.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { familiesConfigSchema } from '../../lambdas/core/families/config.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
} from '../../lambdas/core/families/in-memory.js';
import { childWorkspaceName } from '../../lambdas/core/families/names.js';
import { ignoreProgress } from '../../lambdas/core/families/progress.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { intervalScheduler } from '../../lambdas/wiring/scheduler.js';
import { startCoderSimulator } from '../../sim/index.js';
import { check, median, ms, type Scenario, type ScenarioResult, times } from '../lib.js';
import { COUNT, seedTemplate, TEMPLATE } from './fleet.js';

const CREATE_LATENCY_MS = 300;
const SIZES = [3, 9] as const;
const REPS = 3;
const CREATE_ROUTE = `POST ${CODER_ROUTES.userWorkspaces}`;

export const familyCreation: Scenario = {
  id: 'family-creation',
  title: '2. Family creation vs a startup script (sequential `coder create`)',
  async run(): Promise<ScenarioResult> {
    const sim = await startCoderSimulator({ rateLimit: false, record: false, buildDurationMs: 50 });
    try {
      seedTemplate(sim);
      sim.setFaults({ latencyMs: CREATE_LATENCY_MS, routes: [CREATE_ROUTE] });
      const client = new CoderClient({ baseUrl: sim.url, token: sim.adminToken, rateLimitPerMinute: false });
      const config = familiesConfigSchema.parse({ templates: [TEMPLATE] });
      const deps = {
        config,
        workspaces: new CoderFamilyWorkspaces({
          client,
          templates: config.templates,
          organization: 'default',
        }),
        ledger: new InMemoryFamilyLedger(),
        locks: new InMemoryFamilyLocks(),
        now: () => new Date(),
        newRunId: () => randomUUID(),
        timers: intervalScheduler,
        progress: ignoreProgress,
        capacity: ampleProvisioners(),
        log: { ...silentLog, forFamily: () => silentLog },
      };
      const organizationId = (await client.organization('default')).id;
      const parameters = { cpu: '4', memory: '8' };
      // The script knows its template from the workspace it runs in: no lookup inside the timing.
      const templateId = (await client.getTemplateByName('default', TEMPLATE)).id;

      const samples: Record<number, { controller: number[]; sequential: number[] }> = {};
      for (const n of SIZES) {
        samples[n] = { controller: [], sequential: [] };
        for (let rep = 0; rep < REPS; rep++) {
          // Both owners and parents are fresh per repetition; the order alternates.
          const order =
            rep % 2 === 0 ? (['sequential', 'controller'] as const) : (['controller', 'sequential'] as const);
          for (const side of order) {
            const owner = `${side.slice(0, 3)}${n}r${rep}`;
            sim.seed.user({ username: owner });
            sim.seed.workspace({
              owner,
              name: 'team',
              template: TEMPLATE,
              parameters: { ...parameters, [COUNT]: String(n) },
            });
            const started = performance.now();
            if (side === 'controller') {
              const report = await reconcileFamilies(deps, {
                scope: { kind: 'family', owner, parent: 'team' },
                dryRun: false,
                trigger: 'webhook',
              });
              check(report.summary.created === n, `controller created ${report.summary.created} of ${n}`);
            } else {
              for (let i = 1; i <= n; i++) {
                await client.createWorkspace(organizationId, owner, {
                  name: childWorkspaceName('team', i),
                  template_id: templateId,
                  rich_parameter_values: [
                    { name: COUNT, value: '0' },
                    { name: 'cpu', value: parameters.cpu },
                    { name: 'memory', value: parameters.memory },
                  ],
                });
              }
            }
            samples[n]?.[side].push(performance.now() - started);
            const live = sim.workspacesSnapshot().filter((w) => w.ownerName === owner);
            check(live.length === n + 1, `${side} left ${live.length - 1} children for N=${n}`);
          }
        }
      }

      const rows = SIZES.map((n) => {
        const s = samples[n] ?? { controller: [], sequential: [] };
        const c = median(s.controller);
        const q = median(s.sequential);
        return {
          figure: `N = ${n}: time until every create is answered (median of ${REPS})`,
          controller: ms(c),
          baseline: ms(q),
          comparison: `${times(q / c)} speed-up`,
        };
      });
      return {
        id: this.id,
        title: this.title,
        baseline: `N sequential creates, ${CREATE_LATENCY_MS} ms each`,
        rows,
        data: { createLatencyMs: CREATE_LATENCY_MS, createConcurrency: config.createConcurrency, samples },
      };
    } finally {
      await sim.close();
    }
  },
};
