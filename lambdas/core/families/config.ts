import { z } from 'zod';
import { isValidWorkspaceName } from './names.js';

/** Largest count the controller ever honours; the name shortening leaves room for a 3-digit index. */
export const MAX_CHILDREN_CEILING = 100;

export const FAMILIES_DEFAULTS = {
  organization: 'default',
  countParameter: 'additional_workspaces',
  maxChildren: 20,
  removalPolicy: 'delete',
  gracePeriodMs: 10 * 60_000,
  followParentPower: false,
  createConcurrency: 8,
  backoffBaseMs: 60_000,
  failureCap: 3,
  lockLeaseMs: 2 * 60_000,
  pacing: { daemonShare: 0.5, continueAfterSeconds: 10, fullRunMinutesWhileContinuing: 30 },
} as const;

const parameterName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be a Coder parameter name (letters, digits, _ . -)');

/**
 * Configuration of the workspace-family controller (`FAMILIES_CONFIG`, JSON). The same schema is
 * used by the CDK construct at synth and by the Lambdas at start, so a bad value fails early.
 */
export const familiesConfigSchema = z
  .object({
    /** Only workspaces in this organization (name or UUID; `default` = the default org) are managed. */
    organization: z.string().min(1).default(FAMILIES_DEFAULTS.organization),
    /** Template names whose workspaces can be parents. Children are created from the parent's template. */
    templates: z
      .array(z.string().min(1).max(64))
      .min(1, 'name at least one template the controller manages')
      .refine((names) => new Set(names.map((n) => n.toLowerCase())).size === names.length, 'has duplicates'),
    /** The build parameter holding N; children get it set to "0". */
    countParameter: parameterName.default(FAMILIES_DEFAULTS.countParameter),
    /** A family asking for more children gets this many (and a `count-clamped` report). */
    maxChildren: z.number().int().min(1).max(MAX_CHILDREN_CEILING).default(FAMILIES_DEFAULTS.maxChildren),
    /** What happens to children above N, or of a deleted parent once the grace period is over. */
    removalPolicy: z.enum(['delete', 'stop', 'keep']).default(FAMILIES_DEFAULTS.removalPolicy),
    /** How long a parent must stay missing before its children are removed. */
    gracePeriodMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3_600_000)
      .default(FAMILIES_DEFAULTS.gracePeriodMs),
    /** Children start and stop with their parent. */
    followParentPower: z.boolean().default(FAMILIES_DEFAULTS.followParentPower),
    /** Coder mutations (creates, builds) in flight at once, across all families of a run. */
    createConcurrency: z.number().int().min(1).max(64).default(FAMILIES_DEFAULTS.createConcurrency),
    /** A family that failed waits `consecutiveFailures × backoffBaseMs` before it is tried again. */
    backoffBaseMs: z.number().int().min(0).max(3_600_000).default(FAMILIES_DEFAULTS.backoffBaseMs),
    /** After this many consecutive hard failures the family is left alone (hard-limited) and alarms. */
    failureCap: z.number().int().min(1).max(100).default(FAMILIES_DEFAULTS.failureCap),
    /**
     * A family lock's lease, renewed every third of it while the family is worked on: a crashed
     * run's families are free again after at most this long.
     */
    lockLeaseMs: z.number().int().min(10_000).max(3_600_000).default(FAMILIES_DEFAULTS.lockLeaseMs),
    /**
     * Optional template parameter set on every child to its parent's name, so people (and `param:`
     * searches) can see which workspaces are managed children. The template must declare it.
     * Informational only: ownership is decided by the ledger, never by this marker.
     */
    childMarkerParameter: parameterName.optional(),
    /**
     * How many provisioner jobs (creates, starts, stops, deletes) the controller may have pending
     * or running at once, so people's own builds never wait behind its catch-up (as
     * coder/coder#19937 caps the prebuilds reconciler's pending actions). Re-read from Coder every
     * run: `daemonShare` of the online daemons that can take the managed templates' jobs (at
     * least 1), or a fixed `maxJobs`. With no such daemon online the controller queues nothing.
     */
    pacing: z
      .object({
        /** Share of the matching online daemons the controller's jobs may occupy. */
        daemonShare: z.number().gt(0).max(1).default(FAMILIES_DEFAULTS.pacing.daemonShare),
        /** A fixed cap instead of the share (for a dedicated provisioner pool, coder/coder#20305). */
        maxJobs: z.number().int().min(1).max(10_000).optional(),
        /**
         * A run paced at the cap is continued this long after it ends (a delayed SQS message to the
         * reconcile), for the families it had no slot for: about how often the controller refills
         * the slots its finished jobs free. 0 turns continuations off (the scheduled runs carry on).
         */
        continueAfterSeconds: z
          .number()
          .int()
          .min(0)
          .max(900)
          .default(FAMILIES_DEFAULTS.pacing.continueAfterSeconds),
        /**
         * While continuations are catching up, a scheduled run does the full reconcile (listing
         * every workspace) at most this often and otherwise leaves the slots to the continuations:
         * at 30,000 workspaces a full run takes about a minute in which freed slots stay empty.
         * 0: every scheduled run does the full reconcile.
         */
        fullRunMinutesWhileContinuing: z
          .number()
          .int()
          .min(0)
          .max(24 * 60)
          .default(FAMILIES_DEFAULTS.pacing.fullRunMinutesWhileContinuing),
      })
      .strict()
      .default({ ...FAMILIES_DEFAULTS.pacing }),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.childMarkerParameter && config.childMarkerParameter === config.countParameter) {
      ctx.addIssue({
        code: 'custom',
        path: ['childMarkerParameter'],
        message: 'must differ from countParameter',
      });
    }
    for (const [i, name] of config.templates.entries()) {
      if (!isValidWorkspaceName(name) && !/^[a-zA-Z0-9_-]+$/.test(name)) {
        ctx.addIssue({ code: 'custom', path: ['templates', i], message: 'is not a Coder template name' });
      }
    }
  });

export type FamiliesConfigInput = z.input<typeof familiesConfigSchema>;
export type FamiliesConfig = z.output<typeof familiesConfigSchema>;
