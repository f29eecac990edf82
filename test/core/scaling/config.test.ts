import { describe, expect, it } from 'vitest';
import { seed004ScalingConfig } from '../../../config/seed-004.js';
import { ConfigError, parseConfig } from '../../../lambdas/core/contracts/validation.js';
import {
  managedGroups,
  profileNames,
  type ScalingConfigInput,
  scalingConfigSchema,
} from '../../../lambdas/core/scaling/config.js';

const parse = (value: unknown) => parseConfig(scalingConfigSchema, value, 'scaling config', 'scaling');

const problemsOf = (value: unknown): readonly string[] => {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
};

describe('scaling config', () => {
  it('parses the seed 004 example and fills the schedule defaults', () => {
    const config = parse(seed004ScalingConfig);

    expect(config.schedule.timeZone).toBe('America/New_York');
    expect(config.schedule.weekdayTransitions).toEqual([
      { at: '07:00', profile: 'peak' },
      { at: '18:00', profile: 'off-hours' },
    ]);
    expect(config.schedule.weekendDays).toEqual([6, 7]);
    expect(config.schedule.autostartHorizonMinutes).toBe(60);
    expect(config.overrides.maxDurationHours).toBe(72);
    expect(managedGroups(config).map((g) => g.name)).toEqual(['coder-ws', 'coder-prov']);
    expect(profileNames(config)).toEqual(['off-hours', 'peak']);
    const ws = config.nodeGroups.find((g) => g.name === 'coder-ws');
    expect(ws?.profiles.peak).toEqual({ minSize: 10, maxSize: 200 });
  });

  it('defaults the whole schedule to 07:00 peak / 18:00 off-hours in America/New_York', () => {
    const config = parse({
      clusterName: 'c',
      nodeGroups: [
        {
          name: 'ws',
          kind: 'auto-scaling-group',
          autoScalingGroupName: 'ws-asg',
          role: { kind: 'workspaces', workspacesPerNode: 4, templates: ['k8s'] },
          profiles: { peak: { minSize: 1, maxSize: 5 }, 'off-hours': { minSize: 0, maxSize: 1 } },
        },
      ],
    });

    expect(config.schedule).toMatchObject({
      timeZone: 'America/New_York',
      preWarmLeadMinutes: 30,
      driftCheckMinutes: 15,
      nonWorkingDayProfile: 'off-hours',
      holidays: [],
    });
  });

  it('sorts weekday transitions by time', () => {
    const input: ScalingConfigInput = {
      ...seed004ScalingConfig,
      schedule: {
        weekdayTransitions: [
          { at: '18:00', profile: 'off-hours' },
          { at: '07:00', profile: 'peak' },
        ],
      },
    };
    expect(parse(input).schedule.weekdayTransitions.map((t) => t.at)).toEqual(['07:00', '18:00']);
  });

  it('names every bad field at once', () => {
    const problems = problemsOf({
      clusterName: 'coder',
      nodeGroups: [
        {
          name: 'coder-ws',
          kind: 'eks-managed',
          nodegroupName: 'coder-ws',
          role: { kind: 'workspaces', workspacesPerNode: 0 },
          profiles: { peak: { minSize: 20, maxSize: 10 }, 'off-hours': { minSize: 0, maxSize: 0 } },
        },
        {
          name: 'coder-ws',
          kind: 'eks-managed',
          nodegroupName: 'coder-prov',
          role: { kind: 'provisioners' },
          profiles: { peak: { minSize: 0, maxSize: 2, desiredFloor: 3 } },
        },
      ],
      schedule: {
        timeZone: 'America/Nowhere',
        weekdayTransitions: [
          { at: '7:00', profile: 'peak' },
          { at: '24:00', profile: 'off-hours' },
        ],
        holidays: ['2026-13-01'],
      },
    });

    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^scaling\.nodeGroups\[0\]\.role\.workspacesPerNode: /),
        expect.stringMatching(
          /^scaling\.nodeGroups\[0\]\.profiles\.peak\.minSize: must be <= maxSize \(20 > 10\)/,
        ),
        expect.stringMatching(/^scaling\.nodeGroups\[0\]\.profiles\.off-hours\.maxSize: must be at least 1/),
        expect.stringMatching(/^scaling\.nodeGroups\[1\]\.profiles\.peak\.desiredFloor: must be <= maxSize/),
        expect.stringMatching(/^scaling\.schedule\.timeZone: must be a valid IANA time zone/),
        expect.stringMatching(/^scaling\.schedule\.weekdayTransitions\[0\]\.at: must be HH:MM/),
        expect.stringMatching(/^scaling\.schedule\.weekdayTransitions\[1\]\.at: must be HH:MM/),
        expect.stringMatching(/^scaling\.schedule\.holidays\[0\]: must be a date YYYY-MM-DD/),
      ]),
    );
  });

  it('names cross-field problems: duplicate names and groups, missing profiles, duplicate times', () => {
    const problems = problemsOf({
      clusterName: 'coder',
      nodeGroups: [
        {
          name: 'ws',
          kind: 'eks-managed',
          nodegroupName: 'coder-ws',
          role: { kind: 'workspaces', workspacesPerNode: 10 },
          profiles: {
            peak: { minSize: 1, maxSize: 5 },
            'off-hours': { minSize: 0, maxSize: 1 },
            maintenance: { minSize: 0, maxSize: 1 },
          },
        },
        {
          name: 'ws',
          kind: 'eks-managed',
          nodegroupName: 'coder-ws',
          role: { kind: 'provisioners' },
          profiles: { peak: { minSize: 1, maxSize: 5 } },
        },
        { name: 'control', kind: 'eks-managed', nodegroupName: 'coder-control', role: { kind: 'static' } },
      ],
      schedule: {
        weekdayTransitions: [
          { at: '07:00', profile: 'peak' },
          { at: '07:00', profile: 'off-hours' },
        ],
      },
    });

    expect(problems).toEqual(
      expect.arrayContaining([
        'scaling.nodeGroups[1].name: duplicate group name "ws" (also nodeGroups[0])',
        'scaling.nodeGroups[1].nodegroupName: the same node group is configured twice (also nodeGroups[0])',
        'scaling.nodeGroups[1].profiles.off-hours: missing: the schedule uses profile "off-hours"',
        'scaling.nodeGroups[1].profiles.maintenance: missing: another group defines profile "maintenance", and an override may select it',
        'scaling.schedule.weekdayTransitions[1].at: duplicate time 07:00',
      ]),
    );
    // The static group needs no profiles.
    expect(problems.some((p) => p.startsWith('scaling.nodeGroups[2]'))).toBe(false);
  });

  it('rejects unknown kinds and unknown fields', () => {
    const problems = problemsOf({
      clusterName: 'coder',
      nodeGroups: [{ name: 'x', kind: 'karpenter', role: { kind: 'static' } }],
      extra: true,
    });
    expect(problems.some((p) => p.startsWith('scaling.nodeGroups[0].kind'))).toBe(true);
    expect(problems.some((p) => p.includes('extra'))).toBe(true);
  });

  it('refuses a week with no working day', () => {
    const problems = problemsOf({
      ...seed004ScalingConfig,
      schedule: { weekendDays: [1, 2, 3, 4, 5, 6, 7] },
    });
    expect(problems).toContain('scaling.schedule.weekendDays: must leave at least one working day');
  });
});

