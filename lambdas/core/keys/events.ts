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

/**
 * What the key-health Lambda accepts: the daily schedule sends `{"action":"check"}`; operators send
 * `{"action":"status"}` (report only) or `{"dryRun":true}` (the check, without deleting).
 */
export const keyHealthRequestSchema = z.object({
  action: z.enum(['check', 'status']).default('check'),
  dryRun: z.boolean().default(false),
});
export type KeyHealthRequest = z.output<typeof keyHealthRequestSchema>;
