import type { CloudWatchClient, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { PROVISIONER_PACING_METRICS } from '../../core/families/metrics.js';
import type { FamiliesPacingHistory } from '../../core/scaling/catch-up-job-hours.js';
import { HOUR, readHourlySeries } from './scaling-history.js';

/**
 * What the families reconcile's pacing published, read back hourly for `scale savings --weeks N`
 * (the job-hours its catch-up took, core/scaling/catch-up-job-hours.ts). Its metrics carry only the
 * `service` dimension (Powertools' default). Same credentials as the scaler's history
 * (cloudwatch:GetMetricData).
 */

export interface FamiliesPacingHistoryOptions {
  readonly cloudWatch: Pick<CloudWatchClient, 'send'>;
  /** The metrics namespace (CoderFleetController) and the families reconcile's Powertools service name. */
  readonly namespace: string;
  readonly service: string;
}

export class CloudWatchFamiliesPacingHistory {
  constructor(private readonly options: FamiliesPacingHistoryOptions) {}

  /** Hourly series over [from, to); both should be whole hours. */
  async read(from: Date, to: Date): Promise<FamiliesPacingHistory> {
    const metric = (id: string, metricName: string, stat: string): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: this.options.namespace,
          MetricName: metricName,
          Dimensions: [{ Name: 'service', Value: this.options.service }],
        },
        Period: HOUR,
        Stat: stat,
      },
      ReturnData: true,
    });
    const jobsActive = PROVISIONER_PACING_METRICS.controllerActiveJobs;
    const series = await readHourlySeries(
      this.options.cloudWatch,
      [
        metric('jobsInFlight', jobsActive, 'Average'),
        metric('pacedRuns', jobsActive, 'SampleCount'),
        metric('atCap', PROVISIONER_PACING_METRICS.atCap, 'Maximum'),
      ],
      from,
      to,
    );
    return {
      jobsInFlight: series.get('jobsInFlight') ?? [],
      pacedRuns: series.get('pacedRuns') ?? [],
      atCap: series.get('atCap') ?? [],
    };
  }
}
