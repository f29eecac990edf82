import { IANAZone } from 'luxon';
import { z } from 'zod';
import {
  OBSERVED_RULES,
  PUBLIC_HOLIDAY_CALENDARS,
  US_FEDERAL_HOLIDAY_IDS,
  WEEKDAY_NAMES,
} from './holidays.js';

/**
 * The node group scaling configuration. The CDK construct validates it at synth (so a bad config
 * fails `cdk synth` naming each bad field) and writes the parsed value, defaults filled in, to the
 * scaler's `SCALING_CONFIG` environment variable, where the handler parses it again with this schema.
 */

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
/** A day that exists in the calendar: 2026-02-30 matches ISO_DATE but is not one. */
const isCalendarDate = (day: string): boolean => {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const parsed = new Date(Date.UTC(year, month - 1, date));
  return (
    parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === date
  );
};
/** Profile names become schedule inputs and metric values: keep them short and plain. */
const PROFILE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

const profileName = z
  .string()
  .regex(
    PROFILE_NAME,
    'must be 1-32 characters of lower-case letters, digits and hyphens, starting with a letter',
  );

/** One group's capacity in one profile. */
export const groupSizesSchema = z
  .strictObject({
    minSize: z.int().min(0),
    maxSize: z.int().min(1, 'must be at least 1 (EKS rejects maxSize 0)'),
    /** Desired size is never set below this in the profile (it is raised to it, never lowered to it). */
    desiredFloor: z.int().min(0).optional(),
  })
  .superRefine((sizes, ctx) => {
    if (sizes.minSize > sizes.maxSize) {
      ctx.addIssue({
        code: 'custom',
        path: ['minSize'],
        message: `must be <= maxSize (${sizes.minSize} > ${sizes.maxSize})`,
      });
    }
    if (sizes.desiredFloor !== undefined && sizes.desiredFloor > sizes.maxSize) {
      ctx.addIssue({
        code: 'custom',
        path: ['desiredFloor'],
        message: `must be <= maxSize (${sizes.desiredFloor} > ${sizes.maxSize})`,
      });
    }
  });
export type GroupSizes = z.output<typeof groupSizesSchema>;

const instanceTypeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type, e.g. m5.2xlarge');

const roleSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('workspaces'),
    /** How many workspaces fit on one node; the running floor is ceil(running / workspacesPerNode). */
    workspacesPerNode: z.int().min(1),
    /** Template names whose workspaces run on this group; absent means every template. */
    templates: z.array(z.string().min(1)).min(1).optional(),
  }),
  z.strictObject({ kind: z.literal('provisioners') }),
  /** Never described nor changed by the scaler (seed 004's coder-control). */
  z.strictObject({ kind: z.literal('static') }),
]);
export type GroupRole = z.output<typeof roleSchema>;

const groupCommon = {
  /** The name used in plans, metrics (`NodeGroup` dimension) and alarms. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 characters of [A-Za-z0-9_.-]'),
  role: roleSchema,
  /** Sizes per profile name; every profile the schedule uses must be here unless the role is static. */
  profiles: z.record(profileName, groupSizesSchema).default({}),
  /** The nodes' EC2 instance type: `scale savings` prices the group's node-hours with it. */
  instanceType: instanceTypeSchema.optional(),
};

export const nodeGroupSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('eks-managed'),
    nodegroupName: z.string().min(1).max(63),
    ...groupCommon,
  }),
  z.strictObject({
    kind: z.literal('auto-scaling-group'),
    autoScalingGroupName: z.string().min(1).max(255),
    ...groupCommon,
  }),
]);
export type NodeGroupConfig = z.output<typeof nodeGroupSchema>;

export const transitionSchema = z.strictObject({
  /** Local wall-clock time in the schedule's time zone, HH:MM (24 h). */
  at: z.string().regex(HH_MM, 'must be HH:MM (24-hour)'),
  profile: profileName,
});
export type TransitionConfig = z.output<typeof transitionSchema>;

/** Calendar dates YYYY-MM-DD, each once. */
const isoDates = z
  .array(
    z
      .string()
      .regex(ISO_DATE, 'must be a date YYYY-MM-DD')
      .refine((day) => !ISO_DATE.test(day) || isCalendarDate(day), 'is not a day of the calendar'),
  )
  .default([])
  .refine((days) => new Set(days).size === days.length, 'must not repeat a date');

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const month = z.int().min(1, 'must be a month 1-12').max(12, 'must be a month 1-12');
const holidayName = z
  .string({ error: 'must name the holiday (plans and the schedule show it)' })
  .trim()
  .min(1, 'must name the holiday (plans and the schedule show it)')
  .max(64);

