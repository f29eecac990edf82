import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBuildParameterStore } from '../../lambdas/adapters/aws/family-ledger.js';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { InMemoryFamilyLedger, InMemoryFamilyLocks } from '../../lambdas/core/families/in-memory.js';
import type { FamilyReconcileDeps } from '../../lambdas/core/families/ports.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { COUNT, type FamilyHarness, startFamilyHarness, TEMPLATE } from './harness.js';

const USERS = 50;
const PARENTS_PER_USER = 20;
const CHILDREN = 2;
const all = { scope: { kind: 'all' as const }, dryRun: false, trigger: 'schedule' as const };
/** Coder's default budget per user per endpoint path per minute. */
const CODER_RATE_LIMIT = 512;

describe('steady state at 1000 families / 3000 workspaces', () => {
  let h: FamilyHarness;
  let deps: FamilyReconcileDeps;
  beforeAll(async () => {
    const users = Array.from({ length: USERS }, (_, i) => `user${i}`);
    h = await startFamilyHarness({ users, sim: { record: false, buildDurationMs: 1 } });
    // The ledger and locks are in memory here: the Coder request count does not depend on them, and
    // 6000 conditional writes on dynalite would only slow the test down. Parameters use the
    // DynamoDB cache (dynalite), because the cold-container figure depends on it.
    deps = { ...h.deps, ledger: new InMemoryFamilyLedger(), locks: new InMemoryFamilyLocks() };
    for (const owner of users) {
      for (let p = 0; p < PARENTS_PER_USER; p++) {
        h.sim.seed.workspace({
          owner,
          name: `proj${p}`,
          template: TEMPLATE,
          parameters: { [COUNT]: String(CHILDREN) },
        });
      }
    }
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  it('creates the 2000 children once, then reconciles the whole fleet with a handful of list pages', async () => {
    // Act 1: the first-ever run (cold caches) creates every child.
    const started = performance.now();
    const first = await reconcileFamilies(deps, all);
    const firstMs = performance.now() - started;
    expect(first.families).toBe(USERS * PARENTS_PER_USER);
    expect(first.summary.created).toBe(USERS * PARENTS_PER_USER * CHILDREN);
    expect(first.failures).toBe(0);
    h.sim.advanceBuilds();
    expect(h.sim.workspacesSnapshot()).toHaveLength(3000);

    // Act 2: steady state in a warm container.
    h.sim.resetRequestCounts();
    const warmStart = performance.now();
    const warm = await reconcileFamilies(deps, all);
    const warmMs = performance.now() - warmStart;
    const warmRoutes = h.sim.requestCounts();

    // Act 3: steady state in a cold container (empty memory cache; the DynamoDB parameter cache).
    const coldWorkspaces = new CoderFamilyWorkspaces({
      client: h.client,
      templates: deps.config.templates,
      organization: deps.config.organization,
      parameterCache: new Map(),
      parameterStore: new DynamoBuildParameterStore(h.dynamo.documentClient, 'ledger'),
    });
    h.sim.resetRequestCounts();
    const coldReport = await reconcileFamilies({ ...deps, workspaces: coldWorkspaces }, all);
    const coldRoutes = h.sim.requestCounts();

    // Assess
    const pages = Math.ceil(3000 / 100);
    expect(warm.actions).toEqual([]);
    // + the template check (GET /templates) every run, + GET /users/me once per container.
    expect(warm.coder.requests).toBe(pages + 1);
    expect(coldReport.actions).toEqual([]);
    expect(coldReport.coder.requests).toBeLessThanOrEqual(pages + 2);
    for (const count of [...Object.values(warmRoutes), ...Object.values(coldRoutes)]) {
      expect(count).toBeLessThan(CODER_RATE_LIMIT);
    }
    console.info(
      `scale: first run ${first.coder.requests} requests in ${Math.round(firstMs)} ms; ` +
        `steady warm ${warm.coder.requests} requests in ${Math.round(warmMs)} ms ${JSON.stringify(warmRoutes)}; ` +
        `steady cold ${coldReport.coder.requests} requests ${JSON.stringify(coldRoutes)}`,
    );
  }, 120_000);
});
