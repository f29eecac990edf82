import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/contracts/names.js';
import { maxEvaluationSeconds } from './alarm-limits.js';
import { runbookLink } from './construct.js';

/**
 * Alarms on silence: a schedule that stops (disabled, deleted, its role broken) invokes nothing,
 * so no error or failure metric ever moves. Each scheduled Lambda publishes a metric on every
 * completed run; its heartbeat alarm fires when that metric has no datapoint for longer than the
 * schedule's interval, and missing data counts as breaching.
 */
export interface HeartbeatProps {
  /** Powertools service name of the function (the metric's `service` dimension). */
  readonly service: string;
  /** A metric the function publishes on every completed, non-dry run. */
  readonly metricName: string;
  /** How often the schedule runs the function. */
  readonly every: Duration;
  /** What stopped, for the description. */
  readonly what: string;
  /** Its section of docs/RUNBOOK.md. */
  readonly runbook: string;
}

const HOUR_SECONDS = 3_600;
const DAY_SECONDS = 86_400;
/** Hourly periods a long interval is watched in beyond the interval itself (see below). */
const SLACK_HOURS = 2;

export const heartbeatAlarm = (scope: Construct, id: string, props: HeartbeatProps): cloudwatch.Alarm => {
  const interval = Math.max(60, Math.ceil(props.every.toSeconds() / 60) * 60);
  // Two periods of the interval tolerate a run that lands just either side of a period boundary.
  // A longer interval (a daily run) is watched in hours, not in two days of silence: the
  // interval's hours and two more, so a run that lands in the next clock hour (a late start, the
  // scheduler's retries) leaves 24 empty hours and is not taken for silence; 26 empty hours in a
  // row alarm. Hourly periods may add up to seven days (alarm-limits.ts).
  const [periodSeconds, periods] =
    interval * 2 <= DAY_SECONDS
      ? [interval, 2]
      : [
          HOUR_SECONDS,
          Math.min(
            Math.ceil(interval / HOUR_SECONDS) + SLACK_HOURS,
            maxEvaluationSeconds(HOUR_SECONDS) / HOUR_SECONDS,
          ),
        ];
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: props.metricName,
    dimensionsMap: { service: props.service },
    statistic: 'SampleCount',
    period: Duration.seconds(periodSeconds),
  }).createAlarm(scope, id, {
    alarmDescription: `${props.what} has not completed a scheduled run for ${Math.round((periodSeconds * periods) / 60)} minutes (expected every ${Math.round(interval / 60)}): is its schedule disabled, deleted or unable to invoke it? Runbook: ${runbookLink(props.runbook)}`,
    threshold: 1,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
};

/** The interval of a `rate(N unit)` schedule, read back from the synthesized expression. */
export const scheduleInterval = (schedule: scheduler.Schedule): Duration => {
  const expression = (schedule.node.defaultChild as scheduler.CfnSchedule).scheduleExpression;
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) throw new Error(`Schedule ${schedule.node.path} is not a rate: ${expression}`);
  const amount = Number(match[1]);
  const unit = match[2] ?? '';
  if (unit.startsWith('minute')) return Duration.minutes(amount);
  if (unit.startsWith('hour')) return Duration.hours(amount);
  return Duration.days(amount);
};

/** Coder keeps calling an old webhook URL (403 for ever): 403s in consecutive periods, not one scan. */
export const webhookUnauthorizedAlarm = (
  scope: Construct,
  props: { service: string; metricName: string },
): cloudwatch.Alarm =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: props.metricName,
    dimensionsMap: { service: props.service },
    statistic: 'Sum',
    period: Duration.minutes(15),
  }).createAlarm(scope, 'WebhookUnauthorizedAlarm', {
    alarmDescription: `The webhook answered 403 in 4 consecutive 15-minute periods: Coder is probably still calling an old webhook URL (secret path rotated). Runbook: ${runbookLink('families-webhook-unauthorized')}`,
    threshold: 1,
    evaluationPeriods: 4,
    datapointsToAlarm: 4,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

/** Work waits in the queue: the worker is failing, throttled or stuck on a lock. */
export const queueAgeAlarm = (scope: Construct, queue: sqs.IQueue, maxAge: Duration): cloudwatch.Alarm =>
  queue
    .metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' })
    .createAlarm(scope, 'WorkQueueAgeAlarm', {
      alarmDescription: `The oldest families work message has waited ${maxAge.toMinutes()} minutes or more in 2 consecutive checks. Runbook: ${runbookLink('families-work-queue-backlog')}`,
      threshold: maxAge.toSeconds(),
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
