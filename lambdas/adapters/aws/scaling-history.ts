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
export const HOUR = 3600;

/**
 * Every query's datapoints over [from, to), oldest first, by query Id (a query with none is
 * absent). A long window comes in pages (NextToken), each with part of every series.
 */
export const readHourlySeries = async (
  cloudWatch: Pick<CloudWatchClient, 'send'>,
  queries: readonly MetricDataQuery[],
  from: Date,
  to: Date,
): Promise<Map<string, MetricPoint[]>> => {
  const series = new Map<string, MetricPoint[]>();
  let nextToken: string | undefined;
  do {
    const page = await cloudWatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: [...queries],
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
  return series;
};

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
    const series = await readHourlySeries(this.options.cloudWatch, queries, from, to);
    return groups.map((group, i) => ({
      group,
      capacity: series.get(`capacity${i}`) ?? [],
      running: series.get(`running${i}`) ?? [],
    }));
  }
}
