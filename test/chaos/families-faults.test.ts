/**
 * Workspace families under injected Coder faults, randomized: for each seed, a random fleet of
 * families and user-owned look-alikes (e.g. a `team-2` the user made by hand) is created, then
 * randomly shrunk, grown and orphaned (parent deleted, grace elapsed on the injected clock), while
 * the simulator answers 20% of requests with a 5xx (half before, half after the change was made),
 * times out 5%, and sends bursts of 429. test/families/chaos.test.ts is the fixed, readable case;
 * this is the heavier randomized one.
 *
 * Every phase must converge within MAX_RUNS scheduled runs, leave exactly the expected workspaces
 * (no duplicate, nothing unexpected), never delete or rebuild a workspace the controller did not
 * create, and leave no unhandled rejection.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childWorkspaceName } from '../../lambdas/core/families/names.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import {
  type CoderVersionName,
  DEFAULT_CODER_VERSION,
  type SimWorkspaceView,
  SUPPORTED_PROFILES,
} from '../../sim/index.js';
import { COUNT, type FamilyHarness, startFamilyHarness, TEMPLATE } from '../families/harness.js';

const MINUTE = 60_000;
const MAX_RUNS = 15;
const SEEDS = [11, 23, 37, 41, 59, 67, 73, 89];
/**
 * Every seed at the default (newest) profile; two at each other supported release, whose
 * differences (query parameters, notification payloads, rate-limit keying) the families path
 * touches far less than the faults do, to keep the suite's time reasonable.
 */
const CASES: Array<[CoderVersionName, number]> = SUPPORTED_PROFILES.flatMap((profile) =>
  (profile === DEFAULT_CODER_VERSION ? SEEDS : SEEDS.slice(0, 2)).map((seed): [CoderVersionName, number] => [
    profile,
    seed,
  ]),
);
const PARENT_NAMES = ['team', 'web', 'api', 'data', 'ml'];
const all = { scope: { kind: 'all' as const }, dryRun: false, trigger: 'schedule' as const };

/** What the runs of the current test did, for the failure message. */
const TRACE: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', onUnhandled);
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** mulberry32, so a failing seed can be replayed. */
const random = (seed: number) => {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (min: number, max: number): number => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number): boolean => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    shuffle: <T>(items: readonly T[]): T[] => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    },
  };
};
type Random = ReturnType<typeof random>;

interface Family {
  readonly owner: string;
  readonly parent: string;
  parentId: string;
  count: number;
  alive: boolean;
}

/** A workspace the controller must never delete or build: the user's own. */
interface UserWorkspace {
  readonly id: string;
  readonly owner: string;
  readonly name: string;
  /** Builds the user made; the controller must add none. */
  buildNumber: number;
  alive: boolean;
}

const key = (owner: string, name: string): string => `${owner}/${name}`.toLowerCase();

const faultsFor = (rng: Random, run: number) => ({
  errorRate: 0.2,
  errorAfterEffectRate: 0.2,
  timeoutRate: 0.05,
  rateLimitBurst: rng.int(0, 3),
  rateLimitBurstRetryAfterSeconds: 0,
  seed: run * 7919 + rng.int(0, 1_000_000),
});

/**
 * Scheduled runs until one neither changes nor waits for anything, each under fresh faults
 * (the 429 burst is re-armed every run). A run that throws is what a failed Lambda would be.
 * The injected clock moves five minutes a run, as the schedule does, with the default per-family
 * backoff; so the controller's clock runs ahead of Coder's, and an ambiguous create made while
 * /users/me failed must be kept until its ownership can be decided (never disowned by a clock
 * comparison). Until `graceOver`, children waiting out a grace period are settled.
 */
const converge = async (h: FamilyHarness, rng: Random, graceOver = true): Promise<number> => {
  for (let run = 1; run <= MAX_RUNS; run++) {
    h.sim.setFaults(faultsFor(rng, run));
    let settled = false;
    try {
      const report = await reconcileFamilies(h.deps, all);
      for (const a of report.actions) {
        TRACE.push(
          `run ${run}: ${a.kind} ${'childName' in a ? a.childName : ''} ${a.outcome}: ${a.reason} ${a.error ?? ''}`,
        );
      }
      const busy = report.actions.some(
        (a) =>
          (a.outcome !== 'skipped' && a.outcome !== 'conflict') ||
          a.kind === 'backoff-skip' ||
          a.kind === 'child-busy' ||
          a.kind === 'ownership-undecided' ||
          (a.kind === 'grace-wait' && graceOver),
      );
      settled = !busy && report.skippedLocked.length === 0;
    } catch {
      // A failed run: the next scheduled one picks up from here.
    }
    h.sim.setFaults(undefined);
    h.sim.advanceBuilds();
    h.clock.advance(5 * MINUTE);
    if (settled) return run;
  }
  throw new Error(`no convergence within ${MAX_RUNS} runs; last actions:\n${TRACE.slice(-30).join('\n')}`);
};

/** The live workspaces the fleet should have: parents, user workspaces, and each child name not held by a user's. */
const expectedLive = (families: readonly Family[], users: readonly UserWorkspace[]): string[] => {
  const names = new Set(users.filter((u) => u.alive).map((u) => key(u.owner, u.name)));
  for (const f of families) {
    if (!f.alive) continue;
    names.add(key(f.owner, f.parent));
    for (let i = 1; i <= f.count; i++) names.add(key(f.owner, childWorkspaceName(f.parent, i)));
  }
  return [...names].sort();
};

