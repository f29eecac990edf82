/** Autostart schedules as Coder parses them (`coderd/schedule/cron`, `Weekly`). */
import { CronExpressionParser } from 'cron-parser';

export interface ParsedSchedule {
  timezone: string;
  cron: string;
}

/**
 * `CRON_TZ=<tz> <min> <hour> * * <dow>`: five fields, day-of-month and month must be `*`.
 * Returns an error text instead of throwing so callers can build Coder's validation entry.
 */
export function parseWeeklySchedule(raw: string): ParsedSchedule | { error: string } {
  let rest = raw.trim();
  let timezone = 'UTC';
  if (rest.startsWith('CRON_TZ=')) {
    const space = rest.indexOf(' ');
    if (space < 0) return { error: 'expected schedule after CRON_TZ' };
    timezone = rest.slice('CRON_TZ='.length, space);
    rest = rest.slice(space + 1).trim();
  }
  const fields = rest.split(/\s+/);
  if (fields.length !== 5) return { error: `expected 5 fields, got ${fields.length}` };
  if (fields[2] !== '*' || fields[3] !== '*') {
    return { error: 'expected day-of-month and month values to be *' };
  }
  try {
    Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return { error: `unknown time zone ${timezone}` };
  }
  try {
    CronExpressionParser.parse(rest, { tz: timezone });
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  return { timezone, cron: rest };
}

/** The next time the schedule fires strictly after `from`, as RFC 3339. */
export function nextScheduledTime(schedule: string, from: Date): string | null {
  const parsed = parseWeeklySchedule(schedule);
  if ('error' in parsed) return null;
  const expr = CronExpressionParser.parse(parsed.cron, { tz: parsed.timezone, currentDate: from });
  return expr.next().toISOString();
}
