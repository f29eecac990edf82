/**
 * The restructured families core against the one it replaced (a frozen copy in
 * lambdas/core/families-legacy/), over random worlds: the same plans, reports, ledgers and Coder
 * effects, except where the partial-view rules change a decision on purpose. Kept only while the
 * restructuring lands; the figures go into the closing note and then both go.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '../../../lambdas/core/contracts/deadline.js';
import { silentLog } from '../../../lambdas/core/contracts/log-sink.js';
import { type FamiliesConfig, familiesConfigSchema } from '../../../lambdas/core/families/config.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
  ManualScheduler,
} from '../../../lambdas/core/families/in-memory.js';
import {
  type BuildParameter,
  type ChildRecord,
  type FailureRecord,
  type FamilyWorkspace,
  fullParameters,
  type ParentMissingRecord,
} from '../../../lambdas/core/families/model.js';
import { childWorkspaceName } from '../../../lambdas/core/families/names.js';
import { type FamilyWorkspacesPort, WorkspaceOpError } from '../../../lambdas/core/families/ports.js';
import { ignoreProgress } from '../../../lambdas/core/families/progress.js';
import {
  type ReconcileReport,
  type ReconcileScope,
  reconcileFamilies,
} from '../../../lambdas/core/families/run.js';
import * as legacyInMemory from '../../../lambdas/core/families-legacy/in-memory.js';
import type * as legacyPorts from '../../../lambdas/core/families-legacy/ports.js';
import * as legacyRun from '../../../lambdas/core/families-legacy/run.js';

const CONTROLLER = 'controller';
const PERSON = 'person';
const T0 = Date.parse('2030-01-01T12:00:00Z');
const GRACE = 10 * 60_000;
const WORLDS = Number(process.env.EQUIV_WORLDS ?? 5_000);

interface SimWorkspace {
  id: string;
  name: string;
  owner: string;
  createdAt: number;
  deleted: boolean;
  buildNumber: number;
  buildId: string;
  transition: 'start' | 'stop' | 'delete';
  jobActive: boolean;
  failed: boolean;
  initiator: string;
  parameters: BuildParameter[];
}

/** A small in-memory Coder: one template, names unique per owner among live workspaces. */
class World {
  workspaces: SimWorkspace[] = [];
  private next = 0;
  readonly effects: string[] = [];

  clone(): World {
    const copy = new World();
    copy.workspaces = this.workspaces.map((w) => ({ ...w, parameters: [...w.parameters] }));
    copy.next = this.next;
    return copy;
  }

  add(w: Omit<SimWorkspace, 'id' | 'buildId'> & { id?: string }): SimWorkspace {
    const id = w.id ?? `ws-${++this.next}`;
    const ws = { ...w, id, buildId: `${id}-b${w.buildNumber}` };
    this.workspaces.push(ws);
    return ws;
  }

  live(): SimWorkspace[] {
    return this.workspaces.filter((w) => !w.deleted);
  }

  view(w: SimWorkspace): FamilyWorkspace {
    const status = w.jobActive
      ? w.transition === 'start'
        ? 'starting'
        : w.transition === 'stop'
          ? 'stopping'
          : 'deleting'
      : w.failed
        ? 'failed'
        : w.transition === 'start'
          ? 'running'
          : w.transition === 'stop'
            ? 'stopped'
            : 'deleted';
    return {
      id: w.id,
      name: w.name,
      ownerName: w.owner,
      ownerId: `${w.owner}-id`,
      organizationId: 'org',
      templateId: 'tpl',
      templateName: 'dev',
      createdAt: new Date(w.createdAt).toISOString(),
      latestBuild: {
        id: w.buildId,
        number: w.buildNumber,
        transition: w.transition,
        status,
        jobActive: w.jobActive,
        initiatorId: w.initiator,
      },
    };
  }

