import type { HolidayRule, ScheduleConfig } from './config.js';

/**
 * Holidays as rules that do not run out: a country's public holidays (the US federal calendar is
 * built in), rules like "fourth Thursday of November" or "4 July, observed on the nearest weekday",
 * and explicit dates added (`holidays`) or taken away (`notHolidays`). Pure and deterministic: a
 * date's holiday depends only on the config and the date (civil dates, no time zone: the calendar
 * asks with the local date in the schedule's zone).
 *
 * Why not a library: `date-holidays` (npm) covers every country and state with observed days, but
 * bundled it adds 1.4 MB to each scaling Lambda (1.0 MB with US data only: moment-timezone and
 * astronomia come along), three times the scaler's bundle today, and its US "public" set leaves
 * out the Friday a Saturday Veterans Day is observed on (it types that day "bank"). Federal
 * holidays are eleven rules in law; other calendars are a few `date` and `weekday-of-month` rules.
 */

export const WEEKDAY_NAMES = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export type WeekdayName = (typeof WEEKDAY_NAMES)[number];

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/**
 * When a fixed-date holiday falls on a weekend:
 * - `nearest-weekday`: Saturday's is observed the Friday before, Sunday's the Monday after (US
 *   federal: 5 U.S.C. 6103(b), Executive Order 11582);
 * - `following-monday`: Saturday's and Sunday's are observed the Monday after (substitute days in
 *   the UK, Canada and elsewhere; two holidays on one weekend need a rule each);
 * - `none`: only the date itself.
 * The date itself stays a holiday too (a weekend day that is also a holiday is off-hours either way).
 */
export const OBSERVED_RULES = ['none', 'nearest-weekday', 'following-monday'] as const;
export type ObservedRule = (typeof OBSERVED_RULES)[number];

/** One fixed or floating holiday of a built-in calendar. */
interface CalendarHoliday {
  readonly id: string;
  readonly name: string;
  readonly rule:
    | { readonly kind: 'date'; readonly month: number; readonly day: number; readonly observed: ObservedRule }
    | {
        readonly kind: 'weekday-of-month';
        readonly month: number;
        readonly weekday: WeekdayName;
        readonly nth: 1 | 2 | 3 | 4 | 'last';
      };
  /** The first year the holiday is kept. */
  readonly since?: number;
}

/**
 * The US federal holidays, 5 U.S.C. 6103(a), with the observed-day rule of 6103(b) for the
 * fixed-date ones (OPM's "Federal Holidays" page lists the same days, year by year).
 */
export const US_FEDERAL_HOLIDAYS = [
  {
    id: 'new-years-day',
    name: "New Year's Day",
    rule: { kind: 'date', month: 1, day: 1, observed: 'nearest-weekday' },
  },
  {
    id: 'martin-luther-king-jr-day',
    name: 'Birthday of Martin Luther King, Jr.',
    rule: { kind: 'weekday-of-month', month: 1, weekday: 'monday', nth: 3 },
    since: 1986,
  },
  {
    id: 'washingtons-birthday',
    name: "Washington's Birthday",
    rule: { kind: 'weekday-of-month', month: 2, weekday: 'monday', nth: 3 },
  },
  {
    id: 'memorial-day',
    name: 'Memorial Day',
    rule: { kind: 'weekday-of-month', month: 5, weekday: 'monday', nth: 'last' },
  },
  {
    id: 'juneteenth',
    name: 'Juneteenth National Independence Day',
    rule: { kind: 'date', month: 6, day: 19, observed: 'nearest-weekday' },
    since: 2021,
  },
  {
    id: 'independence-day',
    name: 'Independence Day',
    rule: { kind: 'date', month: 7, day: 4, observed: 'nearest-weekday' },
  },
  {
    id: 'labor-day',
    name: 'Labor Day',
    rule: { kind: 'weekday-of-month', month: 9, weekday: 'monday', nth: 1 },
  },
  {
    id: 'columbus-day',
    name: 'Columbus Day',
    rule: { kind: 'weekday-of-month', month: 10, weekday: 'monday', nth: 2 },
  },
  {
    id: 'veterans-day',
    name: 'Veterans Day',
    rule: { kind: 'date', month: 11, day: 11, observed: 'nearest-weekday' },
  },
  {
    id: 'thanksgiving-day',
    name: 'Thanksgiving Day',
    rule: { kind: 'weekday-of-month', month: 11, weekday: 'thursday', nth: 4 },
  },
  {
    id: 'christmas-day',
    name: 'Christmas Day',
    rule: { kind: 'date', month: 12, day: 25, observed: 'nearest-weekday' },
  },
] as const satisfies readonly CalendarHoliday[];

