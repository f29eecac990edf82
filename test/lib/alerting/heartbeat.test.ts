/**
 * The silence alarms' evaluation window against the runs they watch (issue 19): a daily run that
 * lands in the next clock hour must not look like silence, and the window must be one CloudWatch
 * accepts.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { maxEvaluationSeconds } from '../../../lib/alerting/alarm-limits.js';
import { heartbeatAlarm } from '../../../lib/alerting/heartbeat.js';

const HOUR = 3_600_000;

const alarmFor = (every: Duration) => {
  const stack = new Stack(new App(), 'Heartbeat');
  const alarm = heartbeatAlarm(stack, 'Heartbeat', {
    service: 'keys-health',
    metricName: 'ManagedProvisionerKeys',
    every,
    what: 'The check',
    runbook: 'keys-health-silent',
  });
  const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm;
  return {
    period: Number(cfn.period),
    periods: Number(cfn.evaluationPeriods),
    toAlarm: Number(cfn.datapointsToAlarm),
  };
};

/**
 * Whether the alarm would fire between two runs: evaluated every minute over the last `periods`
 * periods, the one in progress included, each empty one breaching (missing data is breaching).
 */
const firesBetween = (runs: readonly Date[], period: number, periods: number): boolean => {
  const periodMs = period * 1000;
  const withData = new Set(runs.map((r) => Math.floor(r.getTime() / periodMs)));
  const first = runs[0]?.getTime() ?? 0;
  const last = runs.at(-1)?.getTime() ?? 0;
  for (let at = first; at <= last; at += 60_000) {
    const current = Math.floor(at / periodMs);
    let empty = 0;
    for (let p = current; p > current - periods && !withData.has(p); p--) empty++;
    if (empty >= periods) return true;
  }
  return false;
};

describe('heartbeat alarms', () => {
  it('watch a daily run in 26 hourly periods, so a run in the next clock hour is not silence', () => {
    // Prepare: the daily key-health schedule; one run at 10:00:30, the next a day later at 11:59.
    const { period, periods, toAlarm } = alarmFor(Duration.days(1));
    const first = new Date('2026-06-10T10:00:30Z');
    const runs = [first, new Date('2026-06-11T11:59:00Z')];

    // Assess: 24 empty hours and the late run's hour in progress do not alarm.
    expect([period, periods, toAlarm]).toEqual([3600, 26, 26]);
    expect(firesBetween(runs, period, periods)).toBe(false);
    // Assess, too: a day and three hours of silence does alarm.
    const silent = [first, new Date(first.getTime() + 27 * HOUR)];
    expect(firesBetween(silent, period, periods)).toBe(true);
    expect(period * periods).toBeLessThanOrEqual(maxEvaluationSeconds(period));
  });

  it('watch a short interval in two periods of it', () => {
    expect(alarmFor(Duration.minutes(15))).toEqual({ period: 900, periods: 2, toAlarm: 2 });
    expect(alarmFor(Duration.hours(12))).toEqual({ period: 43_200, periods: 2, toAlarm: 2 });
  });

  it('stay within what CloudWatch accepts for any interval up to a week', () => {
    for (const hours of [13, 24, 48, 100, 166, 200]) {
      const { period, periods } = alarmFor(Duration.hours(hours));
      expect(period * periods, `${hours} h`).toBeLessThanOrEqual(maxEvaluationSeconds(period));
    }
  });
});
