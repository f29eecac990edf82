import { z } from 'zod';
import { MAX_KEY_NAME_LENGTH, RESERVED_KEY_NAMES } from './key-names.js';

/** Room left for the token part of a managed key name (a UUID is 36 characters). */
const MAX_PREFIX_LENGTH = MAX_KEY_NAME_LENGTH - 1 - 36;

/**
 * Provisioner key rotation settings, validated at synth (the construct) and again at Lambda start
 * (the same JSON is passed in `PROVISIONER_KEY_CONFIG`).
 */
export const provisionerKeyRotationConfigSchema = z
  .object({
    /** Coder organization (name, UUID or `default`) the key belongs to. */
    organization: z.string().min(1),
    /** Tags of the first key; later keys copy the tags of the key they replace. */
    keyTags: z.record(z.string(), z.string()).default({}),
    /** Secrets Manager rotates the key this often. */
    rotationIntervalDays: z.number().int().min(1).max(1000).default(30),
    /** The organisation's policy: no key older than this. */
    maxKeyAgeDays: z.number().int().min(2).default(90),
    /** Alarm this many days before a key reaches `maxKeyAgeDays` (seed 004: 14). */
    alertLeadDays: z.number().int().min(1).default(14),
    /**
     * The previous key is deleted once no daemon has used it for this long; no other key this
     * deployment created is deleted while a daemon used it within this long either (`last_seen_at`).
     */
    oldKeyGraceHours: z
      .number()
      .min(1)
      .max(24 * 30)
      .default(24),
    /** Alarm when daemons are still connected with a non-current key this long after a rotation. */
    oldKeyInUseAlarmHours: z.number().min(1).default(72),
    /**
     * Name prefix of the keys this deployment creates and may delete; it must differ from every
     * other deployment's in the same Coder organization. Default: the deployment's own,
     * `cfc-<first 8 hex digits of SHA-256 of the key secret's ARN>` (key-names.ts
     * `deploymentKeyPrefix`; docs/keys.md). Before issue 19 every deployment defaulted to `cfc-rot`.
     */
    managedPrefix: z
      .string()
      .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case letters, digits and single hyphens')
      .max(MAX_PREFIX_LENGTH)
      .refine((p) => !RESERVED_KEY_NAMES.includes(p), 'is a name Coder reserves')
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.alertLeadDays >= config.maxKeyAgeDays) {
      ctx.addIssue({ code: 'custom', path: ['alertLeadDays'], message: 'must be less than maxKeyAgeDays' });
    }
    if (config.rotationIntervalDays >= config.maxKeyAgeDays - config.alertLeadDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['rotationIntervalDays'],
        message:
          'must be less than maxKeyAgeDays - alertLeadDays, or the key-age alarm fires before every rotation',
      });
    }
  });

export type ProvisionerKeyRotationConfigInput = z.input<typeof provisionerKeyRotationConfigSchema>;
export type ProvisionerKeyRotationConfig = z.output<typeof provisionerKeyRotationConfigSchema>;
