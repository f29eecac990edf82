/**
 * Scenario 3: 300 new families needing 900 children, with the simulator enforcing Coder's limit
 * of 512 requests per window per user and route, the window scaled from 60 s to 6 s (the
 * client's window matched). The controller's pacing against the same engine with pacing off
 * (relying on 429 + Retry-After alone). Rates are reported as a fraction of the allowed 512 per
 * window, which does not depend on the time scale.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CODER_ROUTES, CoderClient, type CoderRequestEvent } from '../../lambdas/adapters/coder/index.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { familiesConfigSchema } from '../../lambdas/core/families/config.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
} from '../../lambdas/core/families/in-memory.js';
import { ignoreProgress } from '../../lambdas/core/families/progress.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { intervalScheduler } from '../../lambdas/wiring/scheduler.js';
import { startCoderSimulator } from '../../sim/index.js';
import { check, fmt, type Scenario, type ScenarioResult } from '../lib.js';
import { COUNT, seedTemplate, TEMPLATE, userName } from './fleet.js';

const FAMILIES = 300;
const CHILDREN = 3;
const LIMIT = 512;
const WINDOW_MS = 6_000;
const MAX_RUNS = 10;
const CREATE_ROUTE = CODER_ROUTES.userWorkspaces;

interface Attempt {
  readonly at: number;
  readonly status: CoderRequestEvent['status'];
}

interface Convergence {
  readonly runs: number;
  readonly wallMs: number;
  readonly created: number;
  readonly createAttempts: number;
  readonly create429: number;
  readonly all429: number;
  readonly requests: number;
  /** Creates the server accepted per second over the create phase, ÷ the allowed rate. */
  readonly rateFraction: number;
  /** Most creates accepted in any window-long interval, ÷ the limit. */
  readonly peakWindowFraction: number;
}

/** Largest number of timestamps inside any interval of `width`. */
const peakInWindow = (times: readonly number[], width: number): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= width) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
};

const converge = async (paced: boolean): Promise<Convergence> => {
  const sim = await startCoderSimulator({
    rateLimit: { perMinute: LIMIT, windowMs: WINDOW_MS },
    record: false,
    buildDurationMs: 50,
  });
  try {
    seedTemplate(sim);
    for (let f = 0; f < FAMILIES; f++) {
      const owner = userName(Math.floor(f / 3));
      if (f % 3 === 0) sim.seed.user({ username: owner });
      sim.seed.workspace({
        owner,
        name: `proj${f % 3}`,
        template: TEMPLATE,
        parameters: { [COUNT]: String(CHILDREN) },
      });
    }
    const attempts: Attempt[] = [];
    const client = new CoderClient({
      baseUrl: sim.url,
      token: sim.adminToken,
      rateLimitPerMinute: paced ? undefined : false,
      rateLimitWindowMs: WINDOW_MS,
      onRequest: (event) => {
        if (event.method === 'POST' && event.route === CREATE_ROUTE)
          attempts.push({ at: Date.now(), status: event.status });
      },
    });
    const config = familiesConfigSchema.parse({ templates: [TEMPLATE] });
    let clock = Date.now();
    const deps = {
      config,
      workspaces: new CoderFamilyWorkspaces({ client, templates: config.templates, organization: 'default' }),
      ledger: new InMemoryFamilyLedger(),
      locks: new InMemoryFamilyLocks(),
      now: () => new Date(clock),
      newRunId: () => randomUUID(),
      timers: intervalScheduler,
      progress: ignoreProgress,
      capacity: ampleProvisioners(),
      log: { ...silentLog, forFamily: () => silentLog },
    };
    const started = performance.now();
    let runs = 0;
    let created = 0;
    for (;;) {
      runs++;
      const report = await reconcileFamilies(deps, {
        scope: { kind: 'all' },
        dryRun: false,
        trigger: 'schedule',
      });
      created += report.summary.created;
      if (report.actions.length === 0) break;
      check(runs < MAX_RUNS, `${paced ? 'paced' : 'unpaced'} run did not converge in ${MAX_RUNS} runs`);
      // The next scheduled run comes after any family backoff has passed.
      clock += 10 * config.backoffBaseMs;
    }
    const wallMs = performance.now() - started;
    const live = sim.workspacesSnapshot().length;
    check(
      live === FAMILIES * (CHILDREN + 1),
      `expected ${FAMILIES * (CHILDREN + 1)} workspaces, found ${live}`,
    );
    const accepted = attempts.filter((a) => a.status !== 429).map((a) => a.at);
    const first = Math.min(...accepted);
    const last = Math.max(...accepted);
    const allowedPerMs = LIMIT / WINDOW_MS;
    const stats = client.stats();
    return {
      runs,
      wallMs,
      created,
      createAttempts: attempts.length,
      create429: attempts.filter((a) => a.status === 429).length,
      all429: stats.rateLimited,
      requests: stats.requests,
      rateFraction: (accepted.length - 1) / (last - first) / allowedPerMs,
      peakWindowFraction: peakInWindow(accepted, WINDOW_MS) / LIMIT,
    };
  } finally {
    await sim.close();
  }
};

export const rateLimit: Scenario = {
  id: 'rate-limit',
  title: '3. 300 new families / 900 children under the rate limit',
  async run(): Promise<ScenarioResult> {
    const controller = await converge(true);
    const unpaced = await converge(false);
    check(controller.created === FAMILIES * CHILDREN, `paced run created ${controller.created}`);
    const pct = (fraction: number) => `${fmt(fraction * 100, 1)}%`;
    return {
      id: this.id,
      title: this.title,
      baseline: 'same engine, client pacing off (429 + Retry-After only)',
      rows: [
        {
          figure: `429s received (create route / all routes)`,
          controller: `${controller.create429} / ${controller.all429}`,
          baseline: `${unpaced.create429} / ${unpaced.all429}`,
          comparison: controller.all429 === 0 ? 'zero with pacing' : 'pacing did not prevent 429s',
        },
        {
          figure: `Create rate achieved, fraction of ${LIMIT} per window (window scaled to ${WINDOW_MS / 1000} s)`,
          controller: pct(controller.rateFraction),
          baseline: pct(unpaced.rateFraction),
          comparison: `${fmt(controller.rateFraction / unpaced.rateFraction, 2)}× the baseline's rate`,
        },
        {
          figure: 'Busiest window: creates accepted ÷ limit',
          controller: pct(controller.peakWindowFraction),
          baseline: pct(unpaced.peakWindowFraction),
          comparison: '',
        },
        {
          figure: 'Runs to converge (create attempts for 900 children)',
          controller: `${controller.runs} (${controller.createAttempts})`,
          baseline: `${unpaced.runs} (${unpaced.createAttempts})`,
          comparison: '',
        },
        {
          figure: 'Time to converge, ÷ the baseline',
          controller: `${fmt(controller.wallMs / 1000, 1)} s`,
          baseline: `${fmt(unpaced.wallMs / 1000, 1)} s`,
          comparison: `${fmt(controller.wallMs / unpaced.wallMs, 2)}×`,
        },
      ],
      data: {
        families: FAMILIES,
        children: CHILDREN,
        limit: LIMIT,
        windowMs: WINDOW_MS,
        controller,
        unpaced,
      },
    };
  },
};
