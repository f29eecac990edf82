import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seed004ScalingConfig } from '../../../config/seed-004.js';
import { activeProfileAt, nextTransitions } from '../../../lambdas/core/scaling/calendar.js';
import { type ScheduleConfig, scheduleSchema } from '../../../lambdas/core/scaling/config.js';
import {
  describeWeekdayRule,
  holidayOn,
  holidaysBetween,
  holidaysInNextYear,
  noHolidayAheadWarning,
} from '../../../lambdas/core/scaling/holidays.js';
import { at, seedConfig } from './fixtures.js';

const federal = scheduleSchema.parse({
  holidayRules: [{ kind: 'public-holidays', calendar: 'us-federal' }],
});

/** The holidays that fall on Monday to Friday in `year`: the days the federal government is closed. */
const daysOff = (schedule: ScheduleConfig, year: number): string[] =>
  holidaysBetween(schedule, `${year}-01-01`, `${year}-12-31`)
    .map((h) => h.date)
    .filter((date) => {
      const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
      return weekday !== 0 && weekday !== 6;
    });

describe('US federal holidays (5 U.S.C. 6103), as OPM lists the days off', () => {
  // Each year's days off; * marks an observed day (a Saturday holiday moves to Friday, a Sunday one to Monday).
  it.each([
    {
      year: 2021,
      // Juneteenth's first year (Saturday: Friday 18 June); New Year 2022 is a Saturday: Friday 31 December.
      days: '01-01 01-18 02-15 05-31 06-18* 07-05* 09-06 10-11 11-11 11-25 12-24* 12-31*',
    },
    { year: 2022, days: '01-17 02-21 05-30 06-20* 07-04 09-05 10-10 11-11 11-24 12-26*' },
    { year: 2023, days: '01-02* 01-16 02-20 05-29 06-19 07-04 09-04 10-09 11-10* 11-23 12-25' },
    { year: 2026, days: '01-01 01-19 02-16 05-25 06-19 07-03* 09-07 10-12 11-11 11-26 12-25' },
    {
      year: 2027,
      days: '01-01 01-18 02-15 05-31 06-18* 07-05* 09-06 10-11 11-11 11-25 12-24* 12-31*',
    },
    // 1 January 2028 is a Saturday: observed on 31 December 2027, so 2028 starts with MLK Day.
    { year: 2028, days: '01-17 02-21 05-29 06-19 07-04 09-04 10-09 11-10* 11-23 12-25' },
    { year: 2033, days: '01-17 02-21 05-30 06-20* 07-04 09-05 10-10 11-11 11-24 12-26*' },
    {
      year: 2038,
      days: '01-01 01-18 02-15 05-31 06-18* 07-05* 09-06 10-11 11-11 11-25 12-24* 12-31*',
    },
  ])('$year', ({ year, days }) => {
    const expected = days.split(' ').map((d) => `${year}-${d.replace('*', '')}`);
    expect(daysOff(federal, year)).toEqual(expected);
    for (const d of days.split(' ').filter((d) => d.endsWith('*'))) {
      expect(holidayOn(federal, `${year}-${d.slice(0, 5)}`)).toMatch(/\(observed\)$/);
    }
  });

  it('has no Juneteenth before 2021', () => {
    expect(holidaysBetween(federal, '2020-06-01', '2020-06-30')).toEqual([]);
  });

  it('keeps the weekend date itself a holiday too, by its own name', () => {
    expect(holidaysBetween(federal, '2026-07-03', '2026-07-05')).toEqual([
      { date: '2026-07-03', name: 'Independence Day (observed)' },
      { date: '2026-07-04', name: 'Independence Day' },
    ]);
  });
});