  create(owner: string, name: string, parameters: readonly BuildParameter[], at: number): FamilyWorkspace {
    if (this.live().some((w) => w.owner === owner && w.name.toLowerCase() === name.toLowerCase())) {
      throw new WorkspaceOpError('already_exists', `Workspace "${name}" already exists.`);
    }
    this.effects.push(`create ${owner}/${name}`);
    const ws = this.add({
      name,
      owner,
      createdAt: at,
      deleted: false,
      buildNumber: 1,
      transition: 'start',
      jobActive: true,
      failed: false,
      initiator: CONTROLLER,
      parameters: [...parameters],
    });
    return this.view(ws);
  }

  transition(id: string, transition: 'start' | 'stop' | 'delete'): void {
    const ws = this.workspaces.find((w) => w.id === id);
    if (!ws || ws.deleted) throw new WorkspaceOpError('gone', 'gone');
    if (ws.jobActive) throw new WorkspaceOpError('build_active', 'A workspace build is already active.');
    this.effects.push(`${transition} ${ws.owner}/${ws.name}`);
    ws.buildNumber++;
    ws.buildId = `${ws.id}-b${ws.buildNumber}`;
    ws.transition = transition;
    ws.jobActive = true;
    ws.initiator = CONTROLLER;
  }
}

/** The legacy port over the world. */
const legacyPort = (world: World): legacyPorts.FamilyWorkspacesPort => ({
  listManagedWorkspaces: async () => world.live().map((w) => world.view(w)),
  listOwnerWorkspaces: async (owner) =>
    world
      .live()
      .filter((w) => w.owner === owner.toLowerCase())
      .map((w) => world.view(w)),
  describeWorkspace: async (id) => {
    const w = world.workspaces.find((x) => x.id === id);
    return w ? { ownerName: w.owner, name: w.name, deleted: w.deleted } : undefined;
  },
  buildParameters: async (ids) =>
    new Map(
      world.workspaces.filter((w) => ids.includes(w.buildId)).map((w) => [w.buildId, [...w.parameters]]),
    ),
  controllerUserId: async () => CONTROLLER,
  createWorkspace: async (input) => world.create(input.ownerName, input.name, input.parameters, T0),
  getWorkspaceByOwnerAndName: async (owner, name) => {
    const w = world.live().find((x) => x.owner === owner && x.name.toLowerCase() === name.toLowerCase());
    return w ? world.view(w) : undefined;
  },
  transition: async (id, t) => world.transition(id, t),
  stats: () => ({ requests: 0, throttled: 0 }),
});

/** The new port over the same kind of world. */
const newPort = (world: World): FamilyWorkspacesPort => ({
  templateNames: async () => ['dev'],
  listManagedWorkspaces: async () => ({ workspaces: world.live().map((w) => world.view(w)), complete: true }),
  listOwnerWorkspaces: async (owner) => ({
    workspaces: world
      .live()
      .filter((w) => w.owner === owner.toLowerCase())
      .map((w) => world.view(w)),
    complete: true,
  }),
  readWorkspace: async (ref) => {
    const matching = world.workspaces.filter((w) =>
      ref.id !== undefined
        ? w.id === ref.id
        : w.owner === ref.owner?.toLowerCase() && w.name.toLowerCase() === ref.name?.toLowerCase(),
    );
    const found = matching.find((w) => !w.deleted) ?? matching[0];
    if (!found) return { state: 'vanished' };
    return { state: found.deleted ? 'deleted' : 'present', workspace: world.view(found) };
  },
  buildParameters: async (ids) =>
    new Map(
      world.workspaces
        .filter((w) => ids.includes(w.buildId))
        .map((w) => [w.buildId, fullParameters([...w.parameters])]),
    ),
  parentParameters: async (candidates) =>
    new Map(
      world.workspaces
        .filter((w) => candidates.some((c) => c.latestBuild.id === w.buildId))
        .map((w) => [w.buildId, fullParameters([...w.parameters])]),
    ),
  controllerUserId: async () => CONTROLLER,
  createWorkspace: async (input) => world.create(input.ownerName, input.name, input.parameters, T0),
  transition: async (id, t) => world.transition(id, t),
  stats: () => ({ requests: 0, throttled: 0 }),
});

