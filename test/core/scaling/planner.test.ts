import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScalingConfig } from '../../../lambdas/core/scaling/config.js';
import {
  type GroupDemand,
  type LiveGroup,
  planNodeGroupScaling,
  runningFloor,
  type ScalingAction,
  type Sizes,
} from '../../../lambdas/core/scaling/planner.js';
import { at, seedConfig } from './fixtures.js';

const config = seedConfig();
const PEAK = at('2026-03-09T13:00:00Z'); // Mon 09:00 EDT
const OFF = at('2026-03-09T23:30:00Z'); // Mon 19:30 EDT
const PRE_WARM = at('2026-03-09T10:40:00Z'); // Mon 06:40 EDT, 20 minutes before peak

const found = (minSize: number, desiredSize: number, maxSize: number, status = 'ACTIVE'): LiveGroup => ({
  kind: 'found',
  status,
  sizes: { minSize, desiredSize, maxSize },
});
const known = (running: number, autostartingSoon?: number): GroupDemand => ({
  kind: 'known',
  running,
  autostartingSoon,
});

const planFor = (
  now: Date,
  ws: LiveGroup,
  demand: GroupDemand | undefined,
  prov: LiveGroup = found(0, 0, 5),
  cfg: ScalingConfig = config,
) =>
  planNodeGroupScaling(
    {
      config: cfg,
      groups: { 'coder-ws': ws, 'coder-prov': prov },
      demand: demand ? { 'coder-ws': demand } : {},
    },
    now,
  );

const actionFor = (actions: readonly ScalingAction[], group: string): ScalingAction => {
  const action = actions.find((a) => a.group === group);
  if (!action) throw new Error(`no action for ${group}`);
  return action;
};

const target = (action: ScalingAction): Sizes | undefined =>
  action.kind === 'update' ? action.target : undefined;

