import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigError, parseConfig } from '../../lambdas/core/contracts/validation.js';
import {
  type FamiliesConfig,
  type FamiliesConfigInput,
  familiesConfigSchema,
} from '../../lambdas/core/families/config.js';
import { FAMILY_METRICS } from '../../lambdas/core/families/metrics.js';
import { WEBHOOK_METRICS } from '../../lambdas/core/families/webhook/metrics.js';
import { METRICS_NAMESPACE } from '../../lambdas/wiring/names.js';
import { runbookLink } from '../alerting/construct.js';
import { ControllerFunction } from '../common/controller-function.js';

export const FAMILIES_RECONCILE_HANDLER = 'families-reconcile';
export const FAMILIES_WEBHOOK_HANDLER = 'families-webhook';
export const FAMILIES_WORKER_HANDLER = 'families-worker';

/** Where the Lambdas find their configuration (read by `createFamilyReconcileDeps`). */
export const FAMILIES_CONFIG_ENV = 'FAMILIES_CONFIG';

/**
 * The engine's per-run metrics (service `families-reconcile`, namespace `CoderFleetController`)
 * that the alarms watch: families that hit the consecutive-failure cap, failed actions, and
 * children that should exist and did not at the start of a run.
 */
export const FAMILIES_ALARM_METRICS = {
  hardLimited: FAMILY_METRICS.hardLimited,
  failures: FAMILY_METRICS.failures,
  childrenMissing: FAMILY_METRICS.childrenMissing,
} as const;

/** Runbook anchors (docs/RUNBOOK.md) of this capability's alarms. */
export const FAMILIES_RUNBOOK = {
  failing: 'families-failing',
  drifting: 'families-drifting',
  reconcileErrors: 'families-reconcile-errors',
  webhookErrors: 'families-webhook-errors',
  deadLetterQueue: 'dead-letter-queue-not-empty',
} as const;

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
   * How often the scheduled full reconcile runs.
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
}

export interface WorkspaceFamiliesAlarmProps {
  /**
   * Consecutive 5-minute periods with children missing (or with failed family actions) before the
   * drifting (or failing) alarm fires: one bad run is normal, several in a row are not.
   * @default 3
   */
  readonly consecutiveBadRuns?: number;
  /**
   * Consecutive 5-minute periods with reconcile Lambda errors (or webhook 5xx answers) before alarming.
   * @default 2
   */
  readonly consecutiveErrorPeriods?: number;
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
  /** The queue's DLQ and the schedule's DLQ. */
  readonly deadLetterQueues: sqs.Queue[];
  readonly alarms: cloudwatch.Alarm[];

