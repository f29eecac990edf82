import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  ScalingActivityInProgressFault,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeNodegroupCommand,
  EKSClient,
  type NodegroupStatus,
  ResourceInUseException,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateNodegroupConfigCommand,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsNodeGroups } from '../../../lambdas/adapters/aws/node-groups.js';
import { silentLog } from '../../../lambdas/core/contracts/log-sink.js';
import { executeScalingPlan } from '../../../lambdas/core/scaling/executor.js';
import { type NodeGroupRef, planNodeGroupScaling } from '../../../lambdas/core/scaling/planner.js';
import { NodeGroupNotFoundError, NodeGroupUpdateError } from '../../../lambdas/core/scaling/ports.js';
import { at, seedConfig } from '../../core/scaling/fixtures.js';

const eks = mockClient(EKSClient);
const autoScaling = mockClient(AutoScalingClient);
const ws: NodeGroupRef = { kind: 'eks-managed', clusterName: 'coder', nodegroupName: 'coder-ws' };
const asg: NodeGroupRef = { kind: 'auto-scaling-group', autoScalingGroupName: 'coder-gpu-asg' };
const target = { minSize: 10, desiredSize: 12, maxSize: 200 };

const make = () => {
  const delays: number[] = [];
  const adapter = new AwsNodeGroups({
    eks: new EKSClient({ region: 'us-east-1' }),
    autoScaling: new AutoScalingClient({ region: 'us-east-1' }),
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    log: silentLog,
  });
  return { adapter, delays };
};

const inUse = () =>
  new ResourceInUseException({ message: 'Nodegroup coder-ws is currently being updated', $metadata: {} });

beforeEach(() => {
  eks.reset();
  autoScaling.reset();
});

