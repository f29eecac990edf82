import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/contracts/names.js';
import { ConfigError, parseConfig } from '../../lambdas/core/contracts/validation.js';
import {
  type FamiliesConfig,
  type FamiliesConfigInput,
  familiesConfigSchema,
} from '../../lambdas/core/families/config.js';
import { coderEnvironment } from '../common/coder-environment.js';
import type { ControllerFunction } from '../common/controller-function.js';
import { createFamiliesAlarms, createFamiliesIntegrityAlarms, familiesAlarmProblems } from './alarms.js';
import { FamilyAuditLogs } from './audit-logs.js';
import { createIngress } from './ingress.js';
import { createScheduledReconcile } from './schedule.js';
import { createFamilyTables } from './tables.js';
import { DEFAULT_RECONCILE_RATE_MINUTES, gracePeriodProblem } from './timing.js';

export {
  AT_PROVISIONER_CAP_ALARM_AFTER,
  FAMILIES_ALARM_METRICS,
  FAMILIES_INTEGRITY_METRICS,
  FAMILIES_INTEGRITY_RUNBOOK,
  FAMILIES_RUNBOOK,
  NO_PROVISIONER_ALARM_AFTER,
} from './alarms.js';
export { FAMILIES_WEBHOOK_HANDLER, FAMILIES_WORKER_HANDLER } from './ingress.js';
export { familiesPacingWidgets } from './pacing-widgets.js';
export { FAMILIES_RECONCILE_HANDLER } from './schedule.js';

export interface WorkspaceFamiliesWebhookOptions {
  /**
   * Largest request body the webhook accepts (413 above it).
   * @default 262144 (256 KiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * Reserved concurrency of the webhook function: caps what a burst (or anyone hammering the URL)
   * can cost; Coder retries a throttled delivery.
   * @default 20
   */
  readonly reservedConcurrency?: number;
  /**
   * How long the worker may take for one message (one family reconcile). The queue's visibility
   * timeout is six times this, as AWS recommends for SQS event sources.
   * @default Duration.minutes(2)
   */
  readonly workerTimeout?: Duration;
  /**
   * Receives of a message before it moves to the dead-letter queue. Each lock-contention retry
   * counts, so keep room for a few.
   * @default 8
   */
  readonly maxReceiveCount?: number;
  /**
   * Most worker instances the queue drives at once (at least 2). Messages of one owner are always
   * handled one at a time.
   * @default 5
   */
  readonly workerMaxConcurrency?: number;
}

export interface WorkspaceFamiliesProps {
  /** The families configuration (templates, count parameter, removal policy…); validated at synth. */
  readonly config: FamiliesConfigInput;
  /** Coder's access URL and the secret holding the controller's API token (`{"token": "..."}`). */
  readonly coder: { readonly url: string; readonly tokenSecret: secretsmanager.ISecret };
  /**
   * How often the scheduled full reconcile runs; `config.gracePeriodMs` must be at least this long.
   * @default Duration.minutes(5)
   */
  readonly scheduleRate?: Duration;
  /**
   * How long a scheduled full reconcile may take.
   * @default Duration.minutes(5)
   */
  readonly reconcileTimeout?: Duration;
  /** The webhook endpoint, its queue and worker. @default the defaults of each option */
  readonly webhook?: WorkspaceFamiliesWebhookOptions;
  /** Alarm thresholds. @default the defaults of each option */
  readonly alarms?: WorkspaceFamiliesAlarmProps;
  /**
   * coderd's CloudWatch Logs log group: subscribe to its `audit_log` lines (lib/families/audit-logs.ts).
   * @default no subscription
   */
  readonly auditLogGroupName?: string;
}

export interface WorkspaceFamiliesAlarmProps {
  /**
   * Consecutive 5-minute periods with children missing (or with failed family actions) before the
   * drifting (or failing) alarm fires: one bad run is normal, several in a row are not. Also the
   * reconcile runs in a row with conflicts before the conflicts alarm fires.
   * @default 3
   */
  readonly consecutiveBadRuns?: number;
  /**
   * Consecutive 5-minute periods with reconcile Lambda errors (or webhook 5xx answers, or family
   * locks lost) before alarming.
   * @default 2
   */
  readonly consecutiveErrorPeriods?: number;
  /**
   * With `auditLogGroupName`: alarm when no audit entry has arrived for this long (whole hours,
   * 1 to 24; missing data is breaching). Off by default: only the operator knows how long the
   * deployment can be quiet (lib/families/audit-logs.ts, docs/families-webhook.md).
   * @default no silence alarm
   */
  readonly auditLogSilence?: Duration;
  /**
   * How long every reconcile run may stop at the provisioner-job cap with children still missing
   * before alarming (a catch-up bound by Coder's provisioners that will take hours). Rounded up to
   * 5-minute periods, at most 1 day.
   * @default Duration.hours(2)
   */
  readonly atProvisionerCapFor?: Duration;
  /**
   * How long no online daemon may be able to take the managed templates' jobs while children are
   * missing before alarming. Rounded up to 5-minute periods, at most 1 day.
   * @default Duration.minutes(30)
   */
  readonly noProvisionerFor?: Duration;
}

