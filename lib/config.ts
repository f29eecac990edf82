import { z } from 'zod';
import { parseConfig } from '../lambdas/core/contracts/validation.js';
import { familiesConfigSchema } from '../lambdas/core/families/config.js';
import { provisionerKeyRotationConfigSchema } from '../lambdas/core/keys/config.js';
import { scalingConfigSchema } from '../lambdas/core/scaling/config.js';
import { evaluationRangeProblem } from './alerting/alarm-limits.js';
import { severitySubscriptionsSchema } from './alerting/severity.js';
import { DEFAULT_RECONCILE_RATE_MINUTES, gracePeriodProblem } from './families/timing.js';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * What is wrong with a Coder access URL, or undefined. Checked here because every Lambda builds
 * request URLs from it: credentials, a query or a fragment would pass synth and fail every call.
 */
const coderUrlProblem = (value: string): string | undefined => {
  if (!URL.canParse(value)) return 'is not a URL (expected e.g. https://coder.example.com)';
  const url = new URL(value);
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname)))) {
    return 'must be an https:// URL (plain http only to a loopback address)';
  }
  if (url.username || url.password) {
    return 'must not carry user:password@ (the token comes from its secret)';
  }
  if (url.search || url.hash) return 'must not have a query string or fragment';
  return undefined;
};

export const alarmThresholdsSchema = z
  .strictObject({
    /** Email addresses subscribed to every severity's alarm topic (unless `subscriptions` names its own). */
    emails: z.array(z.email()).default([]),
    /** Per severity (critical, high, medium): its own emails and HTTPS endpoints (a pager, chat). */
    subscriptions: severitySubscriptionsSchema,
    /** Errors of one Lambda in 5 minutes that raise its alarm. */
    lambdaErrors: z.int().min(1).default(1),
    /** Throttles of one Lambda in 5 minutes that raise its alarm. */
    lambdaThrottles: z.int().min(1).default(1),
    /** Timeouts and network failures talking to Coder, per function, in 15 minutes. */
    coderUnreachable: z.int().min(1).default(5),
    /** 429 answers from Coder, per function, in 15 minutes: the client paces itself, so any 429 is news. */
    coderThrottled: z.int().min(1).default(1),
    /** Failed node group updates in one run that raise the scaling alarm. */
    scalingFailures: z.int().min(1).default(1),
    /**
     * Drift checks in a row with a workspace group below its running floor before alarming; times
     * the drift-check interval, at most what CloudWatch evaluates (one day for intervals under an hour).
     */
    belowFloorChecks: z.int().min(1).max(96).default(2),
    /** Reconcile runs in a row with children missing (drifting) or actions failing before alarming. */
    familiesBadRuns: z.int().min(1).max(288).default(3),
    /** 5-minute periods in a row with reconcile errors or webhook 5xx before alarming. */
    familiesErrorPeriods: z.int().min(1).max(288).default(2),
    /** Minutes every reconcile run may stop at the provisioner-job cap with children missing before alarming. */
    familiesAtProvisionerCapMinutes: z.int().min(5).max(1440).default(120),
    /** Minutes no daemon may be able to take the managed templates' jobs while children are missing before alarming. */
    familiesNoProvisionerMinutes: z.int().min(5).max(1440).default(30),
    /** Minutes the oldest families work message may wait (2 checks in a row) before alarming. */
    queueAgeMinutes: z.int().min(5).max(1440).default(30),
    /**
     * With `coder.auditLogGroupName`: hours without a single audit entry before alarming (a broken
     * shipper). Unset: no such alarm, since only you know how long your Coder can be quiet.
     */
    auditLogSilenceHours: z.int().min(1).max(24).optional(),
  })
  .default({
    emails: [],
    subscriptions: {},
    lambdaErrors: 1,
    lambdaThrottles: 1,
    coderUnreachable: 5,
    coderThrottled: 1,
    scalingFailures: 1,
    belowFloorChecks: 2,
    familiesBadRuns: 3,
    familiesErrorPeriods: 2,
    familiesAtProvisionerCapMinutes: 120,
    familiesNoProvisionerMinutes: 30,
    queueAgeMinutes: 30,
  });

/**
 * The whole controller's configuration: one typed object, validated at synth. Every capability is
 * optional, so a team can deploy only what it needs; a bad value anywhere fails `cdk synth` with
 * every bad field named.
 */
export const controllerConfigSchema = z
  .strictObject({
    /**
     * The JSON Schema an editor checks a configuration file against
     * (`schema/config.schema.json`, generated from this schema); ignored by the controller.
     */
    $schema: z.string().optional(),
    coder: z.strictObject({
      /** Coder's access URL. HTTPS, except for a loopback address (the embedded simulator). */
      url: z.string().superRefine((value, ctx) => {
        const problem = coderUrlProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
      /**
       * An existing secret holding `{"token": "..."}` for the controller's Coder service account.
       * When absent, the stack creates an empty secret for the operator to fill.
       */
      tokenSecretArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
          'must be a Secrets Manager secret ARN',
        )
        .optional(),
      /**
       * Coder requests per minute for all the controller's Lambdas together, shared through a small
       * DynamoDB table. Coder allows 512 per minute per user (or client address) and path; the
       * default stays well below it, leaving room for operators using the same account.
       */
      requestsPerMinute: z.int().min(1).max(100_000).default(400),
      /**
       * coderd's CloudWatch Logs log group (Fluent Bit, Container Insights). When set with
       * `families`, its `audit_log` lines feed the families queue through a subscription filter:
       * audit events the AWS way, with no webhook URL to manage.
       */
      auditLogGroupName: z
        .string()
        .regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, 'must be a CloudWatch Logs log group name')
        .optional(),
    }),
    alarms: alarmThresholdsSchema,
    scaling: scalingConfigSchema.optional(),
    families: familiesConfigSchema.optional(),
    provisionerKeys: provisionerKeyRotationConfigSchema.optional(),
  })
  .superRefine((config, ctx) => {
    if (!config.scaling && !config.families && !config.provisionerKeys) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'enables nothing: configure at least one of scaling, families, provisionerKeys',
      });
    }
    if (config.alarms.auditLogSilenceHours !== undefined && !config.coder.auditLogGroupName) {
      ctx.addIssue({
        code: 'custom',
        path: ['alarms', 'auditLogSilenceHours'],
        message: 'watches the audit-log subscription: set coder.auditLogGroupName too',
      });
    }
    // Rules that need the schedules: checked here so they fail `cdk synth`, not the deploy.
    if (config.scaling) {
      // The below-floor alarm evaluates belowFloorChecks periods of one drift-check interval.
      const minutes = config.scaling.schedule.driftCheckMinutes;
      const problem = evaluationRangeProblem(minutes * 60, config.alarms.belowFloorChecks);
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          path: ['alarms', 'belowFloorChecks'],
          message: `${problem} (scaling.schedule.driftCheckMinutes is ${minutes})`,
        });
      }
    }
    if (config.families) {
      const problem = gracePeriodProblem(config.families.gracePeriodMs, DEFAULT_RECONCILE_RATE_MINUTES * 60);
      if (problem) ctx.addIssue({ code: 'custom', path: ['families', 'gracePeriodMs'], message: problem });
    }
  });

export type ControllerConfigInput = z.input<typeof controllerConfigSchema>;
export type ControllerConfig = z.output<typeof controllerConfigSchema>;

/** Validates the whole configuration; throws a ConfigError that lists every bad field. */
export const parseControllerConfig = (input: unknown): ControllerConfig =>
  parseConfig(controllerConfigSchema, input, 'Coder Fleet Controller configuration');