/** One holiday rule; `kind` says which. Evaluated by core/scaling/holidays.ts. */
export const holidayRuleSchema = z.discriminatedUnion(
  'kind',
  [
    /** Every holiday of a built-in public calendar, or `only` some, or all `except` some. */
    z
      .strictObject({
        kind: z.literal('public-holidays'),
        calendar: z.enum(Object.keys(PUBLIC_HOLIDAY_CALENDARS) as ['us-federal'], {
          error: `must be one of: ${Object.keys(PUBLIC_HOLIDAY_CALENDARS).join(', ')} (other calendars: list their holidays as "date" and "weekday-of-month" rules)`,
        }),
        only: z
          .array(
            z.enum(US_FEDERAL_HOLIDAY_IDS, {
              error: `must be a us-federal holiday: ${US_FEDERAL_HOLIDAY_IDS.join(', ')}`,
            }),
          )
          .min(1)
          .optional(),
        except: z
          .array(
            z.enum(US_FEDERAL_HOLIDAY_IDS, {
              error: `must be a us-federal holiday: ${US_FEDERAL_HOLIDAY_IDS.join(', ')}`,
            }),
          )
          .default([]),
      })
      .refine((rule) => rule.only === undefined || rule.except.length === 0, {
        path: ['except'],
        message: 'give only or except, not both',
      }),
    /** A fixed date every year, e.g. 25 December; `observed` moves a weekend one to a weekday too. */
    z
      .strictObject({
        kind: z.literal('date'),
        name: holidayName,
        month,
        day: z.int().min(1).max(31),
        observed: z
          .enum(OBSERVED_RULES, { error: `must be one of: ${OBSERVED_RULES.join(', ')}` })
          .default('none'),
      })
      .superRefine((rule, ctx) => {
        const last = DAYS_IN_MONTH[rule.month - 1];
        if (last !== undefined && rule.day > last) {
          ctx.addIssue({
            code: 'custom',
            path: ['day'],
            message: `month ${rule.month} has ${last} days, not ${rule.day}`,
          });
        } else if (rule.month === 2 && rule.day === 29) {
          ctx.addIssue({
            code: 'custom',
            path: ['day'],
            message: "29 February is not in every year: list the years' dates in holidays instead",
          });
        }
      }),
    /** The nth (or last) weekday of a month, optionally days before or after it ("the day after Thanksgiving"). */
    z.strictObject({
      kind: z.literal('weekday-of-month'),
      name: holidayName,
      month,
      weekday: z.enum(WEEKDAY_NAMES, { error: `must be one of: ${WEEKDAY_NAMES.join(', ')}` }),
      nth: z.union([z.literal([1, 2, 3, 4]), z.literal('last')], {
        error: 'must be 1, 2, 3, 4 or "last" (not every month has a fifth)',
      }),
      offsetDays: z.int().min(-7, 'must be from -7 to 7 days').max(7, 'must be from -7 to 7 days').default(0),
    }),
  ],
  { error: 'must have kind "public-holidays", "date" or "weekday-of-month"' },
);
export type HolidayRule = z.output<typeof holidayRuleSchema>;

export const scheduleSchema = z
  .strictObject({
    timeZone: z
      .string()
      .refine((zone) => IANAZone.isValidZone(zone), 'must be a valid IANA time zone, e.g. America/New_York')
      .default('America/New_York'),
    /** Profile changes on working days, in any order in the config (sorted by time here). */
    weekdayTransitions: z
      .array(transitionSchema)
      .min(1)
      .default([
        { at: '07:00', profile: 'peak' },
        { at: '18:00', profile: 'off-hours' },
      ])
      .transform((transitions) => [...transitions].sort((a, b) => a.at.localeCompare(b.at))),
    /** ISO weekday numbers (1 = Monday … 7 = Sunday) that are not working days. */
    weekendDays: z
      .array(z.int().min(1).max(7))
      .default([6, 7])
      .refine((days) => new Set(days).size === days.length, 'must not repeat a day'),
    /** The profile for weekends and holidays, all day. */
    nonWorkingDayProfile: profileName.default('off-hours'),
    /**
     * Holidays as rules, evaluated for every year (core/scaling/holidays.ts): a built-in public
     * calendar, fixed dates with an observed-day rule, the nth weekday of a month.
     */
    holidayRules: z.array(holidayRuleSchema).default([]),
    /** Extra holidays by date (YYYY-MM-DD, in the schedule's time zone): stay on the non-working-day profile. */
    holidays: isoDates,
    /** Dates a rule makes a holiday that are working days all the same (a weekend stays a weekend). */
    notHolidays: isoDates,
    /** How long before a transition that raises a workspace group's minimum to start pre-warming it. */
    preWarmLeadMinutes: z.int().min(0).max(180).default(30),
    /** Pre-warm sizes for the workspaces Coder will autostart within this many minutes. */
    autostartHorizonMinutes: z.int().min(1).max(360).default(60),
    /** How often the drift check runs (EventBridge Scheduler rate). */
    driftCheckMinutes: z.int().min(1).max(1440).default(15),
  })
  .superRefine((schedule, ctx) => {
    const seen = new Set<string>();
    schedule.weekdayTransitions.forEach((t, i) => {
      if (seen.has(t.at)) {
        ctx.addIssue({
          code: 'custom',
          path: ['weekdayTransitions', i, 'at'],
          message: `duplicate time ${t.at}`,
        });
      }
      seen.add(t.at);
    });
    const removed = new Set(schedule.notHolidays);
    schedule.holidays.forEach((day, i) => {
      if (removed.has(day)) {
        ctx.addIssue({
          code: 'custom',
          path: ['holidays', i],
          message: `${day} is also in notHolidays: keep it in one of them`,
        });
      }
    });
    if (schedule.weekendDays.length === 7) {
      ctx.addIssue({ code: 'custom', path: ['weekendDays'], message: 'must leave at least one working day' });
    }
  });