describe('AwsNodeGroups with EKS managed node groups', () => {
  it('reads status and scalingConfig', async () => {
    eks.on(DescribeNodegroupCommand, { clusterName: 'coder', nodegroupName: 'coder-ws' }).resolves({
      nodegroup: { status: 'ACTIVE', scalingConfig: { minSize: 2, desiredSize: 5, maxSize: 30 } },
    });
    const { adapter } = make();

    await expect(adapter.describe(ws)).resolves.toEqual({
      status: 'ACTIVE',
      sizes: { minSize: 2, desiredSize: 5, maxSize: 30 },
    });
  });

  it('sends the exact UpdateNodegroupConfig input with the request token', async () => {
    eks.on(UpdateNodegroupConfigCommand).resolves({ update: { id: 'u-1', status: 'InProgress' } });
    const { adapter } = make();

    await adapter.update(ws, target, 'cfc-scale-abc');

    expect(eks).toHaveReceivedCommandExactlyOnceWith(UpdateNodegroupConfigCommand, {
      clusterName: 'coder',
      nodegroupName: 'coder-ws',
      scalingConfig: { minSize: 10, desiredSize: 12, maxSize: 200 },
      clientRequestToken: 'cfc-scale-abc',
    });
  });

  it('tells an applied update from EKS replaying an earlier one for the same token', async () => {
    // Prepare: EKS answers a repeated clientRequestToken with the first call's update.
    const now = new Date('2026-03-09T12:10:00Z');
    const adapter = new AwsNodeGroups({
      eks: new EKSClient({ region: 'us-east-1' }),
      autoScaling: new AutoScalingClient({ region: 'us-east-1' }),
      log: silentLog,
      now: () => now,
    });
    eks
      .on(UpdateNodegroupConfigCommand)
      .resolvesOnce({
        update: { id: 'u-new', status: 'InProgress', createdAt: new Date(now.getTime() + 300) },
      })
      .resolvesOnce({
        update: { id: 'u-old', status: 'Successful', createdAt: new Date('2026-03-09T12:01:00Z') },
      });

    // Act / Assess
    await expect(adapter.update(ws, target, 'cfc-scale-abc')).resolves.toEqual({ outcome: 'applied' });
    await expect(adapter.update(ws, target, 'cfc-scale-abc')).resolves.toEqual({
      outcome: 'replayed',
      updateId: 'u-old',
      createdAt: new Date('2026-03-09T12:01:00Z'),
    });
  });

  it('retries ResourceInUseException and throttling with backoff, keeping the same token', async () => {
    eks
      .on(UpdateNodegroupConfigCommand)
      .rejectsOnce(inUse())
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }))
      .resolves({});
    const { adapter, delays } = make();

    await adapter.update(ws, target, 'cfc-scale-abc');

    expect(eks).toHaveReceivedCommandTimes(UpdateNodegroupConfigCommand, 3);
    for (const call of eks.commandCalls(UpdateNodegroupConfigCommand)) {
      expect(call.args[0].input.clientRequestToken).toBe('cfc-scale-abc');
    }
    expect(delays).toEqual([1500, 3000]);
  });

  it('reports a persistent ResourceInUseException as a failure after the attempts run out', async () => {
    eks.on(UpdateNodegroupConfigCommand).rejects(inUse());
    const { adapter, delays } = make();

    const failure = await adapter.update(ws, target, 't').catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(NodeGroupUpdateError);
    expect((failure as NodeGroupUpdateError).message).toBe(
      'UpdateNodegroupConfig on node group coder/coder-ws still failing after 5 attempts: ResourceInUseException: Nodegroup coder-ws is currently being updated',
    );
    expect(eks).toHaveReceivedCommandTimes(UpdateNodegroupConfigCommand, 5);
    expect(delays).toEqual([1500, 3000, 6000, 11250]);
  });

  it('names a missing node group', async () => {
    eks
      .on(DescribeNodegroupCommand)
      .rejects(new ResourceNotFoundException({ message: 'No node group found', $metadata: {} }));
    const { adapter, delays } = make();

    const failure = await adapter.describe(ws).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(NodeGroupNotFoundError);
    expect((failure as Error).message).toMatch(
      /EKS managed node group "coder-ws" not found in cluster "coder"/,
    );
    expect(delays).toEqual([]);
  });

  it('does not retry other errors, and refuses an invalid target before calling AWS', async () => {
    eks
      .on(UpdateNodegroupConfigCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const { adapter } = make();

    await expect(adapter.update(ws, target, 't')).rejects.toThrow('denied');
    expect(eks).toHaveReceivedCommandTimes(UpdateNodegroupConfigCommand, 1);
    await expect(adapter.update(ws, { minSize: 5, desiredSize: 4, maxSize: 10 }, 't')).rejects.toThrow(
      /Refusing/,
    );
    await expect(adapter.update(ws, { minSize: 0, desiredSize: 0, maxSize: 0 }, 't')).rejects.toThrow(
      /Refusing/,
    );
    expect(eks).toHaveReceivedCommandTimes(UpdateNodegroupConfigCommand, 1);
  });
});

