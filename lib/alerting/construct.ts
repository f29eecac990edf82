import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Where each alarm's description points an operator. */
export const RUNBOOK_URL = 'docs/RUNBOOK.md';
export const runbookLink = (anchor: string): string => `${RUNBOOK_URL}#${anchor}`;

export interface LambdaHealthThresholds {
  /**
   * Errors in one 5-minute period that raise the alarm.
   * @default 1
   */
  readonly errors?: number;
  /**
   * Throttles in one 5-minute period that raise the alarm.
   * @default 1
   */
  readonly throttles?: number;
  /** The capability already alarms on this function's errors with a more specific runbook entry. */
  readonly skipErrors?: boolean;
}

export interface ControllerAlertingProps {
  /** Email addresses subscribed to the alarm topic. @default none */
  readonly emails?: readonly string[];
}

/**
 * The alarm topic (KMS-encrypted, TLS-only) and helpers that give every alarm the same SNS
 * actions and a runbook link, so no alarm can be added without someone being told.
 */
export class ControllerAlerting extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ControllerAlertingProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the Coder Fleet Controller alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to the encrypted topic and need the key to do so.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Coder Fleet Controller alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }

  /** Sends the alarm's ALARM and OK transitions to the topic. */
  notify(...alarms: cloudwatch.Alarm[]): void {
    for (const alarm of alarms) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
      this.alarms.push(alarm);
    }
  }

  /** Errors (unless the capability alarms on them already) and throttles of one function. */
  watchFunction(
    fn: lambda.IFunction,
    label: string,
    thresholds: LambdaHealthThresholds = {},
  ): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const alarm = (
      kind: 'Errors' | 'Throttles',
      metric: cloudwatch.Metric,
      threshold: number,
      what: string,
    ) =>
      metric.createAlarm(this, `${label}${kind}`, {
        alarmDescription: `${label} Lambda ${what}. Runbook: ${runbookLink(`lambda-${kind.toLowerCase()}`)}`,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const alarms = [
      alarm(
        'Throttles',
        fn.metricThrottles({ period, statistic: 'Sum' }),
        thresholds.throttles ?? 1,
        'was throttled',
      ),
    ];
    if (!thresholds.skipErrors) {
      alarms.push(
        alarm(
          'Errors',
          fn.metricErrors({ period, statistic: 'Sum' }),
          thresholds.errors ?? 1,
          'reported errors',
        ),
      );
    }
    this.notify(...alarms);
    return alarms;
  }

  /** Any message in a dead-letter queue means an event was given up on. */
  watchDeadLetterQueue(queue: sqs.IQueue, label: string): cloudwatch.Alarm {
    const alarm = queue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, `${label}NotEmpty`, {
        alarmDescription: `${label} dead-letter queue holds messages. Runbook: ${runbookLink('dead-letter-queue-not-empty')}`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.notify(alarm);
    return alarm;
  }
}