export type ScheduleConfig = z.output<typeof scheduleSchema>;

export const scalingConfigSchema = z
  .strictObject({
    /** The EKS cluster that owns the managed node groups (also scopes the IAM policy). */
    clusterName: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'must be a valid EKS cluster name'),
    nodeGroups: z.array(nodeGroupSchema).min(1),
    schedule: scheduleSchema.default(() => scheduleSchema.parse({})),
    overrides: z
      .strictObject({
        /** The longest an operator can pin a profile for; overrides are time-boxed. */
        maxDurationHours: z
          .int()
          .min(1)
          .max(24 * 31)
          .default(72),
      })
      .default({ maxDurationHours: 72 }),
    /** USD per instance-hour by instance type, over the built-in on-demand defaults (core/scaling/prices.ts). */
    prices: z.record(instanceTypeSchema, z.number().positive().max(1000)).optional(),
  })
  .superRefine((config, ctx) => {
    const schedule = config.schedule;
    const used = new Set([
      ...schedule.weekdayTransitions.map((t) => t.profile),
      schedule.nonWorkingDayProfile,
    ]);
    const names = new Map<string, number>();
    const resources = new Map<string, number>();
    config.nodeGroups.forEach((group, i) => {
      const previous = names.get(group.name);
      if (previous !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodeGroups', i, 'name'],
          message: `duplicate group name "${group.name}" (also nodeGroups[${previous}])`,
        });
      } else names.set(group.name, i);
      const resource =
        group.kind === 'eks-managed' ? `eks:${group.nodegroupName}` : `asg:${group.autoScalingGroupName}`;
      const sameResource = resources.get(resource);
      if (sameResource !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodeGroups', i, group.kind === 'eks-managed' ? 'nodegroupName' : 'autoScalingGroupName'],
          message: `the same node group is configured twice (also nodeGroups[${sameResource}])`,
        });
      } else resources.set(resource, i);
      if (group.role.kind === 'static') return;
      for (const profile of used) {
        if (!(profile in group.profiles)) {
          ctx.addIssue({
            code: 'custom',
            path: ['nodeGroups', i, 'profiles', profile],
            message: `missing: the schedule uses profile "${profile}"`,
          });
        }
      }
    });
    // An override may pin any defined profile, so every managed group must size every profile.
    const defined = new Set<string>();
    for (const group of config.nodeGroups) {
      if (group.role.kind !== 'static') for (const name of Object.keys(group.profiles)) defined.add(name);
    }
    config.nodeGroups.forEach((group, i) => {
      if (group.role.kind === 'static') return;
      for (const profile of defined) {
        if (!used.has(profile) && !(profile in group.profiles)) {
          ctx.addIssue({
            code: 'custom',
            path: ['nodeGroups', i, 'profiles', profile],
            message: `missing: another group defines profile "${profile}", and an override may select it`,
          });
        }
      }
    });
  });

/** What callers write (defaults optional). */
export type ScalingConfigInput = z.input<typeof scalingConfigSchema>;
/** The parsed config, defaults filled in. */
export type ScalingConfig = z.output<typeof scalingConfigSchema>;

/** Every profile name a config defines on some group or uses in its schedule. */
export const profileNames = (config: ScalingConfig): string[] => {
  const names = new Set<string>([
    ...config.schedule.weekdayTransitions.map((t) => t.profile),
    config.schedule.nonWorkingDayProfile,
  ]);
  for (const group of config.nodeGroups) for (const name of Object.keys(group.profiles)) names.add(name);
  return [...names].sort();
};

/** The groups the scaler manages (static groups are never described nor changed). */
export const managedGroups = (config: ScalingConfig): NodeGroupConfig[] =>
  config.nodeGroups.filter((g) => g.role.kind !== 'static');