describe('planNodeGroupScaling: coder-ws', () => {
  it.each<[string, Date, LiveGroup, GroupDemand, Sizes | 'none', RegExp]>([
    [
      'peak from off-hours raises min and desired, and max',
      PEAK,
      found(2, 3, 30),
      known(20),
      { minSize: 10, desiredSize: 10, maxSize: 200 },
      /^peak: min 2→10, desired 3→10, max 30→200; desired raised to min \(10\)$/,
    ],
    [
      'peak keeps a desired above min that Cluster Autoscaler chose',
      PEAK,
      found(2, 150, 30),
      known(2000),
      { minSize: 10, desiredSize: 150, maxSize: 200 },
      /^peak: min 2→10, max 30→200$/,
    ],
    [
      'off-hours lowers min/max only and leaves desired to Cluster Autoscaler',
      OFF,
      found(10, 12, 200),
      known(100),
      { minSize: 2, desiredSize: 12, maxSize: 30 },
      /min 10→2, max 200→30; desired 12 left to Cluster Autoscaler/,
    ],
    [
      'off-hours clamps a desired above the new max to max',
      OFF,
      found(10, 45, 200),
      known(300),
      { minSize: 2, desiredSize: 30, maxSize: 30 },
      /desired 45→30.*clamped to the new max \(30\), which is not below the running floor \(20\)/,
    ],
    [
      'off-hours raises max to the running floor and says so',
      OFF,
      found(10, 45, 200),
      known(600),
      { minSize: 2, desiredSize: 40, maxSize: 40 },
      /max raised above off-hours's 30 to 40 for the running floor ceil\(600 \/ 15\) = 40/,
    ],
    [
      'off-hours raises desired to the running floor',
      OFF,
      found(2, 3, 30),
      known(100),
      { minSize: 2, desiredSize: 7, maxSize: 30 },
      /desired 3→7.*desired raised to the running floor \(7 node\(s\)\)/,
    ],
    [
      'keeps every current node when the running count is unknown',
      OFF,
      found(10, 45, 200),
      { kind: 'unknown', error: 'Coder API unreachable' },
      { minSize: 2, desiredSize: 45, maxSize: 45 },
      /running workspaces unknown \(Coder API unreachable\): desired kept ≥ current 45/,
    ],
    [
      'pre-warms for the workspaces that autostart within the hour, holding min',
      PRE_WARM,
      found(2, 2, 30),
      known(30, 300),
      { minSize: 22, desiredSize: 22, maxSize: 30 },
      /pre-warming for peak at 07:00: 30 running \+ 300 autostarting soon need 22 node\(s\); min held there/,
    ],
    [
      'caps pre-warm at the upcoming profile max and raises max for it',
      PRE_WARM,
      found(2, 2, 30),
      known(30, 5000),
      { minSize: 200, desiredSize: 200, maxSize: 200 },
      /need 336 node\(s\), capped at 200.*max raised above off-hours's 30 to 200 for pre-warming \(200\)/,
    ],
  ])('%s', (_name, now, ws, demand, expected, reason) => {
    const action = actionFor(planFor(now, ws, demand).actions, 'coder-ws');
    if (expected === 'none') expect(action.kind).toBe('none');
    else expect(target(action)).toEqual(expected);
    expect(action.reason).toMatch(reason);
  });

  it('makes no change at target', () => {
    const action = actionFor(planFor(OFF, found(2, 12, 30), known(100)).actions, 'coder-ws');
    expect(action).toMatchObject({ kind: 'none', current: { minSize: 2, desiredSize: 12, maxSize: 30 } });
    expect(action.reason).toBe('at target for off-hours (min 2 / desired 12 / max 30)');
  });

  it('skips a group that is not ACTIVE, with its status', () => {
    const action = actionFor(planFor(PEAK, found(2, 3, 30, 'UPDATING'), known(0)).actions, 'coder-ws');
    expect(action).toMatchObject({ kind: 'skip', status: 'UPDATING' });
    expect(action.reason).toMatch(/status UPDATING, not ACTIVE/);
  });

  it('fails a group that could not be read and plans the others', () => {
    const plan = planFor(
      PEAK,
      { kind: 'unreadable', error: 'EKS managed node group "coder-ws" not found' },
      known(0),
    );
    expect(actionFor(plan.actions, 'coder-ws')).toMatchObject({
      kind: 'fail',
      reason: expect.stringMatching(/not found/),
    });
    expect(target(actionFor(plan.actions, 'coder-prov'))).toEqual({
      minSize: 2,
      desiredSize: 2,
      maxSize: 20,
    });
  });

  it('never touches the static group', () => {
    const plan = planFor(PEAK, found(10, 10, 200), known(0));
    expect(actionFor(plan.actions, 'coder-control')).toMatchObject({
      kind: 'skip',
      reason: 'static group: never changed by the scaler',
    });
  });

  it('does not pre-warm before a transition on a holiday, nor outside the lead window', () => {
    const christmasMorning = at('2026-12-25T11:40:00Z');
    expect(planFor(christmasMorning, found(2, 2, 30), known(0, 300)).preWarmFor).toBeUndefined();
    const early = planFor(at('2026-03-09T10:00:00Z'), found(2, 2, 30), known(0, 300));
    expect(early.preWarmFor).toBeUndefined();
    expect(actionFor(early.actions, 'coder-ws').kind).toBe('none');
  });

  it('honours a desired floor', () => {
    const cfg: ScalingConfig = {
      ...config,
      nodeGroups: config.nodeGroups.map((g) =>
        g.name === 'coder-prov'
          ? { ...g, profiles: { ...g.profiles, peak: { minSize: 0, maxSize: 20, desiredFloor: 4 } } }
          : g,
      ),
    };
    const plan = planFor(PEAK, found(10, 10, 200), known(0), found(0, 1, 5), cfg);
    expect(target(actionFor(plan.actions, 'coder-prov'))).toEqual({
      minSize: 0,
      desiredSize: 4,
      maxSize: 20,
    });
  });

  it('uses an unexpired override and reports it', () => {
    const plan = planNodeGroupScaling(
      {
        config,
        override: {
          profile: 'peak',
          until: '2026-03-10T02:00:00Z',
          reason: 'demo night',
          setAt: '2026-03-09T20:00:00Z',
        },
        groups: { 'coder-ws': found(2, 3, 30), 'coder-prov': found(0, 0, 5) },
        demand: { 'coder-ws': known(10) },
      },
      OFF,
    );
    expect(plan.profile).toMatchObject({ profile: 'peak', source: 'override' });
    expect(target(actionFor(plan.actions, 'coder-ws'))).toEqual({
      minSize: 10,
      desiredSize: 10,
      maxSize: 200,
    });
  });
});

