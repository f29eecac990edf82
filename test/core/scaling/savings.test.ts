import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScalingOverride } from '../../../lambdas/core/scaling/calendar.js';
import { type ScalingConfig, scalingConfigSchema } from '../../../lambdas/core/scaling/config.js';
import {
  officeHoursDemand,
  peakAndOffHoursDemand,
  peakProfileOf,
  planWeekSavings,
  SavingsInputError,
  SEED_004_DEMAND,
  simulateWeek,
} from '../../../lambdas/core/scaling/savings.js';
import { type GroupHistory, historySavings } from '../../../lambdas/core/scaling/savings-history.js';
import { at, seedConfig } from './fixtures.js';

const seedDemand = peakAndOffHoursDemand(
  'peak',
  SEED_004_DEMAND.peakRunning,
  SEED_004_DEMAND.offHoursRunning,
);
const group = (report: ReturnType<typeof planWeekSavings>, name: string) => {
  const found = report.groups.find((g) => g.group === name);
  if (!found) throw new Error(`no group ${name}`);
  return found;
};
const hoursOf = (samples: readonly { hours: number }[]) => samples.reduce((sum, s) => sum + s.hours, 0);

describe('planWeekSavings with seed 004 (3,000 running at peak, 300 off-hours)', () => {
  // Working-day peak hours: 11 a day. Off-hours: the rest of the local week.
  it.each([
    {
      week: 'an ordinary week',
      weekOf: '2026-12-09T12:00:00Z',
      hours: 168,
      peakHours: 55,
    },
    {
      week: 'the March DST week (Sunday 8 March has 23 hours)',
      weekOf: '2026-03-04T12:00:00Z',
      hours: 167,
      peakHours: 55,
    },
    {
      week: 'the November DST week (Sunday 1 November has 25 hours)',
      weekOf: '2026-10-28T12:00:00Z',
      hours: 169,
      peakHours: 55,
    },
    {
      week: 'Thanksgiving week (Thursday 26 November is a holiday: off-hours all day)',
      weekOf: '2026-11-24T12:00:00Z',
      hours: 168,
      peakHours: 44,
    },
  ])(
    '$week: $hours hours, coder-prov saves its 2-node floor off-hours, coder-ws nothing',
    ({ weekOf, hours, peakHours }) => {
      const config = seedConfig();
      const samples = simulateWeek({ config, weekOf: at(weekOf), demand: seedDemand });
      expect(hoursOf(samples)).toBe(hours);
      const report = planWeekSavings({ config, weekOf: at(weekOf), demand: seedDemand });
      const offHours = hours - peakHours;
      const prov = group(report, 'coder-prov');
      expect(prov).toMatchObject({
        baselineNodeHours: 2 * hours,
        scheduleNodeHours: 2 * peakHours,
        savedNodeHours: 2 * offHours,
        fromLowerFloorNodeHours: 2 * offHours,
        fromFollowingDemandNodeHours: 0,
        savedUsd: Math.round(2 * offHours * 0.34 * 100) / 100,
      });
      // 300 running need 20 nodes off-hours, above both floors (2 and 10): nothing to save.
      const ws = group(report, 'coder-ws');
      expect(ws).toMatchObject({
        scheduleNodeHours: 200 * peakHours + 20 * offHours,
        baselineNodeHours: 200 * peakHours + 20 * offHours,
        savedNodeHours: 0,
        demandBlindEstimateNodeHours: 8 * offHours,
      });
      expect(ws.explanation).toContain('running workspaces hold those nodes anyway');
      expect(report.groups.map((g) => g.group)).toEqual(['coder-ws', 'coder-prov']);
      expect(report.total.savedNodeHours).toBe(2 * offHours);
      expect(report.peakProfile.name).toBe('peak');
    },
  );

  it('an override pins a profile for the groups, while demand keeps the calendar (office hours)', () => {
    const config = seedConfig();
    // Saturday 12 December 10:00-22:00 EST pinned to peak: 12 more hours at the peak floor.
    const override: ScalingOverride = {
      profile: 'peak',
      setAt: '2026-12-12T15:00:00.000Z',
      until: '2026-12-13T03:00:00.000Z',
      reason: 'release weekend',
    };
    const plain = planWeekSavings({ config, weekOf: at('2026-12-09T12:00:00Z'), demand: seedDemand });
    const pinned = planWeekSavings({
      config,
      weekOf: at('2026-12-09T12:00:00Z'),
      demand: seedDemand,
      overrides: [override],
    });
    expect(group(plain, 'coder-prov').savedNodeHours - group(pinned, 'coder-prov').savedNodeHours).toBe(24);
    expect(group(pinned, 'coder-ws').scheduleNodeHours).toBe(group(plain, 'coder-ws').scheduleNodeHours);
    expect(pinned.notes.some((n) => n.includes('release weekend'))).toBe(true);
    const saturdayNoon = pinned.chart.samples.find((s) => s.at === '2026-12-12T17:00:00.000Z');
    expect(saturdayNoon?.profile).toBe('peak');
  });

  it.each([
    // Off-hours running → need per node off-hours; the floors are 2 (off-hours) and 10 (peak).
    { offHoursRunning: 0, fromFloor: 8, fromDemand: 0 },
    { offHoursRunning: 75, fromFloor: 0, fromDemand: 5 },
    { offHoursRunning: 150, fromFloor: 0, fromDemand: 0 },
  ])(
    'coder-ws with $offHoursRunning running off-hours: split by what held the capacity',
    ({ offHoursRunning, fromFloor, fromDemand }) => {
      const offHours = 168 - 55;
      const report = planWeekSavings({
        config: seedConfig(),
        weekOf: at('2026-12-09T12:00:00Z'),
        demand: peakAndOffHoursDemand('peak', 3000, offHoursRunning),
      });
      const ws = group(report, 'coder-ws');
      expect(ws.fromLowerFloorNodeHours).toBe(fromFloor * offHours);
      expect(ws.fromFollowingDemandNodeHours).toBe(fromDemand * offHours);
      expect(ws.savedNodeHours).toBe((fromFloor + fromDemand) * offHours);
      expect(ws.demandBlindEstimateNodeHours).toBe(8 * offHours);
      expect(ws.savedUsd).toBe(Math.round(ws.savedNodeHours * 0.384 * 100) / 100);
    },
  );

  it('prices come from the config over the defaults; a group without one has no dollars', () => {
    const config = scalingConfigSchema.parse({
      ...seedConfig(),
      nodeGroups: seedConfig().nodeGroups.map((g) =>
        g.name === 'coder-ws' ? { ...g, instanceType: 'm7i.2xlarge' } : g,
      ),
      prices: { 'c5.2xlarge': 0.5 },
    });
    const report = planWeekSavings({ config, weekOf: at('2026-12-09T12:00:00Z'), demand: seedDemand });
    expect(group(report, 'coder-prov').price).toEqual({ usdPerHour: 0.5, source: 'config prices' });
    expect(group(report, 'coder-prov').savedUsd).toBe(113);
    expect(group(report, 'coder-ws').savedUsd).toBeUndefined();
    expect(report.total.unpriced).toEqual(['coder-ws']);
  });
});

