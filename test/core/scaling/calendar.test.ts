import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { activeProfileAt, nextTransitions, upcomingChange } from '../../../lambdas/core/scaling/calendar.js';
import { scheduleSchema } from '../../../lambdas/core/scaling/config.js';
import { holidayOn } from '../../../lambdas/core/scaling/holidays.js';
import { at, seedConfig } from './fixtures.js';

const schedule = seedConfig().schedule;
const ZONE = 'America/New_York';

describe('activeProfileAt', () => {
  it.each([
    // [instant (UTC), expected profile, day kind, why]
    ['2026-03-06T11:59:00Z', 'off-hours', 'working-day', 'Fri 06:59 EST'],
    ['2026-03-06T12:00:00Z', 'peak', 'working-day', 'Fri 07:00 EST'],
    ['2026-03-06T22:59:00Z', 'peak', 'working-day', 'Fri 17:59 EST'],
    ['2026-03-06T23:00:00Z', 'off-hours', 'working-day', 'Fri 18:00 EST'],
    ['2026-03-08T07:30:00Z', 'off-hours', 'weekend', 'Sun Mar 8, DST starts at 02:00'],
    ['2026-03-09T10:59:00Z', 'off-hours', 'working-day', 'Mon 06:59 EDT'],
    ['2026-03-09T11:00:00Z', 'peak', 'working-day', 'Mon 07:00 EDT, an hour earlier in UTC than Friday'],
    ['2026-03-09T21:59:00Z', 'peak', 'working-day', 'Mon 17:59 EDT'],
    ['2026-03-09T22:00:00Z', 'off-hours', 'working-day', 'Mon 18:00 EDT'],
    ['2026-10-30T11:00:00Z', 'peak', 'working-day', 'Fri 07:00 EDT'],
    ['2026-11-02T11:00:00Z', 'off-hours', 'working-day', 'Mon 06:00 EST after DST ends on Nov 1'],
    ['2026-11-02T12:00:00Z', 'peak', 'working-day', 'Mon 07:00 EST'],
    ['2026-11-02T22:30:00Z', 'peak', 'working-day', 'Mon 17:30 EST'],
    ['2026-11-02T23:00:00Z', 'off-hours', 'working-day', 'Mon 18:00 EST'],
    ['2027-03-15T11:00:00Z', 'peak', 'working-day', 'Mon 07:00 EDT after Mar 14 2027'],
    ['2027-03-12T11:30:00Z', 'off-hours', 'working-day', 'Fri 06:30 EST before Mar 14 2027'],
    ['2027-11-05T11:00:00Z', 'peak', 'working-day', 'Fri 07:00 EDT before Nov 7 2027'],
    ['2027-11-08T11:30:00Z', 'off-hours', 'working-day', 'Mon 06:30 EST after Nov 7 2027'],
    ['2027-11-08T12:00:00Z', 'peak', 'working-day', 'Mon 07:00 EST after Nov 7 2027'],
    ['2026-12-25T15:00:00Z', 'off-hours', 'holiday', 'Christmas, a Friday'],
    ['2026-12-26T15:00:00Z', 'off-hours', 'weekend', 'Saturday noon'],
  ])('%s is %s (%s): %s', (instant, profile, dayKind) => {
    const decision = activeProfileAt(schedule, at(instant));
    expect(decision.profile).toBe(profile);
    expect(decision.dayKind).toBe(dayKind);
    expect(decision.source).toBe('calendar');
  });

  it('explains the decision in local time', () => {
    expect(activeProfileAt(schedule, at('2026-03-09T11:00:00Z')).reason).toBe(
      'working day: peak since 07:00 EDT',
    );
    expect(activeProfileAt(schedule, at('2026-11-02T12:00:00Z')).reason).toBe(
      'working day: peak since 07:00 EST',
    );
    expect(activeProfileAt(schedule, at('2026-12-25T15:00:00Z')).reason).toBe(
      '2026-12-25 is a holiday (Christmas Day): off-hours all day',
    );
    expect(activeProfileAt(schedule, at('2026-03-09T10:00:00Z')).reason).toMatch(/before 07:00: off-hours/);
  });

  it('lets an override win until it expires, then says it expired', () => {
    const override = {
      profile: 'peak',
      until: '2026-12-26T03:00:00.000Z',
      reason: 'release crunch',
      setAt: '2026-12-24T12:00:00.000Z',
    };
    const during = activeProfileAt(schedule, at('2026-12-25T15:00:00Z'), override);
    expect(during).toMatchObject({ profile: 'peak', source: 'override', dayKind: 'holiday', override });
    expect(during.reason).toContain('release crunch');
    const atExpiry = activeProfileAt(schedule, at('2026-12-26T03:00:00Z'), override);
    expect(atExpiry).toMatchObject({ profile: 'off-hours', source: 'calendar' });
    expect(atExpiry.reason).toContain('expired at 2026-12-26T03:00:00.000Z');
  });
});

