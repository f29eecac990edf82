import { DateTime } from 'luxon';
import { seed004ScalingConfig } from '../config/seed-004.js';
import { parseConfig } from '../lambdas/core/contracts/validation.js';
import {
  activeProfileAt,
  type HolidayOutlook,
  holidayOutlook,
  nextTransitions,
  type ProfileDecision,
  type TransitionOccurrence,
} from '../lambdas/core/scaling/calendar.js';
import { type ScalingConfig, scalingConfigSchema } from '../lambdas/core/scaling/config.js';
import { COMMON_OPTIONS, instant, parseCommandArgs, positiveInt } from './args.js';
import { readConfigSection } from './config-file.js';
import { CliError, EXIT } from './errors.js';
import { type CliIo, CliOutput, heading, renderTable } from './output.js';
import { SCHEDULE_USAGE } from './usage.js';

const SCHEDULE_OPTIONS = {
  ...COMMON_OPTIONS,
  config: { type: 'string' },
  days: { type: 'string' },
  from: { type: 'string' },
} as const;

/** The scaling section of --config, validated with the scaler's own schema. */
export const loadScalingConfig = async (file: string): Promise<ScalingConfig> => {
  const section = await readConfigSection(file, 'scaling');
  if (section === undefined) throw new CliError(`--config ${file} has no "scaling" section`);
  return parseConfig(scalingConfigSchema, section, `--config ${file} (scaling)`);
};

/** The scaling section of --config, or seed 004's when no file is given (and says so). */
export const scalingConfigOrSeed = async (
  file: string | undefined,
  out: CliOutput,
): Promise<{ config: ScalingConfig; source: string }> => {
  if (file) return { config: await loadScalingConfig(file), source: file };
  out.progress(
    "No --config: using seed 004's scaling config (America/New_York, 07:00 peak, 18:00 off-hours)",
  );
  return { config: scalingConfigSchema.parse(seed004ScalingConfig), source: 'seed 004 (built in)' };
};

export interface SchedulePreviewResult {
  readonly command: 'schedule';
  readonly configSource: string;
  readonly timeZone: string;
  readonly from: string;
  readonly to: string;
  readonly now: ProfileDecision;
  readonly transitions: readonly TransitionOccurrence[];
  /** The holidays of the 12 months from `from`. */
  readonly holidays: HolidayOutlook;
  /** Things to fix in the config (a calendar with no holiday ahead). */
  readonly warnings: readonly string[];
}

/** The calendar's transitions in [from, from + days), with the profile active at `now`. */
export const previewSchedule = (
  config: ScalingConfig,
  from: Date,
  days: number,
  now: Date,
  configSource: string,
): SchedulePreviewResult => {
  const to = new Date(from.getTime() + days * 86_400_000);
  const holidays = holidayOutlook(config.schedule, from);
  return {
    command: 'schedule',
    configSource,
    timeZone: config.schedule.timeZone,
    from: from.toISOString(),
    to: to.toISOString(),
    now: activeProfileAt(config.schedule, now),
    transitions: nextTransitions(config.schedule, from, to),
    holidays,
    warnings: holidays.warning ? [holidays.warning] : [],
  };
};

const localDay = (date: string): string => DateTime.fromISO(date).toFormat('ccc yyyy-MM-dd');

const noteOf = (t: TransitionOccurrence): string => {
  const notes: string[] = [];
  if (t.holiday) notes.push(`HOLIDAY: stays ${t.effectiveProfile} (scheduled ${t.scheduledProfile})`);
  if (t.inDstGap) notes.push(`${t.at} does not exist that day (DST): the drift check applies it`);
  return notes.join('; ');
};

export const renderSchedule = (preview: SchedulePreviewResult): string => {
  const zone = preview.timeZone;
  const rows = preview.transitions.map((t) => [
    `${t.weekday} ${t.localDate}`,
    DateTime.fromISO(t.atLocal, { setZone: true }).toFormat('HH:mm ZZZZ'),
    DateTime.fromISO(t.atUtc, { zone: 'utc' }).toFormat("yyyy-MM-dd HH:mm 'UTC'"),
    t.effectiveProfile,
    noteOf(t),
  ]);
  const lines = [
    `Time zone ${zone}. Now: ${preview.now.profile} (${preview.now.reason}).`,
    '',
    rows.length > 0
      ? renderTable(['DAY', 'LOCAL', 'UTC', 'PROFILE', 'NOTE'], rows)
      : 'No transitions in this range (weekend or holidays only).',
  ];
  const holidays = preview.transitions.filter((t) => t.holiday).length;
  lines.push(
    '',
    `${preview.transitions.length} transitions from ${preview.from} to ${preview.to}${holidays > 0 ? `, ${holidays} on holidays` : ''}. Weekends stay on the non-working-day profile all day.`,
  );
  const named = new Map(
    preview.transitions.flatMap((t) => (t.holidayName ? [[t.localDate, t.holidayName] as const] : [])),
  );
  if (named.size > 0) {
    lines.push(`Holidays: ${[...named].map(([date, name]) => `${localDay(date)} ${name}`).join('; ')}.`);
  }
  const outlook = preview.holidays;
  lines.push(
    outlook.next
      ? `Next holiday: ${localDay(outlook.next.date)} ${outlook.next.name} (${outlook.next12Months} in the 12 months from ${outlook.from}).`
      : `NO HOLIDAY in the 12 months from ${outlook.from}: see the warning.`,
  );
  return lines.join('\n');
};

export const runScheduleCommand = async (args: readonly string[], io: CliIo): Promise<number> => {
  const values = parseCommandArgs(args, SCHEDULE_OPTIONS, 'schedule', SCHEDULE_USAGE);
  const out = new CliOutput(io, values.json === true);
  if (values.help) {
    io.stdout(`${SCHEDULE_USAGE}\n`);
    return EXIT.ok;
  }
  const days = values.days === undefined ? 7 : positiveInt(values.days, '--days', SCHEDULE_USAGE, 62);
  const now = new Date();
  const from = values.from === undefined ? now : instant(values.from, '--from', SCHEDULE_USAGE);
  const { config, source } = await scalingConfigOrSeed(values.config, out);
  const preview = previewSchedule(config, from, days, now, source);
  for (const warning of preview.warnings) out.warn(warning);
  if (out.json) out.document(preview);
  else {
    out.print(heading(`Scaling schedule, next ${days} day(s) (${source})`));
    out.print(renderSchedule(preview));
  }
  return EXIT.ok;
};