describe('holiday rules in the scaling config', () => {
  const withRules = (holidayRules: unknown, extra: Record<string, unknown> = {}) => ({
    ...seed004ScalingConfig,
    schedule: { ...seed004ScalingConfig.schedule, holidayRules, ...extra },
  });

  it('accepts each rule shape and fills the defaults (observed none, offset 0, except none)', () => {
    const config = parse(
      withRules([
        { kind: 'public-holidays', calendar: 'us-federal', except: ['columbus-day'] },
        { kind: 'date', name: 'Christmas Eve', month: 12, day: 24 },
        { kind: 'date', name: 'Boxing Day', month: 12, day: 26, observed: 'following-monday' },
        {
          kind: 'weekday-of-month',
          name: 'Day after Thanksgiving',
          month: 11,
          weekday: 'thursday',
          nth: 4,
          offsetDays: 1,
        },
        { kind: 'weekday-of-month', name: 'Memorial Day', month: 5, weekday: 'monday', nth: 'last' },
      ]),
    );
    expect(config.schedule.holidayRules).toEqual([
      { kind: 'public-holidays', calendar: 'us-federal', except: ['columbus-day'] },
      { kind: 'date', name: 'Christmas Eve', month: 12, day: 24, observed: 'none' },
      { kind: 'date', name: 'Boxing Day', month: 12, day: 26, observed: 'following-monday' },
      {
        kind: 'weekday-of-month',
        name: 'Day after Thanksgiving',
        month: 11,
        weekday: 'thursday',
        nth: 4,
        offsetDays: 1,
      },
      {
        kind: 'weekday-of-month',
        name: 'Memorial Day',
        month: 5,
        weekday: 'monday',
        nth: 'last',
        offsetDays: 0,
      },
    ]);
    expect(config.schedule.notHolidays).toEqual([]);
  });

  it.each([
    [
      { kind: 'easter' },
      'holidayRules[0].kind: must have kind "public-holidays", "date" or "weekday-of-month"',
    ],
    [
      { kind: 'public-holidays', calendar: 'uk' },
      'holidayRules[0].calendar: must be one of: us-federal (other calendars: list their holidays as "date" and "weekday-of-month" rules)',
    ],
    [
      { kind: 'public-holidays', calendar: 'us-federal', only: ['thanksgiving'] },
      'holidayRules[0].only[0]: must be a us-federal holiday: new-years-day, martin-luther-king-jr-day',
    ],
    [
      { kind: 'public-holidays', calendar: 'us-federal', only: ['labor-day'], except: ['columbus-day'] },
      'holidayRules[0].except: give only or except, not both',
    ],
    [{ kind: 'date', name: 'x', month: 4, day: 31 }, 'holidayRules[0].day: month 4 has 30 days, not 31'],
    [{ kind: 'date', name: 'x', month: 2, day: 29 }, 'holidayRules[0].day: 29 February is not in every year'],
    [{ kind: 'date', name: 'x', month: 13, day: 1 }, 'holidayRules[0].month: must be a month 1-12'],
    [
      { kind: 'date', name: 'x', month: 7, day: 4, observed: 'nearest' },
      'holidayRules[0].observed: must be one of: none, nearest-weekday, following-monday',
    ],
    [
      { kind: 'weekday-of-month', name: 'x', month: 11, weekday: 'Thursday', nth: 4 },
      'holidayRules[0].weekday: must be one of: monday, tuesday',
    ],
    [
      { kind: 'weekday-of-month', name: 'x', month: 11, weekday: 'thursday', nth: 5 },
      'holidayRules[0].nth: must be 1, 2, 3, 4 or "last" (not every month has a fifth)',
    ],
    [
      { kind: 'weekday-of-month', name: 'x', month: 11, weekday: 'thursday', nth: 4, offsetDays: 10 },
      'holidayRules[0].offsetDays: must be from -7 to 7 days',
    ],
    [
      { kind: 'weekday-of-month', month: 11, weekday: 'thursday', nth: 4 },
      'holidayRules[0].name: must name the holiday',
    ],
    [{ kind: 'date', name: 'x', month: 1, day: 1, year: 2027 }, 'holidayRules[0]: Unrecognized key: "year"'],
  ])('rejects %j: %s', (rule, message) => {
    const problems = problemsOf(withRules([rule]));
    expect(
      problems.some((p) => p.startsWith(`scaling.schedule.${message}`)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('rejects a date both added and taken away, and a bad date in notHolidays', () => {
    const problems = problemsOf(
      withRules([], { holidays: ['2026-12-24'], notHolidays: ['2026-12-26', '2026-02-30'] }),
    );
    expect(problems).toEqual(['scaling.schedule.notHolidays[1]: is not a day of the calendar']);
    const both = problemsOf(withRules([], { holidays: ['2026-12-24'], notHolidays: ['2026-12-24'] }));
    expect(both).toEqual([
      'scaling.schedule.holidays[0]: 2026-12-24 is also in notHolidays: keep it in one of them',
    ]);
  });
});