describe('nextTransitions', () => {
  it('lists the 2026 spring-forward week: 07:00 local moves from 12:00Z to 11:00Z', () => {
    const list = nextTransitions(schedule, at('2026-03-06T00:00:00Z'), at('2026-03-10T00:00:00Z'));
    expect(list.map((t) => [t.atUtc, t.atLocal, t.weekday, t.scheduledProfile])).toEqual([
      ['2026-03-06T12:00:00.000Z', '2026-03-06T07:00:00.000-05:00', 'Fri', 'peak'],
      ['2026-03-06T23:00:00.000Z', '2026-03-06T18:00:00.000-05:00', 'Fri', 'off-hours'],
      ['2026-03-09T11:00:00.000Z', '2026-03-09T07:00:00.000-04:00', 'Mon', 'peak'],
      ['2026-03-09T22:00:00.000Z', '2026-03-09T18:00:00.000-04:00', 'Mon', 'off-hours'],
    ]);
  });

  it.each([
    ['2026-10-30', '2026-11-02', ['2026-10-30T11:00:00.000Z', '2026-11-02T12:00:00.000Z']],
    ['2027-03-12', '2027-03-15', ['2027-03-12T12:00:00.000Z', '2027-03-15T11:00:00.000Z']],
    ['2027-11-05', '2027-11-08', ['2027-11-05T11:00:00.000Z', '2027-11-08T12:00:00.000Z']],
  ])('keeps 07:00 local across the DST change between %s and %s', (friday, monday, expected) => {
    const list = nextTransitions(schedule, at(`${friday}T00:00:00Z`), at(`${monday}T23:59:00Z`)).filter(
      (t) => t.at === '07:00',
    );
    expect(list.map((t) => t.atUtc)).toEqual(expected);
    expect(list.every((t) => t.atLocal.includes('T07:00:00.000'))).toBe(true);
  });

  it('marks holidays: the schedule fires but the profile stays off-hours', () => {
    const list = nextTransitions(schedule, at('2026-12-24T00:00:00Z'), at('2026-12-26T00:00:00Z'));
    expect(list.map((t) => [t.localDate, t.scheduledProfile, t.effectiveProfile, t.holiday])).toEqual([
      ['2026-12-24', 'peak', 'peak', false],
      ['2026-12-24', 'off-hours', 'off-hours', false],
      ['2026-12-25', 'peak', 'off-hours', true],
      ['2026-12-25', 'off-hours', 'off-hours', true],
    ]);
  });

  it('moves a time in the spring-forward gap to the first valid instant (marked) and resolves an ambiguous time once', () => {
    const everyDay = scheduleSchema.parse({
      weekendDays: [],
      weekdayTransitions: [
        { at: '01:30', profile: 'off-hours' },
        { at: '02:30', profile: 'peak' },
      ],
    });
    const spring = nextTransitions(everyDay, at('2026-03-08T00:00:00Z'), at('2026-03-08T12:00:00Z'));
    expect(spring.map((t) => [t.atLocal, t.inDstGap])).toEqual([
      ['2026-03-08T01:30:00.000-05:00', false],
      ['2026-03-08T03:30:00.000-04:00', true],
    ]);
    expect(activeProfileAt(everyDay, at('2026-03-08T07:29:00Z')).profile).toBe('off-hours');
    expect(activeProfileAt(everyDay, at('2026-03-08T07:30:00Z')).profile).toBe('peak');
    const fall = nextTransitions(everyDay, at('2026-11-01T00:00:00Z'), at('2026-11-01T12:00:00Z'));
    expect(fall.map((t) => t.atUtc)).toEqual(['2026-11-01T06:30:00.000Z', '2026-11-01T07:30:00.000Z']);
    expect(fall.every((t) => !t.inDstGap)).toBe(true);
  });

  it('lists a full year of working days: two transitions per non-weekend day', () => {
    const list = nextTransitions(schedule, at('2026-01-01T05:00:00Z'), at('2027-01-01T05:00:00Z'));
    expect(list).toHaveLength(261 * 2);
    for (const t of list) {
      const local = DateTime.fromISO(t.atUtc, { zone: ZONE });
      expect(local.toFormat('HH:mm')).toBe(t.at);
      expect(local.weekday).toBeLessThan(6);
    }
  });
});