describe('the reference deployment calendar (config/seed-004.ts)', () => {
  it("gives the six days the old list named for 2026, and 1 January 2026 before the list's start", () => {
    const schedule = seedConfig().schedule;
    // The list the reference config carried until rules replaced it.
    const listed = ['2026-05-25', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25', '2027-01-01'];
    const days = holidaysBetween(schedule, '2026-01-01', '2027-01-01').map((h) => h.date);
    expect(days).toEqual(['2026-01-01', ...listed.slice(0, 2), '2026-07-04', ...listed.slice(2)]);
    expect(daysOff(schedule, 2026).filter((d) => d >= '2026-05-01')).toEqual(listed.slice(0, 5));
  });

  it.each([
    ['2027-05-31', 'Memorial Day'],
    ['2027-07-05', 'Independence Day (observed)'],
    ['2027-11-25', 'Thanksgiving Day'],
    ['2027-12-24', 'Christmas Day (observed)'],
    ['2027-12-31', "New Year's Day (observed)"],
    ['2031-11-27', 'Thanksgiving Day'],
    ['2040-12-25', 'Christmas Day'],
  ])('%s, after the old list ran out, is a holiday: off-hours all day (%s)', (date, name) => {
    const schedule = seedConfig().schedule;
    const decision = activeProfileAt(schedule, at(`${date}T15:00:00Z`));
    expect(decision).toMatchObject({ profile: 'off-hours', dayKind: 'holiday' });
    expect(decision.reason).toBe(`${date} is a holiday (${name}): off-hours all day`);
  });

  it('marks the transitions of a holiday beyond 2027 with its name', () => {
    const list = nextTransitions(
      seedConfig().schedule,
      at('2030-11-28T00:00:00Z'),
      at('2030-11-29T00:00:00Z'),
    );
    expect(list.map((t) => [t.localDate, t.effectiveProfile, t.holiday, t.holidayName])).toEqual([
      ['2030-11-28', 'off-hours', true, 'Thanksgiving Day'],
      ['2030-11-28', 'off-hours', true, 'Thanksgiving Day'],
    ]);
  });

  it('never goes 12 months without a holiday, whatever the day from 2026 to 2060', () => {
    const schedule = seedConfig().schedule;
    // Five, not six, from 1 January 2028: that New Year is observed on 31 December 2027, the next on 1 January 2029.
    expect(holidaysInNextYear(schedule, '2028-01-01').map((h) => h.name)).toEqual([
      'Memorial Day',
      'Independence Day',
      'Labor Day',
      'Thanksgiving Day',
      'Christmas Day',
    ]);
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2026-01-01'), max: new Date('2060-12-31'), noInvalidDate: true }),
        (d) => {
          const today = d.toISOString().slice(0, 10);
          expect(holidaysInNextYear(schedule, today).length).toBeGreaterThanOrEqual(5);
          expect(noHolidayAheadWarning(schedule, today)).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('holiday rules', () => {
  const schedule = (input: Record<string, unknown>) => scheduleSchema.parse(input);

  it.each([
    // The fourth Thursday of November is between the 22nd and the 28th.
    [2026, '2026-11-26'],
    [2027, '2027-11-25'],
    [2028, '2028-11-23'],
    [2029, '2029-11-22'],
    [2030, '2030-11-28'],
  ])('fourth Thursday of November %i: %s, and the day after', (year, date) => {
    const s = schedule({
      holidayRules: [
        { kind: 'weekday-of-month', name: 'Thanksgiving', month: 11, weekday: 'thursday', nth: 4 },
        {
          kind: 'weekday-of-month',
          name: 'Day after Thanksgiving',
          month: 11,
          weekday: 'thursday',
          nth: 4,
          offsetDays: 1,
        },
      ],
    });
    const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect(holidaysBetween(s, `${year}-11-01`, `${year}-11-30`)).toEqual([
      { date, name: 'Thanksgiving' },
      { date: next, name: 'Day after Thanksgiving' },
    ]);
  });

  it('the last weekday of a month, and an offset that crosses into another month', () => {
    const s = schedule({
      holidayRules: [
        {
          kind: 'weekday-of-month',
          name: 'Last Friday of February',
          month: 2,
          weekday: 'friday',
          nth: 'last',
        },
        {
          kind: 'weekday-of-month',
          name: 'Before Labor Day',
          month: 9,
          weekday: 'monday',
          nth: 1,
          offsetDays: -3,
        },
      ],
    });
    expect(holidaysBetween(s, '2028-01-01', '2028-12-31')).toEqual([
      { date: '2028-02-25', name: 'Last Friday of February' },
      // Labor Day 2028 is Monday 4 September: three days before is Friday 1 September.
      { date: '2028-09-01', name: 'Before Labor Day' },
    ]);
    expect(holidaysBetween(s, '2026-08-01', '2026-09-30')).toEqual([
      // Labor Day 2026 is Monday 7 September.
      { date: '2026-09-04', name: 'Before Labor Day' },
    ]);
    expect(holidaysBetween(s, '2025-08-01', '2025-08-31')).toEqual([
      // Labor Day 2025 is Monday 1 September: three days before is in August.
      { date: '2025-08-29', name: 'Before Labor Day' },
    ]);
  });

  it.each([
    // 2027: 25 December is a Saturday; 2022: a Sunday; 2026: a Friday.
    { observed: 'nearest-weekday', year: 2027, dates: ['2027-12-24', '2027-12-25'] },
    { observed: 'following-monday', year: 2027, dates: ['2027-12-25', '2027-12-27'] },
    { observed: 'none', year: 2027, dates: ['2027-12-25'] },
    { observed: 'nearest-weekday', year: 2022, dates: ['2022-12-25', '2022-12-26'] },
    { observed: 'following-monday', year: 2022, dates: ['2022-12-25', '2022-12-26'] },
    { observed: 'nearest-weekday', year: 2026, dates: ['2026-12-25'] },
  ])('a fixed date observed "$observed" in $year: $dates', ({ observed, year, dates }) => {
    const s = schedule({ holidayRules: [{ kind: 'date', name: 'Christmas', month: 12, day: 25, observed }] });
    expect(holidaysBetween(s, `${year}-12-01`, `${year}-12-31`).map((h) => h.date)).toEqual(dates);
  });

  it('an observed day crosses New Year: 1 January 2028 (Saturday) is observed on 31 December 2027', () => {
    const s = schedule({
      holidayRules: [{ kind: 'date', name: 'New Year', month: 1, day: 1, observed: 'nearest-weekday' }],
    });
    expect(holidayOn(s, '2027-12-31')).toBe('New Year (observed)');
    expect(holidaysBetween(s, '2027-12-01', '2028-01-31').map((h) => h.date)).toEqual([
      '2027-12-31',
      '2028-01-01',
    ]);
  });

  it('explicit dates add to the rules, notHolidays take a rule date away, only and except pick', () => {
    const s = schedule({
      holidayRules: [
        { kind: 'public-holidays', calendar: 'us-federal', except: ['columbus-day', 'veterans-day'] },
      ],
      holidays: ['2026-12-24'],
      notHolidays: ['2026-06-19'],
    });
    const days = holidaysBetween(s, '2026-06-01', '2026-12-31');
    expect(days.map((h) => h.date)).toEqual([
      '2026-07-03',
      '2026-07-04',
      '2026-09-07',
      '2026-11-26',
      '2026-12-24',
      '2026-12-25',
    ]);
    expect(days.find((h) => h.date === '2026-12-24')?.name).toBe('listed in holidays');
    const only = schedule({
      holidayRules: [{ kind: 'public-holidays', calendar: 'us-federal', only: ['thanksgiving-day'] }],
    });
    expect(holidaysBetween(only, '2026-01-01', '2026-12-31')).toEqual([
      { date: '2026-11-26', name: 'Thanksgiving Day' },
    ]);
  });

  it('two rules on one date: one holiday, both names', () => {
    const s = schedule({
      holidayRules: [
        { kind: 'public-holidays', calendar: 'us-federal', only: ['christmas-day'] },
        { kind: 'date', name: 'Company day', month: 12, day: 25 },
      ],
    });
    expect(holidaysBetween(s, '2026-12-25', '2026-12-25')).toEqual([
      { date: '2026-12-25', name: 'Christmas Day; Company day' },
    ]);
  });

  it('is deterministic: the same answer whatever was asked before, equal to a fresh evaluation', () => {
    const input = {
      holidayRules: [{ kind: 'public-holidays', calendar: 'us-federal' }],
      holidays: ['2031-03-17'],
    };
    const warm = scheduleSchema.parse(input);
    holidaysBetween(warm, '2020-01-01', '2040-12-31');
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2020-01-01'), max: new Date('2040-12-31'), noInvalidDate: true }),
        (d) => {
          const date = d.toISOString().slice(0, 10);
          expect(holidayOn(warm, date)).toBe(holidayOn(scheduleSchema.parse(input), date));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    [{ month: 11, weekday: 'thursday', nth: 4 }, 'fourth Thursday of November'],
    [{ month: 5, weekday: 'monday', nth: 'last' }, 'last Monday of May'],
    [
      { month: 11, weekday: 'thursday', nth: 4, offsetDays: 1 },
      '1 day after the fourth Thursday of November',
    ],
  ] as const)('describes %j as "%s"', (rule, words) => {
    expect(describeWeekdayRule(rule)).toBe(words);
  });
});

describe('the "no holiday ahead" warning', () => {
  it('fires when a list of dates has run out, naming its last date', () => {
    const listOnly = scheduleSchema.parse({
      holidays: ['2026-05-25', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25', '2027-01-01'],
    });
    expect(noHolidayAheadWarning(listOnly, '2026-12-31')).toBeUndefined();
    expect(noHolidayAheadWarning(listOnly, '2027-01-02')).toMatch(
      /^the scaling calendar has no holiday in the 12 months from 2027-01-02, .*\(the last date in schedule\.holidays is 2027-01-01\): add holidayRules/,
    );
  });

  it('counts only holidays on working days: a Saturday 4 July does not, the Friday it is observed on does', () => {
    const july = scheduleSchema.parse({
      holidayRules: [{ kind: 'date', name: 'Fourth', month: 7, day: 4, observed: 'none' }],
    });
    // 4 July 2026 and 2027 are a Saturday and a Sunday; 2028's a Tuesday.
    expect(holidaysInNextYear(july, '2026-01-01')).toEqual([]);
    expect(noHolidayAheadWarning(july, '2026-01-01')).toContain(
      'no holiday in the 12 months from 2026-01-01',
    );
    expect(holidaysInNextYear(july, '2027-08-01')).toEqual([{ date: '2028-07-04', name: 'Fourth' }]);
    const observed = scheduleSchema.parse({
      holidayRules: [{ kind: 'date', name: 'Fourth', month: 7, day: 4, observed: 'nearest-weekday' }],
    });
    expect(holidaysInNextYear(observed, '2026-01-01')).toEqual([
      { date: '2026-07-03', name: 'Fourth (observed)' },
    ]);
  });

  it('looks exactly a year ahead, today included', () => {
    const one = scheduleSchema.parse({ holidays: ['2027-03-01'] });
    expect(holidaysInNextYear(one, '2026-03-02')).toEqual([
      { date: '2027-03-01', name: 'listed in holidays' },
    ]);
    expect(holidaysInNextYear(one, '2026-03-01')).toEqual([]);
    expect(holidaysInNextYear(one, '2027-03-01')).toHaveLength(1);
  });

  it('fires for a calendar with no holidays at all', () => {
    expect(noHolidayAheadWarning(scheduleSchema.parse({}), '2026-06-01')).toContain(
      'no holiday in the 12 months',
    );
  });

  it('the seed config as it was (dates to 2027-01-01) warns from 2 January 2027; as rules it does not', () => {
    const asRules = scheduleSchema.parse(seed004ScalingConfig.schedule);
    expect(noHolidayAheadWarning(asRules, '2027-01-02')).toBeUndefined();
  });
});
