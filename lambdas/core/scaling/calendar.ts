import { DateTime } from 'luxon';
import type { ScheduleConfig, TransitionConfig } from './config.js';
import { type Holiday, holidayOn, holidaysInNextYear, noHolidayAheadWarning } from './holidays.js';

/**
 * The scaling calendar: which profile is active at an instant, and when the profile changes.
 * Pure: every function takes the instant it reasons about. All wall-clock arithmetic is done in
 * the schedule's time zone with luxon, so 07:00 stays 07:00 local across DST changes.
 *
 * The rule: a weekend day or a holiday is on the non-working-day profile all day. A working day
 * follows its transitions; before the day's first transition the profile of its last transition
 * applies (the overnight profile, normally off-hours).
 */

/** A profile pinned by an operator until a given instant. */
export interface ScalingOverride {
  readonly profile: string;
  /** ISO 8601 instant; the override no longer applies from this instant on. */
  readonly until: string;
  readonly reason: string;
  /** ISO 8601 instant when it was set. */
  readonly setAt: string;
}

export type DayKind = 'working-day' | 'weekend' | 'holiday';

export interface ProfileDecision {
  readonly profile: string;
  readonly source: 'calendar' | 'override';
  readonly dayKind: DayKind;
  /** `now` in the schedule's zone, e.g. 2026-03-09T07:00:00.000-04:00. */
  readonly localTime: string;
  readonly reason: string;
  /** The override that decided, when source is `override`. */
  readonly override?: ScalingOverride;
}

/** One scheduled transition, as the schedule fires it. */
export interface TransitionOccurrence {
  readonly atUtc: string;
  readonly atLocal: string;
  readonly localDate: string;
  /** Mon, Tue, … in English, for operators. */
  readonly weekday: string;
  /** The configured time, HH:MM local. */
  readonly at: string;
  readonly scheduledProfile: string;
  /** The profile the run will actually choose: the non-working-day one on holidays. */
  readonly effectiveProfile: string;
  readonly holiday: boolean;
  /** What the holiday is (its rule's name, "… (observed)", or "listed in holidays"). */
  readonly holidayName?: string;
  /** The local time does not exist that day (spring forward): the schedule skips it, the drift check applies it. */
  readonly inDstGap: boolean;
}

const toLocal = (schedule: ScheduleConfig, instant: Date): DateTime =>
  DateTime.fromJSDate(instant, { zone: schedule.timeZone });

const dayKindOf = (schedule: ScheduleConfig, local: DateTime): DayKind => {
  if (holidayOn(schedule, local.toISODate() ?? '') !== undefined) return 'holiday';
  if (schedule.weekendDays.includes(local.weekday)) return 'weekend';
  return 'working-day';
};

/**
 * The instant a transition happens on a local day. A time inside a spring-forward gap moves to
 * the first valid instant after it (02:30 becomes 03:30 EDT); an ambiguous fall-back time takes
 * one instant (luxon's choice, the standard-time one). EventBridge Scheduler skips a cron time
 * that does not exist and fires an ambiguous one once; the drift check applies a skipped change.
 */
const instantOn = (schedule: ScheduleConfig, day: DateTime, transition: TransitionConfig): DateTime => {
  const [hour, minute] = transition.at.split(':').map(Number);
  return DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, hour, minute },
    { zone: schedule.timeZone },
  );
};

const zoneLabel = (local: DateTime): string => local.toFormat('HH:mm ZZZZ');

const calendarProfileAt = (schedule: ScheduleConfig, now: Date): ProfileDecision => {
  const local = toLocal(schedule, now);
  const localTime = local.toISO() ?? now.toISOString();
  const dayKind = dayKindOf(schedule, local);
  const date = local.toISODate();
  if (dayKind !== 'working-day') {
    const what =
      dayKind === 'holiday'
        ? `${date} is a holiday (${holidayOn(schedule, date ?? '')})`
        : `${local.toFormat('cccc')} is a weekend day`;
    return {
      profile: schedule.nonWorkingDayProfile,
      source: 'calendar',
      dayKind,
      localTime,
      reason: `${what}: ${schedule.nonWorkingDayProfile} all day`,
    };
  }
  const transitions = schedule.weekdayTransitions;
  let latest: { transition: TransitionConfig; at: DateTime } | undefined;
  for (const transition of transitions) {
    const at = instantOn(schedule, local, transition);
    if (at.toMillis() <= now.getTime()) latest = { transition, at };
  }
  if (latest) {
    return {
      profile: latest.transition.profile,
      source: 'calendar',
      dayKind,
      localTime,
      reason: `working day: ${latest.transition.profile} since ${zoneLabel(latest.at)}`,
    };
  }
  // Validation guarantees at least one transition.
  const first = transitions[0] as TransitionConfig;
  const overnight = transitions[transitions.length - 1] as TransitionConfig;
  return {
    profile: overnight.profile,
    source: 'calendar',
    dayKind,
    localTime,
    reason: `working day before ${first.at}: ${overnight.profile} (the profile after the day's last transition at ${overnight.at})`,
  };
};