const liveOf = (snapshot: readonly SimWorkspaceView[]): SimWorkspaceView[] =>
  snapshot.filter((w) => !w.deleted && w.status !== 'deleted');

const assertFleet = async (
  h: FamilyHarness,
  families: readonly Family[],
  users: readonly UserWorkspace[],
) => {
  h.sim.advanceBuilds();
  const everything = h.sim.workspacesSnapshot({ includeDeleted: true });
  const live = liveOf(everything);
  const liveKeys = live.map((w) => key(w.ownerName, w.name)).sort();
  // Zero duplicates and nothing unexpected: the live set is exactly the expected one.
  expect(new Set(liveKeys).size).toBe(liveKeys.length);
  expect(liveKeys).toEqual(expectedLive(families, users));
  // The user's own workspaces: never deleted, never rebuilt by the controller.
  for (const u of users) {
    const now = everything.find((w) => w.id === u.id);
    expect(now?.deleted, `${u.owner}/${u.name}`).toBe(!u.alive);
    expect(now?.latestBuildNumber, `${u.owner}/${u.name} builds`).toBe(u.buildNumber);
  }
  // The ledger claims only workspaces the controller created, and every one of them is live.
  const ledger = await h.ledger.loadAll();
  const userIds = new Set(users.map((u) => u.id));
  for (const child of ledger.children) {
    expect(child.state).toBe('confirmed');
    expect(userIds.has(child.childId ?? '')).toBe(false);
    expect(live.some((w) => w.id === child.childId)).toBe(true);
  }
};

describe('families under 5xx, timeouts and 429 bursts (randomized fleets)', () => {
  let h: FamilyHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it.each(CASES)(
    'Coder %s, seed %i: creates, shrinks, grows and orphans families; converges with no duplicate and no wrongful deletion',
    async (coderVersion, seed) => {
      // Prepare: a random fleet, plus the user's own look-alikes and bystanders.
      const rng = random(seed);
      TRACE.length = 0;
      const owners = ['ana', 'bo', 'cy', 'di'];
      h = await startFamilyHarness({
        users: owners,
        client: { timeoutMs: 150, retry: { maxAttempts: 4, baseDelayMs: 2, maxDelayMs: 10 } },
        sim: { createRaceWindowMs: 2, coderVersion },
      });
      const harness = h;
      const families: Family[] = [];
      const users: UserWorkspace[] = [];
      const userWorkspace = (owner: string, name: string): void => {
        const ws = harness.sim.seed.workspace({ owner, name, template: TEMPLATE });
        users.push({ id: ws.id, owner, name, buildNumber: 1, alive: true });
      };
      for (const owner of owners) {
        const parents = rng.shuffle(PARENT_NAMES).slice(0, rng.int(1, 3));
        for (const parent of parents) {
          const count = rng.int(1, 5);
          const ws = harness.sim.seed.workspace({
            owner,
            name: parent,
            template: TEMPLATE,
            parameters: { [COUNT]: String(count), cpu: String(rng.int(2, 8)) },
          });
          families.push({ owner, parent, parentId: ws.id, count, alive: true });
          // The user's own workspace holding a child's name, now or after a later grow.
          if (rng.chance(0.5)) userWorkspace(owner, childWorkspaceName(parent, rng.int(1, 6)));
        }
        if (rng.chance(0.5)) userWorkspace(owner, 'scratch');
      }
      // Act 1: create every family under faults.
      await converge(harness, rng);
      await assertFleet(harness, families, users);

      // Act 2: the users shrink, grow and delete (no faults on their own requests), then the
      // controller catches up under faults, including the grace period of deleted parents.
      for (const f of families) {
        const choice = rng.int(0, 3);
        if (choice === 0) continue;
        if (choice === 3) {
          await harness.userClient(f.owner).deleteWorkspace(f.parentId);
          f.alive = false;
        } else {
          const next = choice === 1 ? rng.int(0, Math.max(0, f.count - 1)) : f.count + rng.int(1, 3);
          await harness.userClient(f.owner).createBuild(f.parentId, {
            transition: 'start',
            rich_parameter_values: [{ name: COUNT, value: String(next) }],
          });
          f.count = next;
        }
        harness.sim.advanceBuilds();
      }
      if (users.length > 0 && rng.chance(0.5)) {
        // A user deletes one of their own look-alikes: the controller must not recreate it as a child.
        const gone = rng.pick(users);
        await harness.userClient(gone.owner).deleteWorkspace(gone.id);
        gone.buildNumber += 1;
        gone.alive = false;
        harness.sim.advanceBuilds();
      }
      await converge(harness, rng, false);
      harness.clock.advance(11 * MINUTE);
      await converge(harness, rng);

      // Assess
      await assertFleet(harness, families, users);
      const stats = harness.client.stats();
      // The faults really happened.
      expect(stats.rateLimited).toBeGreaterThan(0);
      expect(stats.timeouts).toBeGreaterThan(0);
      expect(stats.retries).toBeGreaterThan(0);
    },
    60_000,
  );
});
