import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchScalingHistory } from '../../../lambdas/adapters/aws/scaling-history.js';

const cloudWatch = mockClient(CloudWatchClient);
const from = new Date('2026-12-07T05:00:00Z');
const to = new Date('2026-12-14T05:00:00Z');
const hour = (h: number) => new Date(from.getTime() + h * 3_600_000);

describe('CloudWatchScalingHistory', () => {
  beforeEach(() => cloudWatch.reset());

  it('asks hourly averages of TargetDesiredSize and RunningWorkspaces per group, and follows NextToken', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'capacity0', Timestamps: [hour(0), hour(1)], Values: [20, 21] },
          { Id: 'running0', Timestamps: [hour(0)], Values: [300] },
          { Id: 'capacity1', Timestamps: [hour(0)], Values: [0] },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [{ Id: 'capacity0', Timestamps: [hour(2)], Values: [22] }],
      });
    const history = new CloudWatchScalingHistory({
      cloudWatch: new CloudWatchClient({ region: 'us-east-1' }),
      namespace: 'CoderFleetController',
      service: 'node-group-scaler',
    });

    const result = await history.read(['coder-ws', 'coder-prov'], from, to);

    expect(result).toEqual([
      {
        group: 'coder-ws',
        capacity: [
          { at: hour(0).toISOString(), value: 20 },
          { at: hour(1).toISOString(), value: 21 },
          { at: hour(2).toISOString(), value: 22 },
        ],
        running: [{ at: hour(0).toISOString(), value: 300 }],
      },
      { group: 'coder-prov', capacity: [{ at: hour(0).toISOString(), value: 0 }], running: [] },
    ]);
    expect(cloudWatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cloudWatch).toHaveReceivedNthCommandWith(GetMetricDataCommand, 2, { NextToken: 'page-2' });
    expect(cloudWatch).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: from,
      EndTime: to,
      MetricDataQueries: expect.arrayContaining([
        {
          Id: 'capacity1',
          MetricStat: {
            Metric: {
              Namespace: 'CoderFleetController',
              MetricName: 'TargetDesiredSize',
              Dimensions: [
                { Name: 'service', Value: 'node-group-scaler' },
                { Name: 'NodeGroup', Value: 'coder-prov' },
              ],
            },
            Period: 3600,
            Stat: 'Average',
          },
          ReturnData: true,
        },
      ]),
    });
  });
});
