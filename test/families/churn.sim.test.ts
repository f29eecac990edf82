/**
 * The churn property through the simulator over HTTP: Coder's own page size (100) and order, a
 * fleet bigger than one page, and owners and admins changing things before any of the
 * controller's reads (a wrapper around the controller's fetch does it: stop, start, delete,
 * rename, change a count, rename the template). Fewer worlds than the in-memory property
 * (test/core/families/churn.property.test.ts), with the real client, adapter and wire format.
 */
import { describe, expect, it } from 'vitest';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CoderClient } from '../../lambdas/adapters/coder/index.js';
import { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import { familiesConfigSchema } from '../../lambdas/core/families/config.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
} from '../../lambdas/core/families/in-memory.js';
import type { ChildRecord, FamilyKey } from '../../lambdas/core/families/model.js';
import { ignoreProgress } from '../../lambdas/core/families/progress.js';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { intervalScheduler } from '../../lambdas/wiring/scheduler.js';
import { seededRandom } from '../../sim/faults.js';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { api } from '../sim/http.js';
import { quietFamilyLog } from './harness.js';

const WORLDS = 12;
const RUNS = 8;
const COUNT = 'additional_workspaces';
const OWNERS = ['alice', 'bob', 'carol'];

interface Judge {
  violations: string[];
  created: Set<string>;
  /** What each workspace wants of its children, bumped on a count change or a deletion. */
  version: Map<string, number>;
  /** The version each workspace had when the controller last read it. */
  observed: Map<string, number>;
}

