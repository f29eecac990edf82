import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  SEVERITY_RESPONSE,
  type Severity,
  type SeveritySubscriptions,
  severityLabel,
  severityOf,
  subscribersOf,
} from './severity.js';

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
  /** Email addresses subscribed to every severity's topic, unless a severity has its own. @default none */
  readonly emails?: readonly string[];
  /** Who hears each severity (a pager for Critical, email or chat for the rest). @default `emails` for all */
  readonly subscriptions?: SeveritySubscriptions;
}

/**
 * One topic per severity (KMS-encrypted, TLS-only, publishable by this account's CloudWatch
 * alarms) and helpers that give every alarm its severity's SNS actions and a runbook link, so no
 * alarm can be added without someone being told.
 */
export class ControllerAlerting extends Construct {
  readonly topics: Record<Severity, sns.Topic>;
  readonly key: kms.Key;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly alarmsBySeverity: Record<Severity, cloudwatch.Alarm[]> = { critical: [], high: [], medium: [] };

  constructor(scope: Construct, id: string, props: ControllerAlertingProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the Coder Fleet Controller alarm topics',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to the encrypted topics and need the key to do so; only this
    // account's alarms (confused-deputy conditions).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: this.fromOwnAlarms(),
      }),
    );
    const topic = (severity: Severity) => {
      const label = severityLabel(severity);
      const created = new sns.Topic(this, `${label}AlarmTopic`, {
        displayName: `Coder Fleet Controller ${label} alarms (respond within ${SEVERITY_RESPONSE[severity]})`,
        masterKey: this.key,
        enforceSSL: true,
      });
      // Without this statement CloudWatch cannot publish: "no resource-based policy allows the SNS:Publish action".
      created.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsOfThisAccount',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [created.topicArn],
          conditions: this.fromOwnAlarms(),
        }),
      );
      const { emails, https } = subscribersOf(severity, props.subscriptions ?? {}, props.emails ?? []);
      for (const email of emails) created.addSubscription(new subscriptions.EmailSubscription(email));
      for (const url of https) created.addSubscription(new subscriptions.UrlSubscription(url));
      return created;
    };
    this.topics = { critical: topic('critical'), high: topic('high'), medium: topic('medium') };
  }

  private fromOwnAlarms(): Record<string, Record<string, string>> {
    const stack = Stack.of(this);
    return {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
      },
    };
  }

  /**
   * Sends the alarm's ALARM and OK transitions to its severity's topic (from the rules in
   * severity.ts unless given) and marks its description with the severity.
   */
  notify(...alarms: cloudwatch.Alarm[]): void {
    for (const alarm of alarms) this.notifyAs(severityOf(alarm.node.id), alarm);
  }

  notifyAs(severity: Severity, ...alarms: cloudwatch.Alarm[]): void {
    const topic = this.topics[severity];
    for (const alarm of alarms) {
      alarm.addAlarmAction(new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
      const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm;
      cfn.alarmDescription = `[${severityLabel(severity)}] ${cfn.alarmDescription ?? ''}`;
      this.alarms.push(alarm);
      this.alarmsBySeverity[severity].push(alarm);
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