describe('peakProfileOf', () => {
  const twoProfiles = (day: number, night: number): ScalingConfig =>
    scalingConfigSchema.parse({
      clusterName: 'c',
      nodeGroups: [
        {
          name: 'ws',
          kind: 'eks-managed',
          nodegroupName: 'ws',
          role: { kind: 'workspaces', workspacesPerNode: 10 },
          profiles: { day: { minSize: day, maxSize: 50 }, night: { minSize: night, maxSize: 50 } },
        },
      ],
      schedule: {
        weekdayTransitions: [
          { at: '20:00', profile: 'night' },
          { at: '08:00', profile: 'day' },
        ],
        nonWorkingDayProfile: 'night',
      },
    });

  it.each([
    { day: 5, night: 1, peak: 'day', from: '08:00' },
    { day: 1, night: 5, peak: 'night', from: '20:00' },
    { day: 3, night: 3, peak: 'day', from: '08:00' },
  ])('day $day / night $night: the peak is $peak', ({ day, night, peak, from }) => {
    const result = peakProfileOf(twoProfiles(day, night));
    expect(result.name).toBe(peak);
    expect(result.reason).toContain(`from ${from}`);
  });
});

describe('historySavings', () => {
  const config = seedConfig();
  const from = at('2026-12-07T05:00:00Z');
  const to = at('2026-12-14T05:00:00Z');
  const hourly = (value: (t: Date) => number, skip = 0) => {
    const points = [];
    for (let t = from.getTime() + skip * 3_600_000; t < to.getTime(); t += 3_600_000) {
      points.push({ at: new Date(t).toISOString(), value: value(new Date(t)) });
    }
    return points;
  };
  const isPeak = (t: Date) => {
    const local = new Date(t.getTime() - 5 * 3_600_000);
    const day = local.getUTCDay();
    return day >= 1 && day <= 5 && local.getUTCHours() >= 7 && local.getUTCHours() < 18;
  };

  it('measures what the scaler set against the peak profile, hour by hour', () => {
    const histories: GroupHistory[] = [
      // Off-hours the workspace group fell to 6 nodes: 4 held by its 2-node floor's demand, under the peak floor of 10.
      { group: 'coder-ws', capacity: hourly((t) => (isPeak(t) ? 120 : 6)), running: hourly(() => 0) },
      { group: 'coder-prov', capacity: hourly((t) => (isPeak(t) ? 2 : 0)), running: [] },
    ];
    const report = historySavings({ config, histories, from, to, weeks: 1 });
    expect(report.coveredHours).toBe(168);
    expect(group(report, 'coder-ws')).toMatchObject({
      scheduleNodeHours: 120 * 55 + 6 * 113,
      baselineNodeHours: 120 * 55 + 10 * 113,
      savedNodeHours: 4 * 113,
      fromFollowingDemandNodeHours: 4 * 113,
    });
    expect(group(report, 'coder-prov').savedNodeHours).toBe(2 * 113);
    expect(report.notes.join(' ')).toContain('overrides are not in the metrics');
  });

  it('counts only hours where every group has data, and says so', () => {
    const histories: GroupHistory[] = [
      { group: 'coder-ws', capacity: hourly(() => 20, 24), running: [] },
      { group: 'coder-prov', capacity: hourly(() => 0), running: [] },
    ];
    const report = historySavings({ config, histories, from, to, weeks: 1 });
    expect(report.coveredHours).toBe(144);
    expect(report.notes.join(' ')).toContain('data for 144 of 168 hours');
  });
});

