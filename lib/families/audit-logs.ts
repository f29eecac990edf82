import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION, METRICS_NAMESPACE } from '../../lambdas/contracts/names.js';
import { ConfigError } from '../../lambdas/core/contracts/validation.js';
import { AUDIT_LOG_METRICS } from '../../lambdas/core/families/webhook/metrics.js';
import { runbookLink } from '../alerting/construct.js';
import { ControllerFunction } from '../common/controller-function.js';

/**
 * The subscription filter: the term `audit_log`, which coderd's audit line carries as its message
 * (`msg: "audit_log"`, enterprise/audit/backends/slog.go) in every shape a shipper sends it: the
 * line itself, a Fluent Bit record with the line as text in `log` and/or parsed under `log_processed`,
 * a container runtime line. A JSON pattern on `$.msg` drops the wrapped shapes; an unstructured term
 * matches the event's text wherever it is, case-sensitively ("Filter pattern syntax for metric
 * filters, subscription filters, filter log events, and Live Tail",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html: the term
 * `ERROR` matches "Exiting with ERRORCODE: -1"; terms with characters other than alphanumerics and
 * underscore go in double quotes). Other coderd lines do not carry the word; the few that might are
 * ignored by the Lambda (`WebhookIgnoredNotAudit`).
 */
export const AUDIT_LOG_FILTER_PATTERN = logs.FilterPattern.allTerms('audit_log');

/** CloudWatch evaluates at most one day of periods (heartbeat.ts). */
const MAX_SILENCE = Duration.hours(24);

export interface FamilyAuditLogsProps {
  /**
   * The log group coderd's JSON logs reach on EKS (Fluent Bit or Container Insights, e.g.
   * `/aws/containerinsights/<cluster>/application`). coderd logs every audit row as
   * `msg: "audit_log"` (enterprise/audit/backends/slog.go; Premium auditor, `--log-json`).
   */
  readonly logGroupName: string;
  /** The families work queue the webhook feeds; entries are deduplicated with it by audit row id. */
  readonly queue: sqs.IQueue;
  /**
   * Alarm when no audit entry has arrived for this long: a broken shipper, a changed log format or
   * a lapsed audit licence would otherwise go unnoticed. Whole hours from 1 to 24; pick more than
   * the longest quiet spell of the deployment (nights, weekends: any audited action counts).
   * @default no silence alarm
   */
  readonly silenceAlarmAfter?: Duration;
}

/** Runbook anchors (docs/RUNBOOK.md) of the audit-log path's alarms. */
export const FAMILY_AUDIT_LOGS_RUNBOOK = {
  silent: 'families-audit-logs-silent',
  deadLetterQueue: 'families-audit-logs-dlq',
} as const;

/**
 * Audit entries the AWS way, beside the webhook's HTTP path: a subscription filter on coderd's
 * log group sends `audit_log` lines to a Lambda that queues the same family work, with no secret
 * URL to manage. CloudWatch Logs invokes the Lambda asynchronously: a batch that still fails after
 * Lambda's retries goes to `deadLetterQueue` (an on-failure destination), which has an alarm.
 */
export class FamilyAuditLogs extends Construct {
  readonly function: ControllerFunction;
  readonly subscription: logs.SubscriptionFilter;
  /** Batches the function failed on after its retries (the on-failure destination's records). */
  readonly deadLetterQueue: sqs.Queue;
  /** The dead-letter alarm, and the silence alarm when `silenceAlarmAfter` is set. */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: FamilyAuditLogsProps) {
    super(scope, id);
    const silence = silenceAlarmPeriods(props.silenceAlarmAfter);
    this.function = new ControllerFunction(this, 'Function', {
      handlerName: FUNCTION.familiesLogs,
      description: "Workspace families: coderd's audit_log lines from CloudWatch Logs onto the family queue",
      environment: { FAMILY_QUEUE_URL: props.queue.queueUrl },
    });
    props.queue.grantSendMessages(this.function);
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the on-failure destination of the audit-log function; it needs no DLQ of its own.',
    });
    // Lambda's asynchronous retries (2, the default, said here) cover a queue hiccup; after them the
    // batch and its error are kept rather than dropped.
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    const logGroup = logs.LogGroup.fromLogGroupName(this, 'CoderLogs', props.logGroupName);
    this.subscription = new logs.SubscriptionFilter(this, 'AuditLogSubscription', {
      logGroup,
      destination: new logsDestinations.LambdaDestination(this.function),
      filterPattern: AUDIT_LOG_FILTER_PATTERN,
    });

    const dlq = this.deadLetterQueue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, 'AuditLogsDlqAlarm', {
        alarmDescription: `A batch of coderd audit log lines failed in the families-logs Lambda after its retries; it waits in a dead-letter queue. Runbook: ${runbookLink(FAMILY_AUDIT_LOGS_RUNBOOK.deadLetterQueue)}`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [dlq];
    if (silence !== undefined) {
      // Hourly sums, each below 1 (no datapoint at all counts the same: missing is breaching).
      const silent = new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: AUDIT_LOG_METRICS.received,
        dimensionsMap: { service: this.function.serviceName },
        statistic: 'Sum',
        period: Duration.hours(1),
      }).createAlarm(this, 'AuditLogsSilentAlarm', {
        alarmDescription: `No coderd audit entry has reached the families-logs Lambda for ${silence} hours while the subscription is on: the shipper, coderd's JSON logs or the audit licence may be broken. Runbook: ${runbookLink(FAMILY_AUDIT_LOGS_RUNBOOK.silent)}`,
        threshold: 1,
        evaluationPeriods: silence,
        datapointsToAlarm: silence,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      this.alarms.push(silent);
    }
  }
}

/** Whole hours, 1 to 24, or undefined for no alarm. */
const silenceAlarmPeriods = (after: Duration | undefined): number | undefined => {
  if (after === undefined) return undefined;
  const hours = after.toHours({ integral: false });
  if (!Number.isInteger(hours) || hours < 1 || after.toSeconds() > MAX_SILENCE.toSeconds()) {
    throw new ConfigError('workspace families settings', [
      'alarms.auditLogSilence: whole hours from 1 to 24 (CloudWatch evaluates at most one day)',
    ]);
  }
  return hours;
};