describe('upcomingChange', () => {
  it('sees the peak transition within the 30-minute lead, not before', () => {
    expect(upcomingChange(schedule, at('2026-03-09T10:29:00Z'))).toBeUndefined();
    expect(upcomingChange(schedule, at('2026-03-09T10:30:00Z'))?.atUtc).toBe('2026-03-09T11:00:00.000Z');
    expect(upcomingChange(schedule, at('2026-03-09T10:59:00Z'))?.effectiveProfile).toBe('peak');
    expect(upcomingChange(schedule, at('2026-03-09T11:00:00Z'))).toBeUndefined();
  });

  it('ignores holidays and overrides that outlast the transition', () => {
    expect(upcomingChange(schedule, at('2026-12-25T11:45:00Z'))).toBeUndefined();
    const override = {
      profile: 'off-hours',
      until: '2026-03-09T13:00:00Z',
      reason: 'x',
      setAt: '2026-03-09T00:00:00Z',
    };
    expect(upcomingChange(schedule, at('2026-03-09T10:45:00Z'), override)).toBeUndefined();
    const shortOverride = { ...override, until: '2026-03-09T10:50:00Z' };
    expect(upcomingChange(schedule, at('2026-03-09T10:45:00Z'), shortOverride)?.effectiveProfile).toBe(
      'peak',
    );
  });
});

describe('calendar properties', () => {
  const instant = fc
    .date({
      min: new Date('2026-01-01T00:00:00Z'),
      max: new Date('2028-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => new Date(Math.floor(d.getTime() / 60_000) * 60_000));

  it('weekends and holidays are always off-hours, whatever the time', () => {
    fc.assert(
      fc.property(instant, (now) => {
        const local = DateTime.fromJSDate(now, { zone: ZONE });
        const withHoliday = { ...schedule, holidays: [local.toISODate() ?? ''] };
        expect(activeProfileAt(withHoliday, now)).toMatchObject({ profile: 'off-hours', dayKind: 'holiday' });
        if (local.weekday >= 6) expect(activeProfileAt(schedule, now).profile).toBe('off-hours');
      }),
      { numRuns: 500 },
    );
  });

  it('a working day is peak exactly from 07:00 to 18:00 local', () => {
    fc.assert(
      fc.property(instant, (now) => {
        const local = DateTime.fromJSDate(now, { zone: ZONE });
        fc.pre(local.weekday < 6 && holidayOn(schedule, local.toISODate() ?? '') === undefined);
        const minutes = local.hour * 60 + local.minute;
        const expected = minutes >= 7 * 60 && minutes < 18 * 60 ? 'peak' : 'off-hours';
        expect(activeProfileAt(schedule, now).profile).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('an override wins until it expires, and never after', () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: -600, max: 600 }),
        fc.constantFrom('peak', 'off-hours'),
        (now, minutes, profile) => {
          const until = new Date(now.getTime() + minutes * 60_000).toISOString();
          const decision = activeProfileAt(schedule, now, {
            profile,
            until,
            reason: 'test',
            setAt: now.toISOString(),
          });
          if (minutes > 0) expect(decision).toMatchObject({ profile, source: 'override' });
          else expect(decision).toEqual({ ...activeProfileAt(schedule, now), reason: expect.any(String) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the profile only changes at listed transitions', () => {
    fc.assert(
      fc.property(instant, (now) => {
        const later = new Date(now.getTime() + 6 * 3600_000);
        const before = activeProfileAt(schedule, now).profile;
        const after = activeProfileAt(schedule, later).profile;
        const between = nextTransitions(schedule, new Date(now.getTime() + 1), new Date(later.getTime() + 1));
        if (before !== after) expect(between.length).toBeGreaterThan(0);
        const last = between.filter((t) => !t.holiday).at(-1);
        const local = DateTime.fromJSDate(later, { zone: ZONE });
        const dayOff = local.weekday >= 6 || holidayOn(schedule, local.toISODate() ?? '') !== undefined;
        if (last && !dayOff && last.localDate === local.toISODate())
          expect(after).toBe(last.effectiveProfile);
      }),
      { numRuns: 300 },
    );
  });
});