export type UsFederalHolidayId = (typeof US_FEDERAL_HOLIDAYS)[number]['id'];
export const US_FEDERAL_HOLIDAY_IDS = US_FEDERAL_HOLIDAYS.map((h) => h.id) as [
  UsFederalHolidayId,
  ...UsFederalHolidayId[],
];

/** The built-in public-holiday calendars, by the name a rule gives. */
export const PUBLIC_HOLIDAY_CALENDARS = { 'us-federal': US_FEDERAL_HOLIDAYS } as const;
export type PublicHolidayCalendar = keyof typeof PUBLIC_HOLIDAY_CALENDARS;

/** A holiday on a date: its name, and why (the rule, or "listed"). */
export interface Holiday {
  /** YYYY-MM-DD, a civil date in the schedule's zone. */
  readonly date: string;
  readonly name: string;
}

// Civil-date arithmetic on UTC midnights: no zone, no DST, the same answer everywhere.
const utc = (year: number, month: number, day: number): Date => new Date(Date.UTC(year, month - 1, day));
const isoOf = (d: Date): string => d.toISOString().slice(0, 10);
/** ISO weekday, 1 = Monday … 7 = Sunday. */
const isoWeekday = (d: Date): number => ((d.getUTCDay() + 6) % 7) + 1;
const plusDays = (d: Date, days: number): Date => new Date(d.getTime() + days * 86_400_000);
const daysInMonth = (year: number, month: number): number => utc(year, month + 1, 0).getUTCDate();

/** The nth (or last) `weekday` of a month. */
const weekdayOfMonth = (year: number, month: number, weekday: WeekdayName, nth: number | 'last'): Date => {
  const target = WEEKDAY_NAMES.indexOf(weekday) + 1;
  if (nth === 'last') {
    const last = utc(year, month, daysInMonth(year, month));
    return plusDays(last, -((isoWeekday(last) - target + 7) % 7));
  }
  const first = utc(year, month, 1);
  return plusDays(first, ((target - isoWeekday(first) + 7) % 7) + (nth - 1) * 7);
};

/** The day a weekend holiday is observed on, or undefined when it is not moved. */
const observedDay = (date: Date, observed: ObservedRule): Date | undefined => {
  const weekday = isoWeekday(date);
  if (observed === 'none' || weekday < 6) return undefined;
  if (observed === 'nearest-weekday') return plusDays(date, weekday === 6 ? -1 : 1);
  return plusDays(date, weekday === 6 ? 2 : 1);
};

const fixedDate = (
  year: number,
  rule: { month: number; day: number; observed: ObservedRule },
  name: string,
): Holiday[] => {
  const date = utc(year, rule.month, rule.day);
  const moved = observedDay(date, rule.observed);
  return [
    { date: isoOf(date), name },
    ...(moved ? [{ date: isoOf(moved), name: `${name} (observed)` }] : []),
  ];
};

const ordinal = (nth: number | 'last'): string =>
  nth === 'last' ? 'last' : (['first', 'second', 'third', 'fourth'][nth - 1] ?? `${nth}th`);

/** "fourth Thursday of November", "last Monday of May + 1 day": a rule in words, for names and docs. */
export const describeWeekdayRule = (rule: {
  month: number;
  weekday: WeekdayName;
  nth: number | 'last';
  offsetDays?: number | undefined;
}): string => {
  const base = `${ordinal(rule.nth)} ${rule.weekday[0]?.toUpperCase()}${rule.weekday.slice(1)} of ${MONTH_NAMES[rule.month - 1]}`;
  const offset = rule.offsetDays ?? 0;
  if (offset === 0) return base;
  return `${Math.abs(offset)} day${Math.abs(offset) === 1 ? '' : 's'} ${offset > 0 ? 'after' : 'before'} the ${base}`;
};

/** The holidays one rule gives for its occurrence in `year` (an observed day may fall in another year). */
export const holidaysOfRule = (rule: HolidayRule, year: number): Holiday[] => {
  switch (rule.kind) {
    case 'public-holidays': {
      const calendar: readonly CalendarHoliday[] = PUBLIC_HOLIDAY_CALENDARS[rule.calendar];
      const only = rule.only as readonly string[] | undefined;
      const except = rule.except as readonly string[];
      return calendar
        .filter((h) => (only ? only.includes(h.id) : !except.includes(h.id)))
        .filter((h) => h.since === undefined || year >= h.since)
        .flatMap((h) =>
          h.rule.kind === 'date'
            ? fixedDate(year, h.rule, h.name)
            : [{ date: isoOf(weekdayOfMonth(year, h.rule.month, h.rule.weekday, h.rule.nth)), name: h.name }],
        );
    }
    case 'date':
      return fixedDate(year, rule, rule.name);
    case 'weekday-of-month':
      return [
        {
          date: isoOf(plusDays(weekdayOfMonth(year, rule.month, rule.weekday, rule.nth), rule.offsetDays)),
          name: rule.name,
        },
      ];
    default: {
      const unknown: never = rule;
      throw new Error(`unknown holiday rule ${JSON.stringify(unknown)}`);
    }
  }
};

