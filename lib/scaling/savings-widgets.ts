import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from '../../lambdas/contracts/names.js';
import { NODE_GROUP_DIMENSION, SCALING_METRICS } from '../../lambdas/core/scaling/metrics.js';

const WEEK_HOURS = 7 * 24;

/**
 * The dashboard's "Savings" row: node-hours the schedule saved per group in the last 7 days.
 * Each scaler run publishes `NodesSavedVsPeak` (nodes the peak profile would hold for the same
 * demand minus what the schedule holds, from core/scaling/savings.ts); its average over the last
 * 7 days × 168 h is the node-hours saved. Runs come every drift check (evenly spaced), so the
 * average of the runs is the average over time; the extra runs at transitions weigh a few minutes.
 * `coder-fleet scale savings --weeks 1` gives the same figure with dollars and the chart.
 */
export const scalingSavingsWidgets = (service: string, groups: readonly string[]): cloudwatch.IWidget[] => {
  const nodesSaved = (group: string, period: Duration) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: SCALING_METRICS.nodesSavedVsPeak,
      dimensionsMap: { service, [NODE_GROUP_DIMENSION]: group },
      statistic: 'Average',
      period,
      label: `nodes saved ${group}`,
    });
  const week = Duration.days(7);
  return [
    new cloudwatch.TextWidget({
      markdown:
        '## Savings (docs/scaling.md#what-the-schedule-saves)\nNode-hours saved against the peak profile held all week with the same demand.',
      width: 24,
      height: 2,
    }),
    new cloudwatch.SingleValueWidget({
      title: 'Node-hours saved, last 7 days (average nodes saved × 168 h)',
      metrics: groups.map(
        (group, i) =>
          new cloudwatch.MathExpression({
            expression: `saved${i} * ${WEEK_HOURS}`,
            usingMetrics: { [`saved${i}`]: nodesSaved(group, week) },
            label: `${group} node-hours saved`,
            period: week,
          }),
      ),
      start: '-P7D',
      setPeriodToTimeRange: true,
      width: 12,
      height: 5,
    }),
    new cloudwatch.GraphWidget({
      title: 'Nodes saved against the peak profile (hourly average)',
      left: groups.map((group) => nodesSaved(group, Duration.hours(1))),
      width: 12,
      height: 5,
    }),
  ];
};