/** True while an override still applies at `now`. */
export const overrideApplies = (override: ScalingOverride | undefined, now: Date): boolean =>
  override !== undefined && Date.parse(override.until) > now.getTime();

/** The profile that should be active at `now`: an unexpired override wins, else the calendar. */
export const activeProfileAt = (
  schedule: ScheduleConfig,
  now: Date,
  override?: ScalingOverride,
): ProfileDecision => {
  const calendar = calendarProfileAt(schedule, now);
  if (override !== undefined && overrideApplies(override, now)) {
    return {
      ...calendar,
      profile: override.profile,
      source: 'override',
      override,
      reason: `override to ${override.profile} until ${override.until} ("${override.reason}"); the calendar says ${calendar.profile}`,
    };
  }
  if (override !== undefined) {
    return {
      ...calendar,
      reason: `${calendar.reason} (the override to ${override.profile} expired at ${override.until})`,
    };
  }
  return calendar;
};

/** Every scheduled transition in [from, to), in order, with holidays marked. */
export const nextTransitions = (schedule: ScheduleConfig, from: Date, to: Date): TransitionOccurrence[] => {
  const occurrences: TransitionOccurrence[] = [];
  const last = toLocal(schedule, to).startOf('day');
  for (let day = toLocal(schedule, from).startOf('day'); day <= last; day = day.plus({ days: 1 })) {
    if (schedule.weekendDays.includes(day.weekday)) continue;
    const holidayName = holidayOn(schedule, day.toISODate() ?? '');
    const holiday = holidayName !== undefined;
    for (const transition of schedule.weekdayTransitions) {
      const at = instantOn(schedule, day, transition);
      const millis = at.toMillis();
      if (millis < from.getTime() || millis >= to.getTime()) continue;
      occurrences.push({
        atUtc: at.toUTC().toISO() ?? '',
        atLocal: at.toISO() ?? '',
        localDate: day.toISODate() ?? '',
        weekday: day.toFormat('ccc'),
        at: transition.at,
        scheduledProfile: transition.profile,
        effectiveProfile: holiday ? schedule.nonWorkingDayProfile : transition.profile,
        holiday,
        ...(holidayName !== undefined ? { holidayName } : {}),
        inDstGap: at.toFormat('HH:mm') !== transition.at,
      });
    }
  }
  return occurrences;
};

/**
 * The first transition within (now, now + lead] that changes the calendar profile, if any; holidays
 * don't change it. An override that lasts past that transition hides it (the override wins then).
 */
export const upcomingChange = (
  schedule: ScheduleConfig,
  now: Date,
  override?: ScalingOverride,
): TransitionOccurrence | undefined => {
  if (schedule.preWarmLeadMinutes === 0) return undefined;
  const current = calendarProfileAt(schedule, now).profile;
  const horizon = new Date(now.getTime() + schedule.preWarmLeadMinutes * 60_000 + 1);
  const next = nextTransitions(schedule, new Date(now.getTime() + 1), horizon).find(
    (t) => !t.holiday && t.effectiveProfile !== current,
  );
  if (next === undefined) return undefined;
  if (
    override !== undefined &&
    overrideApplies(override, now) &&
    Date.parse(override.until) > Date.parse(next.atUtc)
  )
    return undefined;
  return next;
};

/** What the calendar holds ahead: a calendar with no holiday for a year has most likely run out. */
export interface HolidayOutlook {
  /** The local date the outlook starts from. */
  readonly from: string;
  /** How many holidays on working days the 12 months from `from` hold (`from` included). */
  readonly next12Months: number;
  readonly next?: Holiday;
  /** Set when the 12 months hold no holiday: what is wrong and what to do. */
  readonly warning?: string;
}

/** The holidays of the 12 months from `now`'s local date, and a warning when there are none. */
export const holidayOutlook = (schedule: ScheduleConfig, now: Date): HolidayOutlook => {
  const from = toLocal(schedule, now).toISODate() ?? now.toISOString().slice(0, 10);
  const ahead = holidaysInNextYear(schedule, from);
  const warning = noHolidayAheadWarning(schedule, from);
  return {
    from,
    next12Months: ahead.length,
    ...(ahead[0] ? { next: ahead[0] } : {}),
    ...(warning ? { warning } : {}),
  };
};