const runWorld = async (seed: number): Promise<{ violations: string[]; done: Record<string, number> }> => {
  const random = seededRandom(seed);
  const sim: CoderSimulator = await startCoderSimulator({
    rateLimit: false,
    record: false,
    allowWorkspaceRenames: true,
    buildDurationMs: 600_000,
  });
  try {
    const tokens = new Map(OWNERS.map((o) => [o, sim.seed.user({ username: o }).token]));
    const template = sim.seed.template({
      name: 'dev',
      parameters: [{ name: COUNT, type: 'number', defaultValue: '0' }],
    });
    for (const [o, owner] of OWNERS.entries()) {
      for (let p = 0; p < 3; p++) {
        sim.seed.workspace({
          owner,
          name: `fam${o}${p}`,
          template: 'dev',
          parameters: { [COUNT]: String(1 + Math.floor(random() * 3)) },
        });
      }
      for (let w = 0; w < 40; w++) sim.seed.workspace({ owner, name: `own${o}-${w}`, template: 'dev' });
    }
    const judge: Judge = { violations: [], created: new Set(), version: new Map(), observed: new Map() };
    const done = { creates: 0, removals: 0, changes: 0 };
    let churning = true;
    let templateName = 'dev';
    const live = () => sim.workspacesSnapshot().filter((w) => !w.deleted && w.status !== 'deleted');

    /** One owner's or admin's change, through the API as they would make it. */
    const churn = async (): Promise<void> => {
      if (!churning || random() >= 0.3) return;
      const settled = live().filter((w) => ['running', 'stopped'].includes(w.status));
      // Mostly the families (parents and children), sometimes anyone's.
      const families = settled.filter((w) => w.name.startsWith('fam'));
      const candidates = families.length > 0 && random() < 0.7 ? families : settled;
      const w = candidates[Math.floor(random() * candidates.length)];
      const r = random();
      churning = false;
      try {
        if (r < 0.04) {
          templateName = templateName === 'dev' ? 'dev-renamed' : 'dev';
          await api(sim, 'PATCH', `/api/v2/templates/${template.id}`, { body: { name: templateName } });
        } else if (w) {
          const token = tokens.get(w.ownerName) ?? null;
          const bump = () => judge.version.set(w.id, (judge.version.get(w.id) ?? 0) + 1);
          if (r < 0.35) {
            const transition = w.status === 'running' ? 'stop' : 'start';
            await api(sim, 'POST', `/api/v2/workspaces/${w.id}/builds`, { token, body: { transition } });
          } else if (r < 0.5) {
            await api(sim, 'POST', `/api/v2/workspaces/${w.id}/builds`, {
              token,
              body: { transition: 'delete' },
            });
            bump();
          } else if (r < 0.7) {
            await api(sim, 'PATCH', `/api/v2/workspaces/${w.id}`, {
              token,
              body: { name: `${w.name}r`.slice(0, 32) },
            });
          } else {
            const value = String(Math.floor(random() * 4));
            await api(sim, 'POST', `/api/v2/workspaces/${w.id}/builds`, {
              token,
              body: { transition: 'start', rich_parameter_values: [{ name: COUNT, value }] },
            });
            bump();
          }
          done.changes++;
        }
        sim.advanceBuilds();
      } finally {
        churning = true;
      }
    };

    const inner = new InMemoryFamilyLedger();
    const records = (): ChildRecord[] => [...inner.children.values()];
    const wants = (record: ChildRecord): boolean => {
      const parent = sim.workspacesSnapshot({ includeDeleted: true }).find((w) => w.id === record.parentId);
      if (!parent || parent.deleted || parent.status === 'deleted') return false;
      const count = Number(parent.parameters[COUNT]);
      return Number.isInteger(count) && count >= record.index;
    };
    const knew = (record: ChildRecord): boolean =>
      judge.observed.get(record.parentId) === (judge.version.get(record.parentId) ?? 0);

    const controllerFetch: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      if (method === 'GET') await churn();
      const build = /^\/api\/v2\/workspaces\/([^/]+)\/builds$/.exec(url.pathname);
      if (method === 'POST' && build) {
        const transition = (JSON.parse(String(init?.body ?? '{}')) as { transition?: string }).transition;
        if (transition === 'stop' || transition === 'delete') {
          done.removals++;
          const record = records().find((c) => c.childId === build[1]);
          if (!record)
            judge.violations.push(`${transition} of ${build[1]}, which the ledger does not record`);
          else if (wants(record) && knew(record)) {
            judge.violations.push(
              `${transition} of ${record.childName} while its parent is alive and wants child ${record.index}`,
            );
          }
        }
      }
      const response = await fetch(input, init);
      if (response.ok && method === 'GET') {
        const body = (await response.clone().json()) as { id?: string; workspaces?: Array<{ id: string }> };
        const seen = body.workspaces ?? (typeof body.id === 'string' ? [{ id: body.id }] : []);
        for (const w of seen) judge.observed.set(w.id, judge.version.get(w.id) ?? 0);
      }
      if (method === 'POST' && response.status === 201 && /\/users\/[^/]+\/workspaces$/.test(url.pathname)) {
        judge.created.add(((await response.clone().json()) as { id: string }).id);
        done.creates++;
      }
      return response;
    };

    const client = new CoderClient({
      baseUrl: sim.url,
      token: sim.adminToken,
      rateLimitPerMinute: false,
      fetch: controllerFetch,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const config = familiesConfigSchema.parse({
      templates: ['dev'],
      gracePeriodMs: random() < 0.5 ? 0 : 600_000,
      removalPolicy: random() < 0.5 ? 'delete' : 'stop',
    });
    const ledger = Object.assign(Object.create(inner) as InMemoryFamilyLedger, {
      forgetChild: async (key: FamilyKey, index: number, childId: string | undefined) => {
        const record = inner.children.get(`${key.owner}/${key.parent}#${index}`);
        if (record && (childId === undefined ? record.state === 'intent' : record.childId === childId)) {
          const holder = live().find((w) =>
            record.childId
              ? w.id === record.childId
              : judge.created.has(w.id) &&
                w.ownerName === record.owner &&
                w.name.toLowerCase() === record.childName.toLowerCase(),
          );
          if (holder)
            judge.violations.push(
              `dropped ${record.owner}/${record.childName} from the ledger while ${holder.id} is alive`,
            );
        }
        return inner.forgetChild(key, index, childId);
      },
    });
    let now = Date.now();
    const deps = {
      config,
      workspaces: new CoderFamilyWorkspaces({
        client,
        templates: config.templates,
        organization: 'default',
        pageSize: 100,
      }),
      ledger,
      locks: new InMemoryFamilyLocks(),
      timers: intervalScheduler,
      now: () => new Date(now),
      newRunId: () => `run-${now}`,
      log: quietFamilyLog,
      progress: ignoreProgress,
      capacity: ampleProvisioners(),
    };
    for (let run = 0; run < RUNS; run++) {
      await reconcileFamilies(deps, {
        scope: { kind: 'all' },
        dryRun: false,
        trigger: 'schedule',
        deadline: NO_DEADLINE,
      }).catch(() => undefined);
      sim.advanceBuilds();
      now += 5 * 60_000;
    }
    churning = false;
    for (const w of live()) {
      if (!judge.created.has(w.id)) continue;
      const held = records().some(
        (c) =>
          c.childId === w.id ||
          (c.state === 'intent' &&
            c.owner === w.ownerName &&
            c.childName.toLowerCase() === w.name.toLowerCase()),
      );
      if (!held)
        judge.violations.push(
          `${w.ownerName}/${w.name} was created by the controller, is alive, and is not in its ledger`,
        );
    }
    return { violations: judge.violations, done };
  } finally {
    await sim.close();
  }
};

describe('families while Coder changes underneath, over HTTP (page size 100, Coder order)', () => {
  it(`keeps every promise in ${WORLDS} churning worlds of 129 workspaces`, async () => {
    const totals = { creates: 0, removals: 0, changes: 0 };
    const broken: Array<{ seed: number; violations: string[] }> = [];
    for (let seed = 1; seed <= WORLDS; seed++) {
      const { violations, done } = await runWorld(seed * 7_919);
      totals.creates += done.creates ?? 0;
      totals.removals += done.removals ?? 0;
      totals.changes += done.changes ?? 0;
      if (violations.length > 0) broken.push({ seed, violations: violations.slice(0, 3) });
    }
    console.info(`churn over HTTP: ${WORLDS} worlds, ${JSON.stringify(totals)}`);
    expect(broken).toEqual([]);
    expect(totals.creates).toBeGreaterThan(0);
    expect(totals.changes).toBeGreaterThan(0);
  }, 300_000);
});