describe('simulateWeek refuses what it cannot size', () => {
  it('an override to a profile the groups do not have', () => {
    expect(() =>
      simulateWeek({
        config: seedConfig(),
        weekOf: at('2026-12-09T12:00:00Z'),
        demand: seedDemand,
        overrides: [
          { profile: 'crunch', setAt: '2026-12-08T00:00:00Z', until: '2026-12-09T00:00:00Z', reason: 'x' },
        ],
      }),
    ).toThrow(SavingsInputError);
  });
});

describe('properties', () => {
  const arbitraryConfig = fc
    .record({
      peakMin: fc.integer({ min: 0, max: 30 }),
      offMin: fc.integer({ min: 0, max: 30 }),
      peakMax: fc.integer({ min: 30, max: 200 }),
      offMax: fc.integer({ min: 1, max: 200 }),
      peakFloor: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
      perNode: fc.integer({ min: 1, max: 40 }),
      provPeak: fc.integer({ min: 0, max: 10 }),
      provOff: fc.integer({ min: 0, max: 10 }),
      holiday: fc.boolean(),
    })
    .map((r) => {
      // The peak profile is the larger one by construction.
      const offMin = Math.min(r.offMin, r.peakMin);
      const provOff = Math.min(r.provOff, r.provPeak);
      return scalingConfigSchema.parse({
        clusterName: 'c',
        nodeGroups: [
          {
            name: 'ws',
            kind: 'eks-managed',
            nodegroupName: 'ws',
            role: { kind: 'workspaces', workspacesPerNode: r.perNode },
            profiles: {
              peak: {
                minSize: r.peakMin,
                maxSize: r.peakMax,
                ...(r.peakFloor !== undefined ? { desiredFloor: r.peakFloor } : {}),
              },
              'off-hours': { minSize: offMin, maxSize: Math.max(offMin, r.offMax) },
            },
          },
          {
            name: 'prov',
            kind: 'auto-scaling-group',
            autoScalingGroupName: 'prov',
            role: { kind: 'provisioners' },
            profiles: {
              peak: { minSize: r.provPeak, maxSize: Math.max(1, r.provPeak) },
              'off-hours': { minSize: provOff, maxSize: Math.max(1, provOff) },
            },
          },
        ],
        schedule: { holidays: r.holiday ? ['2026-03-04'] : [] },
      });
    });
  const arbitraryWeek = fc.constantFrom(
    '2026-03-04T12:00:00Z',
    '2026-10-28T12:00:00Z',
    '2026-06-10T12:00:00Z',
  );

  it('the schedule never holds more than the baseline, nor less than the running workspaces need', () => {
    fc.assert(
      fc.property(
        arbitraryConfig,
        arbitraryWeek,
        fc.record({ peakRunning: fc.nat(5000), offHoursRunning: fc.nat(5000) }),
        (config, weekOf, running) => {
          const demand = officeHoursDemand(config, running);
          const report = planWeekSavings({ config, weekOf: at(weekOf), demand });
          const samples = report.chart.samples;
          const ws = config.nodeGroups[0]?.role;
          const perNode = ws?.kind === 'workspaces' ? ws.workspacesPerNode : 1;
          expect([167, 168, 169]).toContain(hoursOf(samples));
          for (const s of samples) {
            for (const g of Object.values(s.groups)) {
              expect(g.capacity).toBeLessThanOrEqual(g.baseline);
              expect(g.capacity).toBeGreaterThanOrEqual(g.need);
              if (g.running !== undefined)
                expect(g.capacity).toBeGreaterThanOrEqual(Math.ceil(g.running / perNode));
            }
          }
          for (const g of report.groups) {
            expect(g.scheduleNodeHours).toBeLessThanOrEqual(g.baselineNodeHours);
            expect(g.fromLowerFloorNodeHours + g.fromFollowingDemandNodeHours).toBeCloseTo(
              g.savedNodeHours,
              6,
            );
            expect(g.savedNodeHours).toBeLessThanOrEqual(g.demandBlindEstimateNodeHours + 1e-9);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