describe('AwsNodeGroups with Auto Scaling groups', () => {
  it('reads sizes; a group without Status is ACTIVE, one being deleted is not', async () => {
    autoScaling
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['coder-gpu-asg'] })
      .resolvesOnce({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'coder-gpu-asg',
            MinSize: 0,
            DesiredCapacity: 1,
            MaxSize: 4,
            AvailabilityZones: [],
            DefaultCooldown: 300,
            HealthCheckType: 'EC2',
            CreatedTime: new Date(),
          },
        ],
      })
      .resolvesOnce({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'coder-gpu-asg',
            MinSize: 0,
            DesiredCapacity: 1,
            MaxSize: 4,
            Status: 'Delete in progress',
            AvailabilityZones: [],
            DefaultCooldown: 300,
            HealthCheckType: 'EC2',
            CreatedTime: new Date(),
          },
        ],
      });
    const { adapter } = make();

    await expect(adapter.describe(asg)).resolves.toEqual({
      status: 'ACTIVE',
      sizes: { minSize: 0, desiredSize: 1, maxSize: 4 },
    });
    await expect(adapter.describe(asg)).resolves.toMatchObject({ status: 'Delete in progress' });
  });

  it('names a missing Auto Scaling group', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    const { adapter } = make();
    await expect(adapter.describe(asg)).rejects.toThrow('Auto Scaling group "coder-gpu-asg" not found');
  });

  it('sends the exact UpdateAutoScalingGroup input, retrying a scaling activity in progress', async () => {
    autoScaling
      .on(UpdateAutoScalingGroupCommand)
      .rejectsOnce(new ScalingActivityInProgressFault({ message: 'busy', $metadata: {} }))
      .resolves({});
    const { adapter, delays } = make();

    await adapter.update(asg, { minSize: 1, desiredSize: 2, maxSize: 8 }, 'ignored-by-asg');

    expect(autoScaling).toHaveReceivedCommandTimes(UpdateAutoScalingGroupCommand, 2);
    expect(autoScaling).toHaveReceivedLastCommandWith(UpdateAutoScalingGroupCommand, {
      AutoScalingGroupName: 'coder-gpu-asg',
      MinSize: 1,
      DesiredCapacity: 2,
      MaxSize: 8,
    });
    expect(delays).toEqual([1500]);
  });
});

describe('a scaling run through the AWS adapter', () => {
  const config = seedConfig();
  const now = at('2026-03-09T23:30:00Z'); // Mon 19:30 EDT: off-hours

  const run = async (
    wsSizes: { minSize: number; desiredSize: number; maxSize: number },
    status: NodegroupStatus = 'ACTIVE',
  ) => {
    eks
      .on(DescribeNodegroupCommand, { nodegroupName: 'coder-ws' })
      .resolves({ nodegroup: { status, scalingConfig: wsSizes } });
    eks.on(DescribeNodegroupCommand, { nodegroupName: 'coder-prov' }).resolves({
      nodegroup: { status: 'ACTIVE', scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 5 } },
    });
    eks.on(UpdateNodegroupConfigCommand).resolves({});
    const { adapter } = make();
    const groups = {
      'coder-ws': { kind: 'found' as const, ...(await adapter.describe({ ...ws })) },
      'coder-prov': {
        kind: 'found' as const,
        ...(await adapter.describe({ ...ws, nodegroupName: 'coder-prov' })),
      },
    };
    const plan = planNodeGroupScaling(
      { config, groups, demand: { 'coder-ws': { kind: 'known', running: 40 } } },
      now,
    );
    return executeScalingPlan(plan, {
      nodeGroups: adapter,
      now,
      tokenWindowMinutes: 15,
      dryRun: false,
      log: silentLog,
    });
  };

  it('makes no update call when every group is at target', async () => {
    const outcomes = await run({ minSize: 2, desiredSize: 3, maxSize: 30 });
    expect(outcomes.map((o) => o.outcome)).toEqual(['unchanged', 'unchanged', 'skipped']);
    expect(eks).not.toHaveReceivedCommand(UpdateNodegroupConfigCommand);
    expect(eks).not.toHaveReceivedCommandWith(DescribeNodegroupCommand, { nodegroupName: 'coder-control' });
  });

  it('skips a group that is not ACTIVE without calling update', async () => {
    const outcomes = await run({ minSize: 10, desiredSize: 40, maxSize: 200 }, 'UPDATING');
    expect(outcomes[0]).toEqual({ group: 'coder-ws', outcome: 'skipped' });
    expect(eks).not.toHaveReceivedCommand(UpdateNodegroupConfigCommand);
  });

  it('scales down by lowering min and max only', async () => {
    await run({ minSize: 10, desiredSize: 12, maxSize: 200 });
    expect(eks).toHaveReceivedCommandExactlyOnceWith(UpdateNodegroupConfigCommand, {
      clusterName: 'coder',
      nodegroupName: 'coder-ws',
      scalingConfig: { minSize: 2, desiredSize: 12, maxSize: 30 },
      clientRequestToken: expect.stringMatching(/^cfc-scale-[0-9a-f]{40}$/),
    });
  });
});
