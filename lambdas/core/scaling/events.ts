import { z } from 'zod';
import { ConfigError, parseConfig } from '../contracts/validation.js';

/**
 * What the scaler accepts. Scheduled runs come from EventBridge Scheduler with the input the
 * construct wrote; operators send the ad-hoc shapes (`aws lambda invoke`, the CLI).
 *
 *   {"trigger": "transition", "profile": "peak",
 *    "scheduledTime": "<aws.scheduler.scheduled-time>"}     scheduled transition (profile is informative)
 *   {"trigger": "drift-check", "scheduledTime": "…"}        scheduled drift check
 *   {} or {"dryRun": true}                                  run now / show the plan
 *   {"dryRun": true, "at": "<ISO>"}                         the plan for another time
 * A scheduled event replayed with "dryRun": true plans for its scheduledTime, so a 07:00 run can be
 * tried at the deployed Lambda at any hour; a real run always plans for now (level-triggered).
 *   {"profile": "peak", "until": "<ISO>", "reason": "…"}    pin a profile until a time
 *   {"clearOverride": true}                                 end the override
 * Every shape accepts "dryRun": true: the plan is reported and nothing is changed or stored.
 */

const dryRun = z.boolean().default(false);
const isoTime = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time with a zone, e.g. 2026-03-09T07:00:00-05:00',
});

const scheduledSchema = z.strictObject({
  trigger: z.enum(['transition', 'drift-check']),
  /** The profile the schedule was created for; the run still works the profile out from the calendar. */
  profile: z.string().optional(),
  /** EventBridge Scheduler's `<aws.scheduler.scheduled-time>`: when this run was due. */
  scheduledTime: isoTime.optional(),
  dryRun,
});

const setOverrideSchema = z.strictObject({
  profile: z.string().min(1),
  until: z.iso.datetime({
    offset: true,
    message: 'must be an ISO 8601 date-time with a zone, e.g. 2026-03-09T22:00:00-05:00',
  }),
  reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(500),
  dryRun,
});

const clearOverrideSchema = z.strictObject({ clearOverride: z.literal(true), dryRun });

const runNowSchema = z
  .strictObject({ dryRun, at: isoTime.optional() })
  .refine((e) => e.at === undefined || e.dryRun, {
    path: ['at'],
    message: 'plans for another time only in a dry run: add "dryRun": true',
  });

export type ScalerRequest =
  | {
      readonly kind: 'run';
      readonly trigger: 'transition' | 'drift-check' | 'ad-hoc';
      readonly dryRun: boolean;
      /** When the schedule meant this run to happen (EventBridge Scheduler's scheduled time). */
      readonly scheduledTime?: string;
      /** Plan for this time instead of now (dry runs only). */
      readonly at?: string;
    }
  | {
      readonly kind: 'set-override';
      readonly profile: string;
      readonly until: string;
      readonly reason: string;
      readonly dryRun: boolean;
    }
  | { readonly kind: 'clear-override'; readonly dryRun: boolean };

/** A payload the scaler does not understand; the message lists every problem and the accepted shapes. */
export class ScalerEventError extends Error {
  override readonly name = 'ScalerEventError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const SHAPES =
  'expected one of {"trigger":"transition"|"drift-check"}, {"dryRun":true}, ' +
  '{"dryRun":true,"at":"<ISO time>"}, {"profile":"…","until":"<ISO time>","reason":"…"}, {"clearOverride":true}';

/** Parses an invocation payload; an unknown shape is a ScalerEventError naming what was expected. */
export const parseScalerEvent = (event: unknown): ScalerRequest => {
  const parse = <S extends z.ZodType>(schema: S): z.output<S> => {
    try {
      return parseConfig(schema, event, 'scaler event');
    } catch (error) {
      if (error instanceof ConfigError) throw new ScalerEventError('scaler event', error.problems);
      throw error;
    }
  };
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new ScalerEventError('scaler event', [`(root): not an object; ${SHAPES}`]);
  }
  if ('action' in event && (event as { action?: unknown }).action === 'preview') {
    throw new ScalerEventError('scaler event', [
      'action: the schedule preview is a separate function (scaling-preview), so a preview never waits for or blocks a scaling run',
    ]);
  }
  if ('trigger' in event) {
    const e = parse(scheduledSchema);
    return {
      kind: 'run',
      trigger: e.trigger,
      dryRun: e.dryRun,
      ...(e.scheduledTime ? { scheduledTime: e.scheduledTime } : {}),
      ...(e.scheduledTime && e.dryRun ? { at: e.scheduledTime } : {}),
    };
  }
  if ('clearOverride' in event) return { kind: 'clear-override', dryRun: parse(clearOverrideSchema).dryRun };
  if ('profile' in event || 'until' in event || 'reason' in event) {
    const e = parse(setOverrideSchema);
    return { kind: 'set-override', profile: e.profile, until: e.until, reason: e.reason, dryRun: e.dryRun };
  }
  const keys = Object.keys(event).filter((k) => k !== 'dryRun' && k !== 'at');
  if (keys.length > 0)
    throw new ScalerEventError('scaler event', [`${keys.join(', ')}: unrecognised; ${SHAPES}`]);
  const e = parse(runNowSchema);
  return { kind: 'run', trigger: 'ad-hoc', dryRun: e.dryRun, ...(e.at ? { at: e.at } : {}) };
};

const previewSchema = z.strictObject({
  action: z.literal('preview').optional(),
  from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a zone' }).optional(),
  days: z.int().min(1).max(62).default(14),
});

export interface PreviewRequest {
  readonly from?: string;
  readonly days: number;
}

/** `{}`, `{"from": "<ISO>", "days": 7}` or the same with `"action": "preview"`. */
export const parsePreviewEvent = (event: unknown): PreviewRequest => {
  try {
    const parsed = parseConfig(previewSchema, event ?? {}, 'schedule preview event');
    return { ...(parsed.from ? { from: parsed.from } : {}), days: parsed.days };
  } catch (error) {
    if (error instanceof ConfigError) throw new ScalerEventError('schedule preview event', error.problems);
    throw error;
  }
};