/**
 * Workspace families: the ownership ledger and the family locks (DynamoDB), the scheduled full
 * reconcile (EventBridge Scheduler, one run at a time), and the event path: a Function URL for
 * Coder's notification webhook and forwarded audit entries, an SQS FIFO queue grouped per owner,
 * and the worker that reconciles one family per message. Alarms are returned, not wired: the
 * stack sends them to the alarm topic (`ControllerAlerting.notify(...alarms)`).
 *
 * The Function URL has no IAM auth because Coder cannot sign its requests; the long random path
 * segment kept in `webhookSecret` is the authentication. Give Coder
 * `<functionUrl.url><pathSecret>` (see docs/families-webhook.md); the secret never appears in the template,
 * an output or a log.
 */
export class WorkspaceFamilies extends Construct {
  readonly config: FamiliesConfig;
  readonly ledgerTable: dynamodb.Table;
  readonly lockTable: dynamodb.Table;
  readonly reconcileFunction: ControllerFunction;
  readonly webhookFunction: ControllerFunction;
  readonly workerFunction: ControllerFunction;
  /** The CloudWatch Logs subscription path, when `auditLogGroupName` is set. */
  readonly auditLogs: FamilyAuditLogs | undefined;
  /** Every function of the capability, for the stack's Lambda error and throttle alarms. */
  readonly functions: ControllerFunction[];
  readonly schedule: scheduler.Schedule;
  readonly scheduleRole: iam.Role;
  readonly functionUrl: lambda.FunctionUrl;
  readonly webhookSecretKey: kms.Key;
  /** `{"pathSecret": "<64 random letters and digits>"}`; add `previousPathSecret` while rotating. */
  readonly webhookSecret: secretsmanager.Secret;
  /** The FIFO queue between the webhook and the worker. */
  readonly queue: sqs.Queue;
  /** A paced reconcile's continuations: delayed messages the reconcile consumes. */
  readonly continuationQueue: sqs.Queue;
  /** The queue's DLQ and the schedule's DLQ (which the continuation queue shares). */
  readonly deadLetterQueues: sqs.Queue[];
  readonly alarms: cloudwatch.Alarm[];

