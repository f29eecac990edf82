import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from '../../lambdas/contracts/names.js';
import { FAMILY_METRICS, PROVISIONER_PACING_METRICS } from '../../lambdas/core/families/metrics.js';

const period = Duration.minutes(5);

/** One reconcile metric (service dimension), as the engine publishes it through EMF. */
export const pacingMetric = (service: string, metricName: string, statistic: string): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    statistic,
    period,
    label: metricName,
  });

/**
 * The families row about Coder's provisioners (issue 22): the controller's jobs against its cap,
 * the queue people wait in, and whether any daemon can take the managed templates' jobs.
 */
export const familiesPacingWidgets = (service: string): cloudwatch.IWidget[] => [
  new cloudwatch.GraphWidget({
    title: 'Provisioner jobs: ours (pending + running) vs the cap',
    left: [
      pacingMetric(service, PROVISIONER_PACING_METRICS.controllerActiveJobs, 'Maximum'),
      pacingMetric(service, PROVISIONER_PACING_METRICS.controllerJobCap, 'Minimum'),
    ],
    right: [pacingMetric(service, FAMILY_METRICS.childrenMissing, 'Maximum')],
    width: 8,
  }),
  new cloudwatch.GraphWidget({
    title: "Coder's provisioner queue: jobs waiting, and how long people's oldest has waited (s)",
    left: [pacingMetric(service, PROVISIONER_PACING_METRICS.queued, 'Maximum')],
    right: [pacingMetric(service, PROVISIONER_PACING_METRICS.othersOldestPendingSeconds, 'Maximum')],
    width: 8,
  }),
  new cloudwatch.GraphWidget({
    title: "Daemons able to take the templates' jobs; runs that ended at the cap",
    left: [pacingMetric(service, PROVISIONER_PACING_METRICS.matchingDaemons, 'Minimum')],
    right: [pacingMetric(service, PROVISIONER_PACING_METRICS.atCap, 'Sum')],
    width: 8,
  }),
];
