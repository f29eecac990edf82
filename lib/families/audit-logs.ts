import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION } from '../../lambdas/contracts/names.js';
import { ControllerFunction } from '../common/controller-function.js';

export interface FamilyAuditLogsProps {
  /**
   * The log group coderd's JSON logs reach on EKS (Fluent Bit or Container Insights, e.g.
   * `/aws/containerinsights/<cluster>/application`). coderd logs every audit row as
   * `msg: "audit_log"` (enterprise/audit/backends/slog.go; Premium auditor, `--log-json`).
   */
  readonly logGroupName: string;
  /** The families work queue the webhook feeds; entries are deduplicated with it by audit row id. */
  readonly queue: sqs.IQueue;
}

/**
 * Audit entries the AWS way, beside the webhook's HTTP path: a subscription filter on coderd's
 * log group sends `audit_log` lines to a Lambda that queues the same family work, with no secret
 * URL to manage.
 */
export class FamilyAuditLogs extends Construct {
  readonly function: ControllerFunction;
  readonly subscription: logs.SubscriptionFilter;

  constructor(scope: Construct, id: string, props: FamilyAuditLogsProps) {
    super(scope, id);
    this.function = new ControllerFunction(this, 'Function', {
      handlerName: FUNCTION.familiesLogs,
      description: "Workspace families: coderd's audit_log lines from CloudWatch Logs onto the family queue",
      environment: { FAMILY_QUEUE_URL: props.queue.queueUrl },
    });
    props.queue.grantSendMessages(this.function);
    const logGroup = logs.LogGroup.fromLogGroupName(this, 'CoderLogs', props.logGroupName);
    this.subscription = new logs.SubscriptionFilter(this, 'AuditLogSubscription', {
      logGroup,
      destination: new destinations.LambdaDestination(this.function),
      filterPattern: logs.FilterPattern.stringValue('$.msg', '=', 'audit_log'),
    });
  }
}