describe('planNodeGroupScaling: properties', () => {
  const sizes = fc
    .tuple(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 300 }),
    )
    .map(([minSize, desiredSize, maxSize]) => ({ minSize, desiredSize, maxSize }));
  const profile = fc
    .tuple(
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 1, max: 250 }),
      fc.option(fc.integer({ min: 0, max: 250 })),
    )
    .map(([a, b, floor]) => {
      const maxSize = Math.max(a, b);
      const desiredFloor = floor === null ? undefined : Math.min(floor, maxSize);
      return { minSize: Math.min(a, b), maxSize, ...(desiredFloor === undefined ? {} : { desiredFloor }) };
    });
  const scenario = fc.record({
    now: fc.date({
      min: new Date('2026-01-01T00:00:00Z'),
      max: new Date('2027-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    ws: sizes,
    prov: sizes,
    running: fc.integer({ min: 0, max: 5000 }),
    autostarting: fc.integer({ min: 0, max: 5000 }),
    demandKnown: fc.boolean(),
    perNode: fc.integer({ min: 1, max: 40 }),
    peak: profile,
    offHours: profile,
    overrideMinutes: fc.option(fc.integer({ min: -300, max: 300 })),
  });

  type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
  const buildFrom = (s: Scenario) => {
    const cfg: ScalingConfig = {
      ...config,
      nodeGroups: config.nodeGroups.map((g) =>
        g.name === 'coder-ws'
          ? {
              ...g,
              role: { kind: 'workspaces', workspacesPerNode: s.perNode },
              profiles: { peak: s.peak, 'off-hours': s.offHours },
            }
          : g,
      ),
    };
    const demand: GroupDemand = s.demandKnown
      ? { kind: 'known', running: s.running, autostartingSoon: s.autostarting }
      : { kind: 'unknown', error: 'down' };
    const override =
      s.overrideMinutes === null
        ? undefined
        : {
            profile: 'peak',
            until: new Date(s.now.getTime() + s.overrideMinutes * 60_000).toISOString(),
            reason: 'p',
            setAt: s.now.toISOString(),
          };
    return {
      cfg,
      demand,
      override,
      snapshot: {
        config: cfg,
        override,
        groups: {
          'coder-ws': { kind: 'found', status: 'ACTIVE', sizes: s.ws },
          'coder-prov': { kind: 'found', status: 'ACTIVE', sizes: s.prov },
        },
        demand: { 'coder-ws': demand },
      } as const,
    };
  };

  it('keeps min ≤ desired ≤ max, max ≥ 1 and desired ≥ the running floor, with the smallest change', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { snapshot } = buildFrom(s);
        const plan = planNodeGroupScaling(snapshot, s.now);
        for (const action of plan.actions) {
          if (action.kind !== 'update' && action.kind !== 'none') continue;
          const result = action.kind === 'update' ? action.target : action.current;
          expect(result.minSize).toBeGreaterThanOrEqual(0);
          expect(result.minSize).toBeLessThanOrEqual(result.desiredSize);
          expect(result.desiredSize).toBeLessThanOrEqual(result.maxSize);
          expect(result.maxSize).toBeGreaterThanOrEqual(1);
          if (action.kind === 'update') expect(action.target).not.toEqual(action.current);
          if (action.group === 'coder-ws') {
            const floor = s.demandKnown ? runningFloor(s.running, s.perNode) : s.ws.desiredSize;
            expect(result.desiredSize).toBeGreaterThanOrEqual(floor);
            // Smallest change: desired moves only when a bound forces it, and only as far as that bound.
            const active = plan.profile.profile === 'peak' ? s.peak : s.offHours;
            if (result.desiredSize > s.ws.desiredSize) {
              expect(result.desiredSize).toBe(Math.max(result.minSize, floor, active.desiredFloor ?? 0));
            }
            if (result.desiredSize < s.ws.desiredSize) expect(result.desiredSize).toBe(result.maxSize);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('is a fixpoint: applying the plan and planning again changes nothing', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { snapshot } = buildFrom(s);
        const first = planNodeGroupScaling(snapshot, s.now);
        const groups = { ...snapshot.groups } as Record<string, LiveGroup>;
        for (const action of first.actions) {
          if (action.kind === 'update')
            groups[action.group] = { kind: 'found', status: 'ACTIVE', sizes: action.target };
        }
        const second = planNodeGroupScaling({ ...snapshot, groups }, s.now);
        expect(second.actions.filter((a) => a.kind === 'update')).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('weekends and holidays plan off-hours unless an override is live; a live override always wins', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { snapshot, override } = buildFrom(s);
        const plan = planNodeGroupScaling(snapshot, s.now);
        const overrideLive = override !== undefined && Date.parse(override.until) > s.now.getTime();
        if (overrideLive) expect(plan.profile.profile).toBe('peak');
        else if (plan.profile.dayKind !== 'working-day') expect(plan.profile.profile).toBe('off-hours');
        const holidaySnapshot = {
          ...snapshot,
          config: {
            ...snapshot.config,
            schedule: { ...snapshot.config.schedule, holidays: [plan.profile.localTime.slice(0, 10)] },
          },
        };
        const holidayPlan = planNodeGroupScaling(holidaySnapshot, s.now);
        expect(holidayPlan.profile.profile).toBe(overrideLive ? 'peak' : 'off-hours');
      }),
      { numRuns: 500 },
    );
  });
});
