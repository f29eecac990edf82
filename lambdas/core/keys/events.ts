import { z } from 'zod';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** The event Secrets Manager sends a rotation function (extra fields such as `RotationToken` pass through). */
export const rotationEventSchema = z.object({
  Step: z.enum(ROTATION_STEPS),
  SecretId: z.string().min(1),
  ClientRequestToken: z.string().min(1),
});
export type RotationEvent = z.infer<typeof rotationEventSchema>;

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a zone' });

/**
 * What the key-health Lambda accepts: the daily schedule sends `{"action":"check"}`; operators send
 * `{"action":"status"}` (report only), `{"dryRun":true}` (the check, without deleting) and
 * `{"dryRun":true,"at":"<ISO>"}` (the check as it would go at another time: key ages and idle
 * times are computed against `at`). Unknown keys are rejected: a misspelt `dryrun` must not run a
 * real check that deletes keys.
 */
export const keyHealthRequestSchema = z
  .strictObject({
    action: z.enum(['check', 'status']).default('check'),
    dryRun: z.boolean().default(false),
    /** EventBridge Scheduler's `<aws.scheduler.scheduled-time>`: when this check was due; reported back. */
    scheduledTime: isoTime.optional(),
    /** Check as of this time instead of now (dry runs only). */
    at: isoTime.optional(),
  })
  .refine((request) => request.at === undefined || request.dryRun, {
    path: ['at'],
    message: 'checks as of another time only in a dry run: add "dryRun": true',
  });
export type KeyHealthRequest = z.output<typeof keyHealthRequestSchema>;