interface Scenario {
  world: World;
  children: ChildRecord[];
  missing: ParentMissingRecord[];
  failures: FailureRecord[];
  config: FamiliesConfig;
  scope: ReconcileScope;
  /** Families whose parent's delete build is still running: on purpose, no longer "missing". */
  deleting: Set<string>;
}

const scenario = fc
  .record({
    owners: fc.array(
      fc.record({
        parents: fc.array(
          fc.record({
            name: fc.constantFrom('team', 'web', 'api', 'data'),
            count: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(9), fc.constant(-1)),
            state: fc.constantFrom('running', 'stopped', 'deleted', 'deleting', 'absent', 'busy'),
            recorded: fc.array(
              fc.record({
                index: fc.integer({ min: 1, max: 7 }),
                kind: fc.constantFrom('alive', 'deleted', 'intent-held', 'intent-free', 'intent-stranger'),
                state: fc.constantFrom('running', 'stopped', 'busy'),
                laterBuilds: fc.boolean(),
              }),
              { maxLength: 5 },
            ),
            squat: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 2 }),
            missingForMs: fc.option(fc.integer({ min: 0, max: 2 * GRACE }), { nil: undefined }),
            failures: fc.option(
              fc.record({
                consecutive: fc.integer({ min: 1, max: 4 }),
                hard: fc.integer({ min: 0, max: 4 }),
                agoMs: fc.integer({ min: 0, max: 10 * 60_000 }),
                sameBuild: fc.boolean(),
              }),
              { nil: undefined },
            ),
          }),
          { maxLength: 3 },
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    policy: fc.constantFrom('delete' as const, 'stop' as const, 'keep' as const),
    follow: fc.boolean(),
    grace: fc.constantFrom(0, GRACE),
    scope: fc.constantFrom('all', 'all', 'all', 'family', 'workspace'),
  })
  .map(({ owners, policy, follow, grace, scope }): Scenario => {
    const world = new World();
    const children: ChildRecord[] = [];
    const missing: ParentMissingRecord[] = [];
    const failures: FailureRecord[] = [];
    const deleting = new Set<string>();
    let first: { owner: string; parent: string; id: string | undefined } | undefined;
    owners.forEach((o, oi) => {
      const owner = `user${oi}`;
      const seen = new Set<string>();
      for (const p of o.parents) {
        if (seen.has(p.name)) continue;
        seen.add(p.name);
        const taken = new Set(
          world
            .live()
            .filter((w) => w.owner === owner)
            .map((w) => w.name),
        );
        let parentId = `gone-${owner}-${p.name}`;
        let parentBuild: string | undefined;
        if (p.state !== 'absent') {
          const ws = world.add({
            name: p.name,
            owner,
            createdAt: T0 - 86_400_000,
            deleted: p.state === 'deleted',
            buildNumber: 4,
            transition:
              p.state === 'deleted' || p.state === 'deleting'
                ? 'delete'
                : p.state === 'stopped'
                  ? 'stop'
                  : 'start',
            jobActive: p.state === 'deleting' || p.state === 'busy',
            failed: false,
            initiator: PERSON,
            parameters: [
              { name: 'additional_workspaces', value: String(p.count) },
              { name: 'cpu', value: '2' },
            ],
          });
          parentId = ws.id;
          parentBuild = ws.buildId;
          if (p.state !== 'deleted') taken.add(p.name);
          if (p.state === 'deleting') deleting.add(`${owner}/${p.name}`);
        }
        first ??= { owner, parent: p.name, id: p.state === 'absent' ? undefined : parentId };
        const indices = new Set<number>();
        for (const r of p.recorded) {
          if (indices.has(r.index)) continue;
          indices.add(r.index);
          const name = childWorkspaceName(p.name, r.index);
          const base: ChildRecord = {
            owner,
            parent: p.name,
            index: r.index,
            childName: name,
            state: 'intent',
            intentAt: T0 - GRACE,
            parentId,
            runId: 'r0',
          };
          const addChild = (initiator: string, createdAt: number) =>
            world.add({
              name,
              owner,
              createdAt,
              deleted: false,
              buildNumber: r.laterBuilds ? 3 : 1,
              transition: r.state === 'stopped' ? 'stop' : 'start',
              jobActive: r.state === 'busy',
              failed: false,
              initiator,
              parameters: [{ name: 'additional_workspaces', value: '0' }],
            });
          if (taken.has(name)) continue;
          if (r.kind === 'alive') {
            const ws = addChild(CONTROLLER, T0 - GRACE + 1000);
            taken.add(name);
            children.push({ ...base, state: 'confirmed', childId: ws.id, createdAt: T0 - GRACE });
          } else if (r.kind === 'deleted') {
            const ws = addChild(CONTROLLER, T0 - GRACE + 1000);
            ws.deleted = true;
            ws.transition = 'delete';
            ws.jobActive = false;
            children.push({ ...base, state: 'confirmed', childId: ws.id, createdAt: T0 - GRACE });
          } else if (r.kind === 'intent-held') {
            addChild(CONTROLLER, T0 - GRACE + 1000);
            taken.add(name);
            children.push(base);
          } else if (r.kind === 'intent-stranger') {
            addChild(PERSON, T0 - 2 * GRACE);
            taken.add(name);
            children.push(base);
          } else {
            children.push(base);
          }
        }
        for (const i of p.squat) {
          const name = childWorkspaceName(p.name, i);
          if (taken.has(name)) continue;
          taken.add(name);
          world.add({
            name,
            owner,
            createdAt: T0 - 2 * GRACE,
            deleted: false,
            buildNumber: 1,
            transition: 'start',
            jobActive: false,
            failed: false,
            initiator: PERSON,
            parameters: [],
          });
        }
        if (p.missingForMs !== undefined) missing.push({ owner, parent: p.name, since: T0 - p.missingForMs });
        if (p.failures) {
          failures.push({
            owner,
            parent: p.name,
            consecutive: p.failures.consecutive,
            hard: p.failures.hard,
            lastFailureAt: T0 - p.failures.agoMs,
            parentBuildId: p.failures.sameBuild ? parentBuild : 'an-older-build',
            lastError: 'boom',
          });
        }
      }
    });
    const config = familiesConfigSchema.parse({
      templates: ['dev'],
      removalPolicy: policy,
      followParentPower: follow,
      maxChildren: 4,
      gracePeriodMs: grace,
    });
    const target = first ?? { owner: 'user0', parent: 'team', id: undefined };
    const scoped: ReconcileScope =
      scope === 'family'
        ? { kind: 'family', owner: target.owner, parent: target.parent }
        : scope === 'workspace'
          ? target.id
            ? { kind: 'workspace', workspaceId: target.id }
            : { kind: 'workspace', owner: target.owner, name: target.parent }
          : { kind: 'all' };
    return { world, children, missing, failures, config, scope: scoped, deleting };
  });

/** What a report says, without wording, counters of requests or timing; `skip` leaves families out. */
/** A workspace id, or "created in the run" for one the runs made (its number depends on the order of creates). */
const idOf = (id: string | undefined, known: number): string | undefined =>
  id && Number(id.slice(3)) > known ? 'created in the run' : id;

const essence = (
  report: ReconcileReport | legacyRun.ReconcileReport,
  skip: Set<string> = new Set(),
  known = Number.POSITIVE_INFINITY,
) => ({
  families: report.families,
  actions: report.actions
    .filter((a) => !skip.has(`${a.family.owner}/${a.family.parent}`))
    .map((a) =>
      JSON.stringify({
        kind: a.kind,
        family: a.family,
        index: 'index' in a ? a.index : undefined,
        childName: 'childName' in a ? a.childName : undefined,
        childId: idOf('childId' in a ? a.childId : undefined, known),
        replaces: idOf('replacesChildId' in a ? a.replacesChildId : undefined, known),
        outcome: a.outcome,
      }),
    )
    .sort(),
  skippedLocked: report.skippedLocked,
  // Tallies only compared whole when no family is left out.
  ...(skip.size === 0
    ? {
        failures: report.failures,
        conflicts: report.conflicts,
        summary: { ...report.summary, durationMs: 0 },
      }
    : {}),
});

const ledgerEssence = (
  l: {
    children: Map<string, ChildRecord>;
    missing: Map<string, unknown>;
    failures: Map<string, FailureRecord>;
  },
  skip: Set<string>,
  known: number,
) => ({
  children: [...l.children.values()]
    .filter((c) => !skip.has(`${c.owner}/${c.parent}`))
    // A workspace created in the run gets the next free id, which depends on the order of creates
    // across families (removals now go first): compare it as "created in the run".
    .map((c) =>
      JSON.stringify({
        ...c,
        runId: '',
        intentAt: 0,
        createdAt: 0,
        childId: c.childId && Number(c.childId.slice(3)) > known ? 'created in the run' : c.childId,
      }),
    )
    .sort(),
  missing: [...l.missing.keys()].filter((k) => !skip.has(k)).sort(),
  failures: [...l.failures.values()]
    .filter((f) => !skip.has(`${f.owner}/${f.parent}`))
    .map((f) => JSON.stringify({ ...f, lastError: '' }))
    .sort(),
});

/** Coder effects, leaving out those on children of the skipped families (named `<parent>-<n>`). */
// Sorted: the order of a family's Coder calls is not part of the contract (removals now go first).
const effectsEssence = (effects: readonly string[], skip: Set<string>) =>
  effects.filter((e) => ![...skip].some((family) => e.split(' ')[1]?.startsWith(`${family}-`))).sort();

const seedLedger = <
  L extends {
    children: Map<string, ChildRecord>;
    missing: Map<string, ParentMissingRecord>;
    failures: Map<string, FailureRecord>;
  },
>(
  ledger: L,
  s: Scenario,
): L => {
  for (const c of s.children) ledger.children.set(`${c.owner}/${c.parent}#${c.index}`, { ...c });
  for (const m of s.missing) ledger.missing.set(`${m.owner}/${m.parent}`, { ...m });
  for (const f of s.failures) ledger.failures.set(`${f.owner}/${f.parent}`, { ...f });
  return ledger;
};

const runBoth = async (s: Scenario, dryRun: boolean, runs: number, skip: Set<string>) => {
  const oldWorld = s.world.clone();
  const newWorld = s.world.clone();
  const oldLedger = seedLedger(new legacyInMemory.InMemoryFamilyLedger(), s);
  const newLedger = seedLedger(new InMemoryFamilyLedger(), s);
  let clock = T0;
  const log = { ...silentLog, forFamily: () => silentLog };
  const oldDeps: legacyRun.FamilyReconcileDeps = {
    config: s.config,
    workspaces: legacyPort(oldWorld),
    ledger: oldLedger,
    locks: new legacyInMemory.InMemoryFamilyLocks(),
    now: () => new Date(clock),
    newRunId: () => 'run',
    log,
  };
  const newDeps = {
    config: s.config,
    workspaces: newPort(newWorld),
    ledger: newLedger,
    locks: new InMemoryFamilyLocks(),
    timers: new ManualScheduler(),
    now: () => new Date(clock),
    newRunId: () => 'run',
    log,
    progress: ignoreProgress,
    capacity: ampleProvisioners(),
  };
  const reports: Array<[ReturnType<typeof essence>, ReturnType<typeof essence>]> = [];
  for (let run = 0; run < runs; run++) {
    const request = { scope: s.scope, dryRun, trigger: 'schedule' as const, deadline: NO_DEADLINE };
    const legacy = await legacyRun.reconcileFamilies(oldDeps, request);
    const current = await reconcileFamilies(newDeps, request);
    const known = s.world.workspaces.length;
    reports.push([essence(legacy, skip, known), essence(current, skip, known)]);
    // Builds finish, and the next run comes after the grace period and any backoff.
    for (const w of [...oldWorld.workspaces, ...newWorld.workspaces]) {
      if (w.jobActive && w.initiator === CONTROLLER) {
        w.jobActive = false;
        if (w.transition === 'delete') w.deleted = true;
      }
    }
    clock += GRACE + 30 * 60_000;
  }
  return {
    reports,
    ledgers: [
      ledgerEssence(oldLedger, skip, s.world.workspaces.length),
      ledgerEssence(newLedger, skip, s.world.workspaces.length),
    ] as const,
    effects: [effectsEssence(oldWorld.effects, skip), effectsEssence(newWorld.effects, skip)] as const,
  };
};

describe('the restructured families core against the one it replaced', () => {
  it(`makes the same plans, reports, ledgers and Coder effects over ${WORLDS} random worlds`, async () => {
    const worlds = fc.sample(scenario, { numRuns: WORLDS, seed: 20261206 });
    const tally = { same: 0, deletingParentOnPurpose: 0, dryRuns: 0, runs: 0 };
    const unexplained: unknown[] = [];
    const same = (r: Awaited<ReturnType<typeof runBoth>>): boolean =>
      r.reports.every(([a, b]) => JSON.stringify(a) === JSON.stringify(b)) &&
      JSON.stringify(r.ledgers[0]) === JSON.stringify(r.ledgers[1]) &&
      JSON.stringify(r.effects[0]) === JSON.stringify(r.effects[1]);
    for (const [i, s] of worlds.entries()) {
      if (process.env.EQUIV_ONLY && String(i) !== process.env.EQUIV_ONLY) continue;
      if (process.env.EQUIV_ONLY) {
        console.info(
          JSON.stringify(
            {
              scope: s.scope,
              children: s.children,
              missing: s.missing,
              failures: s.failures,
              config: s.config,
              world: s.world.workspaces,
            },
            null,
            1,
          ),
        );
      }
      tally.dryRuns += 1;
      tally.runs += 2;
      const whole = [await runBoth(s, true, 1, new Set()), await runBoth(s, false, 2, new Set())];
      if (whole.every(same)) {
        tally.same++;
        continue;
      }
      // On purpose (partial-view issue): a parent whose delete is still running is not gone yet.
      // Every other family of such a world must still come out the same.
      const rest = [await runBoth(s, true, 1, s.deleting), await runBoth(s, false, 2, s.deleting)];
      if (s.deleting.size > 0 && rest.every(same)) tally.deletingParentOnPurpose++;
      else {
        const diff = rest.flatMap((r, run) => [
          ...r.reports.flatMap(([a, b], n) => {
            if (JSON.stringify(a) === JSON.stringify(b)) return [];
            const onlyOld = a.actions.filter((x) => !b.actions.includes(x));
            const onlyNew = b.actions.filter((x) => !a.actions.includes(x));
            return [
              {
                run,
                report: n,
                onlyOld,
                onlyNew,
                old: { ...a, actions: undefined },
                new: { ...b, actions: undefined },
              },
            ];
          }),
          ...(JSON.stringify(r.effects[0]) === JSON.stringify(r.effects[1])
            ? []
            : [{ run, effects: r.effects }]),
          ...(JSON.stringify(r.ledgers[0]) === JSON.stringify(r.ledgers[1])
            ? []
            : [{ run, ledgers: r.ledgers }]),
        ]);
        unexplained.push(unexplained.length < 3 ? { world: i, scope: s.scope, diff } : i);
      }
    }
    console.info(`legacy equivalence: ${JSON.stringify(tally)}; unexplained: ${unexplained.length}`);
    expect(unexplained).toEqual([]);
    expect(tally.same + tally.deletingParentOnPurpose).toBe(WORLDS);
  }, 600_000);
});
