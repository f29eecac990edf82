/**
 * Node group scaling over random fleets: 1 to 6 groups of every kind and role, random profiles,
 * schedules, live sizes, statuses, demand per template, overrides and times, through the whole
 * scaler run (snapshot, planner, executor) on the in-memory ports. The planner's own property
 * tests (test/core/scaling/planner.test.ts) use seed 004's two groups and 1000 cases; this is
 * the larger search, 5000 random fleets.
 *
 * Property: no run ever plans or sets a workspace group's desired size below its running floor
 * ceil(running / workspacesPerNode) (or below the current desired when the running count is
 * unknown), and every size it sets satisfies min ≤ desired ≤ max, max ≥ 1.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { type ScalingConfigInput, scalingConfigSchema } from '../../lambdas/core/scaling/config.js';
import {
  FixedWorkspaceDemand,
  InMemoryNodeGroups,
  InMemoryOverrideStore,
} from '../../lambdas/core/scaling/in-memory.js';
import { refOf, runningFloor, type Sizes } from '../../lambdas/core/scaling/planner.js';
import { runNodeGroupScaler } from '../../lambdas/core/scaling/run.js';

const TEMPLATES = ['dev', 'gpu', 'data'] as const;
const PROFILES = ['peak', 'off-hours', 'night'] as const;

const profileSizes = fc
  .tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1, max: 250 }), fc.option(fc.nat({ max: 250 })))
  .map(([a, b, floor]) => {
    const maxSize = Math.max(a, b, 1);
    const minSize = Math.min(a, b);
    return floor === null
      ? { minSize, maxSize }
      : { minSize, maxSize, desiredFloor: Math.min(floor, maxSize) };
  });

const role = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        kind: fc.constant('workspaces' as const),
        workspacesPerNode: fc.integer({ min: 1, max: 40 }),
        templates: fc.option(fc.subarray([...TEMPLATES], { minLength: 1 }), { nil: undefined }),
      })
      .map(({ templates, ...r }) => (templates === undefined ? r : { ...r, templates })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'provisioners' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'static' as const }) },
);

const group = fc.record({
  asg: fc.boolean(),
  role,
  profiles: fc.record({ peak: profileSizes, 'off-hours': profileSizes, night: profileSizes }),
  live: fc.oneof(
    { weight: 8, arbitrary: fc.constant('ACTIVE') },
    { weight: 1, arbitrary: fc.constantFrom('UPDATING', 'DEGRADED', 'missing') },
  ),
  sizes: fc
    .tuple(fc.nat({ max: 300 }), fc.nat({ max: 300 }), fc.nat({ max: 300 }))
    .map(([a, b, c]) => [a, b, c].sort((x, y) => x - y) as [number, number, number]),
});

const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);

const fleet = fc.record({
  groups: fc.array(group, { minLength: 1, maxLength: 6 }),
  transitions: fc.uniqueArray(fc.record({ at: hhmm, profile: fc.constantFrom(...PROFILES) }), {
    minLength: 1,
    maxLength: 4,
    selector: (t) => t.at,
  }),
  nonWorkingDayProfile: fc.constantFrom(...PROFILES),
  timeZone: fc.constantFrom('America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'UTC', 'Australia/Sydney'),
  preWarmLeadMinutes: fc.nat({ max: 180 }),
  now: fc.date({
    min: new Date('2026-01-01T00:00:00Z'),
    max: new Date('2027-12-31T23:59:59Z'),
    noInvalidDate: true,
  }),
  running: fc.record({ dev: fc.nat({ max: 5000 }), gpu: fc.nat({ max: 500 }), data: fc.nat({ max: 2000 }) }),
  autostarting: fc.record({
    dev: fc.nat({ max: 5000 }),
    gpu: fc.nat({ max: 500 }),
    data: fc.nat({ max: 2000 }),
  }),
  demandDown: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  overrideMinutes: fc.option(fc.integer({ min: -300, max: 600 })),
  overrideProfile: fc.constantFrom(...PROFILES),
});
type Fleet = typeof fleet extends fc.Arbitrary<infer T> ? T : never;

const configOf = (f: Fleet) =>
  scalingConfigSchema.parse({
    clusterName: 'coder',
    nodeGroups: f.groups.map((g, i) => {
      const common = {
        name: `g${i}`,
        role: g.role,
        ...(g.role.kind === 'static' ? {} : { profiles: g.profiles }),
      };
      return g.asg
        ? { ...common, kind: 'auto-scaling-group' as const, autoScalingGroupName: `asg-${i}` }
        : { ...common, kind: 'eks-managed' as const, nodegroupName: `ng-${i}` };
    }),
    schedule: {
      timeZone: f.timeZone,
      weekdayTransitions: f.transitions,
      nonWorkingDayProfile: f.nonWorkingDayProfile,
      preWarmLeadMinutes: f.preWarmLeadMinutes,
    },
  } satisfies ScalingConfigInput);

describe('node group scaling over random fleets', () => {
  it('never plans or sets a workspace group below its running floor (5000 fleets)', async () => {
    await fc.assert(
      fc.asyncProperty(fleet, async (f) => {
        // Prepare
        const config = configOf(f);
        const nodeGroups = new InMemoryNodeGroups();
        config.nodeGroups.forEach((g, i) => {
          const live = f.groups[i];
          if (!live || live.live === 'missing') return;
          const [minSize, desiredSize, maxSize] = live.sizes;
          nodeGroups.set(refOf(config, g), { minSize, desiredSize, maxSize }, live.live);
        });
        const overrides = new InMemoryOverrideStore();
        if (f.overrideMinutes !== null && f.overrideMinutes > 0) {
          await overrides.put(
            {
              profile: f.overrideProfile,
              until: new Date(f.now.getTime() + f.overrideMinutes * 60_000).toISOString(),
              reason: 'chaos',
              setAt: f.now.toISOString(),
            },
            undefined,
          );
        }
        const before = new Map(
          config.nodeGroups.map((g) => [g.name, nodeGroups.get(refOf(config, g))?.sizes]),
        );

        // Act
        const report = await runNodeGroupScaler(
          { kind: 'run', trigger: 'drift-check', dryRun: false },
          {
            config,
            nodeGroups,
            demand: new FixedWorkspaceDemand(
              f.running,
              f.autostarting,
              f.demandDown ? new Error('coder unavailable') : undefined,
            ),
            overrides,
            now: () => f.now,
            log: silentLog,
          },
        );

        // Assess
        for (const g of config.nodeGroups) {
          const after = nodeGroups.get(refOf(config, g))?.sizes;
          const groupReport = report.groups.find((r) => r.group === g.name);
          if (g.role.kind === 'static') {
            expect(after).toEqual(before.get(g.name));
            continue;
          }
          const target: Sizes | undefined =
            groupReport?.action === 'update' || groupReport?.action === 'none'
              ? groupReport.target
              : undefined;
          for (const sizes of [target, after !== before.get(g.name) ? after : undefined]) {
            if (!sizes) continue;
            expect(sizes.minSize).toBeGreaterThanOrEqual(0);
            expect(sizes.minSize).toBeLessThanOrEqual(sizes.desiredSize);
            expect(sizes.desiredSize).toBeLessThanOrEqual(sizes.maxSize);
            expect(sizes.maxSize).toBeGreaterThanOrEqual(1);
          }
          if (g.role.kind !== 'workspaces' || !target) continue;
          const templates = g.role.templates ?? TEMPLATES;
          const running = templates.reduce((sum, t) => sum + f.running[t as keyof Fleet['running']], 0);
          const floor = f.demandDown
            ? (before.get(g.name)?.desiredSize ?? 0)
            : runningFloor(running, g.role.workspacesPerNode);
          expect(target.desiredSize, `${g.name}: ${groupReport?.reason}`).toBeGreaterThanOrEqual(floor);
          if (after) expect(after.desiredSize).toBeGreaterThanOrEqual(floor);
        }
      }),
      { numRuns: 5000 },
    );
    // About 7 s alone; 5000 fleets must not fail for a busy machine.
  }, 180_000);
});