  private readonly queueDeadLetters: sqs.Queue;
  private readonly scheduleDeadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: WorkspaceFamiliesProps) {
    super(scope, id);
    const config = parseConfig(familiesConfigSchema, props.config, 'workspace families config');
    this.config = config;
    const webhook = props.webhook ?? {};
    const scheduleRate = props.scheduleRate ?? Duration.minutes(DEFAULT_RECONCILE_RATE_MINUTES);
    const reconcileTimeout = props.reconcileTimeout ?? Duration.minutes(5);
    const workerTimeout = webhook.workerTimeout ?? Duration.minutes(2);
    const maxReceiveCount = webhook.maxReceiveCount ?? 8;
    const maxBodyBytes = webhook.maxBodyBytes ?? 256 * 1024;
    validateTimings(config, { scheduleRate, reconcileTimeout, workerTimeout, maxReceiveCount, maxBodyBytes });
    const alarmProblems = familiesAlarmProblems(props.alarms ?? {}, scheduleRate);
    if (alarmProblems.length > 0) throw new ConfigError('workspace families alarm settings', alarmProblems);

    // Every part is created in this construct's own scope, in this order: logical ids and the
    // template stay what they were before the construct was split into files.
    const tables = createFamilyTables(this);
    this.ledgerTable = tables.ledgerTable;
    this.lockTable = tables.lockTable;

    const engineEnvironment = {
      [ENV.familiesConfig]: JSON.stringify(config),
      [ENV.familiesLedgerTable]: this.ledgerTable.tableName,
      [ENV.familiesLockTable]: this.lockTable.tableName,
      ...coderEnvironment(props.coder),
    };

    const scheduled = createScheduledReconcile(this, {
      scheduleRate,
      reconcileTimeout,
      environment: engineEnvironment,
    });
    this.reconcileFunction = scheduled.reconcileFunction;
    this.scheduleDeadLetters = scheduled.scheduleDeadLetters;
    this.scheduleRole = scheduled.scheduleRole;
    this.schedule = scheduled.schedule;
    this.continuationQueue = scheduled.continuationQueue;

    const ingress = createIngress(this, {
      webhook,
      engineEnvironment,
      workerTimeout,
      maxReceiveCount,
      maxBodyBytes,
    });
    this.queueDeadLetters = ingress.queueDeadLetters;
    this.queue = ingress.queue;
    this.deadLetterQueues = [this.queueDeadLetters, this.scheduleDeadLetters];
    this.webhookSecretKey = ingress.webhookSecretKey;
    this.webhookSecret = ingress.webhookSecret;
    this.webhookFunction = ingress.webhookFunction;
    this.functionUrl = ingress.functionUrl;
    this.workerFunction = ingress.workerFunction;

    for (const fn of [this.reconcileFunction, this.workerFunction]) {
      this.ledgerTable.grantReadWriteData(fn);
      this.lockTable.grantReadWriteData(fn);
      props.coder.tokenSecret.grantRead(fn);
    }
    this.auditLogs = props.auditLogGroupName
      ? new FamilyAuditLogs(this, 'AuditLogs', {
          logGroupName: props.auditLogGroupName,
          queue: this.queue,
          silenceAlarmAfter: props.alarms?.auditLogSilence,
        })
      : undefined;
    this.functions = [this.reconcileFunction, this.webhookFunction, this.workerFunction];
    if (this.auditLogs) this.functions.push(this.auditLogs.function);

    this.alarms = createFamiliesAlarms(this, props.alarms ?? {}, {
      reconcileFunction: this.reconcileFunction,
      webhookFunction: this.webhookFunction,
      queueDeadLetters: this.queueDeadLetters,
      scheduleDeadLetters: this.scheduleDeadLetters,
    });
    if (this.auditLogs) this.alarms.push(...this.auditLogs.alarms);
    this.alarms.push(...createFamiliesIntegrityAlarms(this, props.alarms ?? {}, { scheduleRate }));
    this.acknowledgeNagFindings();
  }

  /** Each acknowledgement is scoped to the resource and finding it is about, with its reason. */
  private acknowledgeNagFindings(): void {
    for (const fn of this.functions) {
      const role = fn.role;
      if (role) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'X-Ray PutTraceSegments/PutTelemetryRecords take no resource; every table, queue, secret and key action is scoped.',
        });
      }
    }
    Validations.of(this.scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.reconcileFunction.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason:
        'grantInvoke covers the reconcile function and its versions and aliases (`<arn>:*`); nothing else.',
    });
    for (const queue of this.deadLetterQueues) {
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is a dead-letter queue; it needs no DLQ of its own.',
      });
    }
    Validations.of(this.webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The path secret is part of Coder's CODER_NOTIFICATIONS_WEBHOOK_ENDPOINT, a deployment setting changed by a redeploy of Coder; it is rotated by hand with previousPathSecret keeping the old URL valid meanwhile (docs/families-webhook.md).",
    });
  }
}

/** Timings that only work together: a lock must outlive the runs it guards; the queue must outlive a worker run. */
const validateTimings = (
  config: FamiliesConfig,
  t: {
    scheduleRate: Duration;
    reconcileTimeout: Duration;
    workerTimeout: Duration;
    maxReceiveCount: number;
    maxBodyBytes: number;
  },
): void => {
  const problems: string[] = [];
  // The lease is renewed every third of it while a family is worked on (core/families/run.ts), so
  // it need not outlive the run; it only has to ride out a slow DynamoDB call or two.
  if (config.lockLeaseMs < 30_000) {
    problems.push('config.lockLeaseMs: at least 30000 ms, so a renewal every third of it is never late');
  }
  if (t.reconcileTimeout.toSeconds() > 900)
    problems.push('reconcileTimeout: Lambda allows at most 15 minutes');
  if (t.workerTimeout.toSeconds() * 6 > 43_200) {
    problems.push('webhook.workerTimeout: six times it must fit the 12-hour SQS visibility limit');
  }
  if (t.scheduleRate.toSeconds() < 60)
    problems.push('scheduleRate: EventBridge Scheduler rates start at 1 minute');
  const grace = gracePeriodProblem(config.gracePeriodMs, t.scheduleRate.toSeconds());
  if (grace) problems.push(`config.gracePeriodMs: ${grace}`);
  if (!Number.isInteger(t.maxReceiveCount) || t.maxReceiveCount < 1 || t.maxReceiveCount > 1000) {
    problems.push('webhook.maxReceiveCount: must be an integer from 1 to 1000');
  }
  if (!Number.isInteger(t.maxBodyBytes) || t.maxBodyBytes < 1024 || t.maxBodyBytes > 6 * 1024 * 1024) {
    problems.push('webhook.maxBodyBytes: must be an integer from 1024 to 6 MiB (the Lambda payload limit)');
  }
  if (problems.length > 0) throw new ConfigError('workspace families settings', problems);
};
