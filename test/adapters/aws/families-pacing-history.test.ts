import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchFamiliesPacingHistory } from '../../../lambdas/adapters/aws/families-pacing-history.js';

const cloudWatch = mockClient(CloudWatchClient);
const from = new Date('2026-12-07T05:00:00Z');
const to = new Date('2026-12-14T05:00:00Z');
const hour = (h: number) => new Date(from.getTime() + h * 3_600_000);

const history = () =>
  new CloudWatchFamiliesPacingHistory({
    cloudWatch: new CloudWatchClient({ region: 'us-east-1' }),
    namespace: 'CoderFleetController',
    service: 'families-reconcile',
  });

describe('CloudWatchFamiliesPacingHistory', () => {
  beforeEach(() => cloudWatch.reset());

  it('asks hourly FamilyProvisionerJobsActive (Average, SampleCount) and FamilyProvisionerAtCap (Maximum) by service, and follows NextToken', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'jobsInFlight', Timestamps: [hour(0), hour(1)], Values: [7.5, 2] },
          { Id: 'pacedRuns', Timestamps: [hour(0), hour(1)], Values: [120, 3] },
          { Id: 'atCap', Timestamps: [hour(0)], Values: [1] },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'jobsInFlight', Timestamps: [hour(5)], Values: [1] },
          { Id: 'pacedRuns', Timestamps: [hour(5)], Values: [1] },
          { Id: 'atCap', Timestamps: [hour(1), hour(5)], Values: [0, 0] },
        ],
      });

    const result = await history().read(from, to);

    const at = (h: number, value: number) => ({ at: hour(h).toISOString(), value });
    expect(result).toEqual({
      jobsInFlight: [at(0, 7.5), at(1, 2), at(5, 1)],
      pacedRuns: [at(0, 120), at(1, 3), at(5, 1)],
      atCap: [at(0, 1), at(1, 0), at(5, 0)],
    });
    expect(cloudWatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cloudWatch).toHaveReceivedNthCommandWith(GetMetricDataCommand, 2, { NextToken: 'page-2' });
    const query = (Id: string, MetricName: string, Stat: string) => ({
      Id,
      MetricStat: {
        Metric: {
          Namespace: 'CoderFleetController',
          MetricName,
          Dimensions: [{ Name: 'service', Value: 'families-reconcile' }],
        },
        Period: 3600,
        Stat,
      },
      ReturnData: true,
    });
    expect(cloudWatch).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: from,
      EndTime: to,
      MetricDataQueries: [
        query('jobsInFlight', 'FamilyProvisionerJobsActive', 'Average'),
        query('pacedRuns', 'FamilyProvisionerJobsActive', 'SampleCount'),
        query('atCap', 'FamilyProvisionerAtCap', 'Maximum'),
      ],
    });
  });

  it('gives empty series when the window has no datapoint (no run was about to queue a job)', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'jobsInFlight', Timestamps: [], Values: [] },
        { Id: 'pacedRuns', Timestamps: [], Values: [] },
      ],
    });

    expect(await history().read(from, to)).toEqual({ jobsInFlight: [], pacedRuns: [], atCap: [] });
  });
});