type HolidaySource = Pick<ScheduleConfig, 'holidays' | 'holidayRules' | 'notHolidays'>;

/**
 * Every holiday in one calendar year, by date: the rules' (the years either side included, for
 * observed days and offsets that cross New Year), the listed dates, less `notHolidays`.
 */
const computeYear = (source: HolidaySource, year: number): Map<string, string> => {
  const byDate = new Map<string, string>();
  const prefix = `${String(year).padStart(4, '0')}-`;
  for (const rule of source.holidayRules) {
    for (const y of [year - 1, year, year + 1]) {
      for (const h of holidaysOfRule(rule, y)) {
        if (!h.date.startsWith(prefix)) continue;
        const already = byDate.get(h.date);
        byDate.set(h.date, already && already !== h.name ? `${already}; ${h.name}` : h.name);
      }
    }
  }
  for (const date of source.holidays) {
    if (date.startsWith(prefix) && !byDate.has(date)) byDate.set(date, 'listed in holidays');
  }
  for (const date of source.notHolidays) byDate.delete(date);
  return new Map([...byDate].sort(([a], [b]) => a.localeCompare(b)));
};

/** Years already worked out, per schedule object (configs are parsed once and not changed). */
const years = new WeakMap<HolidaySource, Map<number, Map<string, string>>>();

const holidaysOfYear = (source: HolidaySource, year: number): Map<string, string> => {
  let cache = years.get(source);
  if (!cache) {
    cache = new Map();
    years.set(source, cache);
  }
  let found = cache.get(year);
  if (!found) {
    found = computeYear(source, year);
    cache.set(year, found);
  }
  return found;
};

/** The holiday's name when `date` (YYYY-MM-DD, local) is a holiday, else undefined. */
export const holidayOn = (source: HolidaySource, date: string): string | undefined =>
  holidaysOfYear(source, Number(date.slice(0, 4))).get(date);

/** Every holiday from `from` to `to` (YYYY-MM-DD, both included), in order. */
export const holidaysBetween = (source: HolidaySource, from: string, to: string): Holiday[] => {
  const found: Holiday[] = [];
  for (let year = Number(from.slice(0, 4)); year <= Number(to.slice(0, 4)); year++) {
    for (const [date, name] of holidaysOfYear(source, year)) {
      if (date >= from && date <= to) found.push({ date, name });
    }
  }
  return found;
};

/** The window the "no holiday ahead" check looks at: a year, from the local date of `today`. */
export const HOLIDAY_LOOKAHEAD_DAYS = 365;

/**
 * The holidays in the 12 months from `today` (YYYY-MM-DD, local), today included, that fall on a
 * working day: the ones that change what the scaler does (4 July on a Saturday does not; the
 * Friday it is observed on does).
 */
export const holidaysInNextYear = (
  source: HolidaySource & Pick<ScheduleConfig, 'weekendDays'>,
  today: string,
): Holiday[] => {
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const end = isoOf(plusDays(utc(y, m, d), HOLIDAY_LOOKAHEAD_DAYS - 1));
  return holidaysBetween(source, today, end).filter(
    (h) => !source.weekendDays.includes(isoWeekday(new Date(`${h.date}T00:00:00Z`))),
  );
};

/**
 * The warning when the calendar has no holiday on a working day in the next 12 months: most
 * likely a list of dates that ran out, after which every holiday would run at peak capacity.
 */
export const noHolidayAheadWarning = (
  source: HolidaySource & Pick<ScheduleConfig, 'weekendDays'>,
  today: string,
): string | undefined => {
  if (holidaysInNextYear(source, today).length > 0) return undefined;
  const lastListed = [...source.holidays].sort().at(-1);
  return (
    `the scaling calendar has no holiday in the 12 months from ${today}, so holidays would run the working-day profiles` +
    (lastListed ? ` (the last date in schedule.holidays is ${lastListed})` : '') +
    ': add holidayRules (e.g. {"kind": "public-holidays", "calendar": "us-federal"}) or the coming dates'
  );
};