  private readonly queueDeadLetters: sqs.Queue;
  private readonly scheduleDeadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: WorkspaceFamiliesProps) {
    super(scope, id);
    const config = parseConfig(familiesConfigSchema, props.config, 'workspace families config');
    this.config = config;
    const webhook = props.webhook ?? {};
    const scheduleRate = props.scheduleRate ?? Duration.minutes(5);
    const reconcileTimeout = props.reconcileTimeout ?? Duration.minutes(5);
    const workerTimeout = webhook.workerTimeout ?? Duration.minutes(2);
    const maxReceiveCount = webhook.maxReceiveCount ?? 8;
    const maxBodyBytes = webhook.maxBodyBytes ?? 256 * 1024;
    validateTimings(config, { scheduleRate, reconcileTimeout, workerTimeout, maxReceiveCount, maxBodyBytes });

    // Ownership records decide what may ever be deleted: keep them (and their history) safe.
    this.ledgerTable = new dynamodb.Table(this, 'LedgerTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Cached build parameters expire; ownership records carry no TTL.
      timeToLiveAttribute: 'ttl',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.lockTable = new dynamodb.Table(this, 'LockTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Leases left by crashed runs are cleaned up by DynamoDB.
      timeToLiveAttribute: 'ttl',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const engineEnvironment = {
      [FAMILIES_CONFIG_ENV]: JSON.stringify(config),
      LEDGER_TABLE_NAME: this.ledgerTable.tableName,
      LOCK_TABLE_NAME: this.lockTable.tableName,
      CODER_URL: props.coder.url,
      CODER_TOKEN_SECRET_ARN: props.coder.tokenSecret.secretArn,
    };

    this.reconcileFunction = new ControllerFunction(this, 'ReconcileFunction', {
      handlerName: FAMILIES_RECONCILE_HANDLER,
      description:
        'Workspace families: scheduled full reconcile; ad hoc {"dryRun":true} or {"family":"<owner>/<parent>"}',
      timeout: reconcileTimeout,
      // One full reconcile at a time: a run that overlaps the next schedule makes the next one wait.
      reservedConcurrentExecutions: 1,
      environment: engineEnvironment,
    });
    // A scheduled run that cannot start in time is superseded by the next one; don't queue it for hours.

    this.scheduleDeadLetters = new sqs.Queue(this, 'ScheduleDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // A run that fails after the scheduler handed it over lands here too (async invoke on-failure).
    this.reconcileFunction.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.max(60, Math.min(scheduleRate.toSeconds(), 21_600))),
      onFailure: new destinations.SqsDestination(this.scheduleDeadLetters),
    });
    // Our own role rather than the stack-wide one LambdaInvoke would share, so its findings are ours to acknowledge.
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets EventBridge Scheduler invoke the workspace families reconcile',
    });
    this.schedule = new scheduler.Schedule(this, 'ReconcileSchedule', {
      description: 'Workspace families: full reconcile',
      schedule: scheduler.ScheduleExpression.rate(scheduleRate),
      target: new targets.LambdaInvoke(this.reconcileFunction, {
        input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        deadLetterQueue: this.scheduleDeadLetters,
        role: this.scheduleRole,
        retryAttempts: 2,
        maxEventAge: Duration.seconds(Math.max(60, Math.min(scheduleRate.toSeconds(), 86_400))),
      }),
    });

    this.queueDeadLetters = new sqs.Queue(this, 'WorkDlq', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'WorkQueue', {
      fifo: true,
      // Deduplicated by Coder's message id (or the audit row id), never by content.
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.queueDeadLetters, maxReceiveCount },
    });
    this.deadLetterQueues = [this.queueDeadLetters, this.scheduleDeadLetters];

    this.webhookSecretKey = new kms.Key(this, 'WebhookSecretKey', {
      description: 'Encrypts the workspace families webhook path secret',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description: 'Path secret of the workspace families webhook URL (the webhook has no other auth)',
      encryptionKey: this.webhookSecretKey,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'pathSecret',
        passwordLength: 64,
        // Letters and digits only: the secret is a URL path segment.
        excludePunctuation: true,
        includeSpace: false,
      },
    });

    this.webhookFunction = new ControllerFunction(this, 'WebhookFunction', {
      handlerName: FAMILIES_WEBHOOK_HANDLER,
      description: "Workspace families: Coder's notification webhook and forwarded audit entries",
      timeout: Duration.seconds(10),
      memorySize: 256,
      reservedConcurrentExecutions: webhook.reservedConcurrency ?? 20,
      environment: {
        WEBHOOK_SECRET_ARN: this.webhookSecret.secretArn,
        FAMILY_QUEUE_URL: this.queue.queueUrl,
        WEBHOOK_MAX_BODY_BYTES: String(maxBodyBytes),
      },
    });
    this.webhookSecret.grantRead(this.webhookFunction);
    this.queue.grantSendMessages(this.webhookFunction);
    this.functionUrl = this.webhookFunction.addFunctionUrl({
      // Coder cannot sign requests; the secret path segment is the authentication.
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
    });

    this.workerFunction = new ControllerFunction(this, 'WorkerFunction', {
      handlerName: FAMILIES_WORKER_HANDLER,
      description: 'Workspace families: reconciles the family of each queued webhook event',
      timeout: workerTimeout,
      environment: { ...engineEnvironment, FAMILY_QUEUE_URL: this.queue.queueUrl },
    });
    // Also grants ChangeMessageVisibility, which the worker uses to retry a busy family sooner.
    this.workerFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: webhook.workerMaxConcurrency ?? 5,
      }),
    );

    for (const fn of [this.reconcileFunction, this.workerFunction]) {
      this.ledgerTable.grantReadWriteData(fn);
      this.lockTable.grantReadWriteData(fn);
      props.coder.tokenSecret.grantRead(fn);
    }
    this.functions = [this.reconcileFunction, this.webhookFunction, this.workerFunction];

    this.alarms = this.createAlarms(props.alarms ?? {});
    this.acknowledgeNagFindings();
  }

  private createAlarms(thresholds: WorkspaceFamiliesAlarmProps): cloudwatch.Alarm[] {
    const badRuns = thresholds.consecutiveBadRuns ?? 3;
    const errorPeriods = thresholds.consecutiveErrorPeriods ?? 2;
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const fiveMinutes = Duration.minutes(5);
    const emf = (service: string, metricName: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service },
        statistic,
        period: fiveMinutes,
      });

    const hardLimited = emf(
      FAMILIES_RECONCILE_HANDLER,
      FAMILIES_ALARM_METRICS.hardLimited,
      'Maximum',
    ).createAlarm(this, 'FamiliesFailingAlarm', {
      alarmDescription: `At least one workspace family reached its consecutive-failure cap and is left alone until someone looks. Runbook: ${runbookLink(FAMILIES_RUNBOOK.failing)}`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Children still missing after several scheduled runs in a row: the controller is not converging.
    const drifting = emf(
      FAMILIES_RECONCILE_HANDLER,
      FAMILIES_ALARM_METRICS.childrenMissing,
      'Minimum',
    ).createAlarm(this, 'FamiliesDriftingAlarm', {
      alarmDescription: `Workspace family children have been missing for ${badRuns} reconcile runs in a row. Runbook: ${runbookLink(FAMILIES_RUNBOOK.drifting)}`,
      threshold: 1,
      evaluationPeriods: badRuns,
      datapointsToAlarm: badRuns,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const failures = emf(FAMILIES_RECONCILE_HANDLER, FAMILIES_ALARM_METRICS.failures, 'Sum').createAlarm(
      this,
      'FamilyFailuresAlarm',
      {
        alarmDescription: `Workspace family actions have been failing for ${badRuns} reconcile runs in a row. Runbook: ${runbookLink(FAMILIES_RUNBOOK.failing)}`,
        threshold: 1,
        evaluationPeriods: badRuns,
        datapointsToAlarm: badRuns,
        comparisonOperator: atLeast,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    );
    const reconcileErrors = this.reconcileFunction
      .metricErrors({ period: fiveMinutes, statistic: 'Sum' })
      .createAlarm(this, 'ReconcileErrorsAlarm', {
        alarmDescription: `The scheduled workspace families reconcile failed ${errorPeriods} periods in a row. Runbook: ${runbookLink(FAMILIES_RUNBOOK.reconcileErrors)}`,
        threshold: 1,
        evaluationPeriods: errorPeriods,
        datapointsToAlarm: errorPeriods,
        comparisonOperator: atLeast,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    // Both the handler's own 5xx answers and crashes it could not answer at all.
    const webhookErrors = new cloudwatch.MathExpression({
      expression: 'answered + crashed',
      usingMetrics: {
        answered: emf(FAMILIES_WEBHOOK_HANDLER, WEBHOOK_METRICS.serverErrors, 'Sum'),
        crashed: this.webhookFunction.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      },
      period: fiveMinutes,
      label: 'Webhook 5xx',
    }).createAlarm(this, 'WebhookErrorsAlarm', {
      alarmDescription: `The workspace families webhook answered 5xx: Coder retries a few times, then drops the event. Runbook: ${runbookLink(FAMILIES_RUNBOOK.webhookErrors)}`,
      threshold: 1,
      evaluationPeriods: errorPeriods,
      datapointsToAlarm: errorPeriods,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const deadLetters = [
      [this.queueDeadLetters, 'WorkDlqAlarm', 'A webhook event was given up on after repeated failures'],
      [
        this.scheduleDeadLetters,
        'ScheduleDlqAlarm',
        'EventBridge Scheduler could not invoke the families reconcile',
      ],
    ] as const;
    const dlqAlarms = deadLetters.map(([queue, alarmId, what]) =>
      queue
        .metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' })
        .createAlarm(this, alarmId, {
          alarmDescription: `${what}; the message waits in a dead-letter queue. Runbook: ${runbookLink(FAMILIES_RUNBOOK.deadLetterQueue)}`,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: atLeast,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
    return [hardLimited, drifting, failures, reconcileErrors, webhookErrors, ...dlqAlarms];
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
  if (!Number.isInteger(t.maxReceiveCount) || t.maxReceiveCount < 1 || t.maxReceiveCount > 1000) {
    problems.push('webhook.maxReceiveCount: must be an integer from 1 to 1000');
  }
  if (!Number.isInteger(t.maxBodyBytes) || t.maxBodyBytes < 1024 || t.maxBodyBytes > 6 * 1024 * 1024) {
    problems.push('webhook.maxBodyBytes: must be an integer from 1024 to 6 MiB (the Lambda payload limit)');
  }
  if (problems.length > 0) throw new ConfigError('workspace families settings', problems);
};
