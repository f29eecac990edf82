import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { NODE_GROUP_DIMENSION, SCALING_METRICS } from '../../core/scaling/metrics.js';
import type { GroupHistory, MetricPoint } from '../../core/scaling/savings-history.js';

/**
 * What the scaler published, read back from CloudWatch for `scale savings --weeks N`: per group,
 * hourly averages of the desired size it set (`TargetDesiredSize`) and of the running workspaces
 * it counted. The CLI calls it with the operator's own credentials (cloudwatch:GetMetricData).
 */

export interface ScalingHistoryOptions {
  readonly cloudWatch: Pick<CloudWatchClient, 'send'>;
  /** The metrics namespace (CoderFleetController) and the scaler's Powertools service name. */
  readonly namespace: string;
  readonly service: string;
}

/** One datapoint per hour: CloudWatch keeps hourly datapoints for 455 days. */
const HOUR = 3600;

export class CloudWatchScalingHistory {
  constructor(private readonly options: ScalingHistoryOptions) {}

  /** Hourly series for `groups` over [from, to); both should be whole hours. */
  async read(groups: readonly string[], from: Date, to: Date): Promise<GroupHistory[]> {
    const metric = (id: string, group: string, metricName: string): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: this.options.namespace,
          MetricName: metricName,
          Dimensions: [
            { Name: 'service', Value: this.options.service },
            { Name: NODE_GROUP_DIMENSION, Value: group },
          ],
        },
        Period: HOUR,
        Stat: 'Average',
      },
      ReturnData: true,
    });
    const queries = groups.flatMap((group, i) => [
      metric(`capacity${i}`, group, SCALING_METRICS.targetDesired),
      metric(`running${i}`, group, SCALING_METRICS.runningWorkspaces),
    ]);
    const series = new Map<string, MetricPoint[]>();
    // A long window comes in pages (NextToken).
    let nextToken: string | undefined;
    do {
      const page = await this.options.cloudWatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: from,
          EndTime: to,
          ScanBy: 'TimestampAscending',
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        if (!result.Id) continue;
        const points = series.get(result.Id) ?? [];
        const timestamps = result.Timestamps ?? [];
        const values = result.Values ?? [];
        timestamps.forEach((at, i) => {
          const value = values[i];
          if (value !== undefined) points.push({ at: at.toISOString(), value });
        });
        series.set(result.Id, points);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return groups.map((group, i) => ({
      group,
      capacity: series.get(`capacity${i}`) ?? [],
      running: series.get(`running${i}`) ?? [],
    }));
  }
}
