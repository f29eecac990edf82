/**
 * The scaling composition root shared by the scheduler Lambda and `coder-fleet scale`: which
 * adapter backs each port, given the parts each of them has. AWS clients mocked.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeNodegroupCommand, EKSClient, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { OVERRIDE_PARTITION_KEY } from '../../lambdas/adapters/aws/scaling-override-store.js';
import type { WorkspaceLister } from '../../lambdas/adapters/coder/workspace-demand.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { runNodeGroupScaler } from '../../lambdas/core/scaling/run.js';
import { createScalingAwsClients, createScalingEngine } from '../../lambdas/wiring/scaling.js';
import { at, seedConfig } from '../core/scaling/fixtures.js';

const eks = mockClient(EKSClient);
const autoScaling = mockClient(AutoScalingClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const config = seedConfig();
// 18:30 EDT on a working day: off-hours.
const NOW = at('2026-03-09T22:30:00Z');

/** Coder with `running` running workspaces, whatever the query. */
const coderWith = (running: number): WorkspaceLister => ({
  listWorkspaces: async () => ({ workspaces: [], complete: true, count: running }),
  listTemplates: async () => [],
});

const sizesOf = (group: string) =>
  group === 'coder-ws'
    ? { minSize: 2, desiredSize: 2, maxSize: 30 }
    : group === 'coder-prov'
      ? { minSize: 0, desiredSize: 0, maxSize: 5 }
      : { minSize: 3, desiredSize: 3, maxSize: 3 };

beforeEach(() => {
  eks.reset();
  autoScaling.reset();
  dynamo.reset();
  eks.on(DescribeNodegroupCommand).callsFake((input: { nodegroupName: string }) => ({
    nodegroup: { status: 'ACTIVE', scalingConfig: sizesOf(input.nodegroupName) },
  }));
  eks.on(UpdateNodegroupConfigCommand).resolves({ update: { id: 'u-1' } });
  dynamo.on(GetCommand).resolves({});
});

describe('createScalingEngine', () => {
  it('as the Lambda has it: node groups through EKS, the override from the table, demand from Coder', async () => {
    // Prepare
    const engine = createScalingEngine({
      config,
      aws: createScalingAwsClients({ region: 'us-east-1' }),
      coder: { client: coderWith(60) },
      overrideTable: 'overrides',
      log: silentLog,
      now: () => NOW,
    });

    // Act
    const report = await runNodeGroupScaler({ kind: 'run', trigger: 'drift-check', dryRun: false }, engine);

    // Assess: 60 running on 15 per node need 4 nodes; the group had 2.
    expect(report.groups.find((g) => g.group === 'coder-ws')).toMatchObject({ runningWorkspaces: 60 });
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'overrides',
      Key: { [OVERRIDE_PARTITION_KEY]: `override#${config.clusterName}` },
    });
    expect(eks).toHaveReceivedCommandWith(UpdateNodegroupConfigCommand, {
      nodegroupName: 'coder-ws',
      scalingConfig: expect.objectContaining({ desiredSize: 4 }),
    });
  });

  it('as a CLI plan without Coder or a table has it: demand unknown for the reason given, no table read', async () => {
    // Prepare
    const engine = createScalingEngine({
      config,
      aws: createScalingAwsClients({ region: 'us-east-1' }),
      coder: { unavailable: 'no Coder given (--coder-url / CODER_URL)' },
      log: silentLog,
      now: () => NOW,
    });

    // Act
    const report = await runNodeGroupScaler({ kind: 'run', trigger: 'ad-hoc', dryRun: true }, engine);

    // Assess: the workspace group's nodes kept, the reason in the report, the override in memory.
    expect(report.failures).toEqual([
      'coder-ws: running workspaces unknown: no Coder given (--coder-url / CODER_URL)',
    ]);
    expect(report.groups.find((g) => g.group === 'coder-ws')?.target?.desiredSize).toBe(2);
    expect(dynamo).not.toHaveReceivedCommand(GetCommand);
  });
});
