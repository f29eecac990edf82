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

  /** Errors and throttles of one function. */
  watchFunction(
    fn: lambda.IFunction,
    label: string,
    thresholds: LambdaHealthThresholds = {},
  ): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const errors = fn.metricErrors({ period, statistic: 'Sum' }).createAlarm(this, `${label}Errors`, {
      alarmDescription: `${label} Lambda reported errors. Runbook: ${runbookLink('lambda-errors')}`,
      threshold: thresholds.errors ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const throttles = fn
      .metricThrottles({ period, statistic: 'Sum' })
      .createAlarm(this, `${label}Throttles`, {
        alarmDescription: `${label} Lambda was throttled. Runbook: ${runbookLink('lambda-throttles')}`,
        threshold: thresholds.throttles ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.notify(errors, throttles);
    return [errors, throttles];
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
