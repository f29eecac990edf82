/**
 * Scenario 6: AWS calls of one scaler run over 3 node groups (2 EKS managed, 1 Auto Scaling
 * group), the SDK clients mocked with aws-sdk-client-mock and holding the groups' sizes. A run
 * with every group off target (from off-hours into peak) next to runs with every group at target.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeNodegroupCommand, EKSClient, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsNodeGroups } from '../../lambdas/adapters/aws/node-groups.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import { scalingConfigSchema } from '../../lambdas/core/scaling/config.js';
import { parseScalerEvent } from '../../lambdas/core/scaling/events.js';
import { FixedWorkspaceDemand, InMemoryOverrideStore } from '../../lambdas/core/scaling/in-memory.js';
import type { Sizes } from '../../lambdas/core/scaling/planner.js';
import { runNodeGroupScaler } from '../../lambdas/core/scaling/run.js';
import { check, type Scenario, type ScenarioResult } from '../lib.js';

const CONFIG = scalingConfigSchema.parse({
  clusterName: 'coder',
  nodeGroups: [
    {
      name: 'coder-ws',
      kind: 'eks-managed',
      nodegroupName: 'coder-ws',
      role: { kind: 'workspaces', workspacesPerNode: 15, templates: ['team-dev'] },
      profiles: { peak: { minSize: 10, maxSize: 200 }, 'off-hours': { minSize: 2, maxSize: 30 } },
    },
    {
      name: 'coder-prov',
      kind: 'eks-managed',
      nodegroupName: 'coder-prov',
      role: { kind: 'provisioners' },
      profiles: { peak: { minSize: 2, maxSize: 20 }, 'off-hours': { minSize: 0, maxSize: 5 } },
    },
    {
      name: 'coder-gpu',
      kind: 'auto-scaling-group',
      autoScalingGroupName: 'coder-gpu-asg',
      role: { kind: 'workspaces', workspacesPerNode: 4, templates: ['gpu'] },
      profiles: { peak: { minSize: 1, maxSize: 10 }, 'off-hours': { minSize: 0, maxSize: 2 } },
    },
  ],
});
const PEAK = new Date('2026-03-09T13:00:00Z'); // Monday 09:00 in New York

const COMMANDS = [
  'DescribeNodegroup',
  'UpdateNodegroupConfig',
  'DescribeAutoScalingGroups',
  'UpdateAutoScalingGroup',
] as const;
type Counts = Record<(typeof COMMANDS)[number], number>;

export const scalingRun: Scenario = {
  id: 'scaling-run',
  title: '6. Scaling run, 3 node groups (EKS ×2, ASG ×1)',
  async run(): Promise<ScenarioResult> {
    const eks = mockClient(EKSClient);
    const asg = mockClient(AutoScalingClient);
    try {
      // Off-hours sizes: the peak run must raise every group.
      const sizes = new Map<string, Sizes>([
        ['coder-ws', { minSize: 2, desiredSize: 3, maxSize: 30 }],
        ['coder-prov', { minSize: 0, desiredSize: 1, maxSize: 5 }],
        ['coder-gpu-asg', { minSize: 0, desiredSize: 0, maxSize: 2 }],
      ]);
      eks.on(DescribeNodegroupCommand).callsFake((input: { nodegroupName: string }) => {
        const s = sizes.get(input.nodegroupName);
        if (!s) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
        return { nodegroup: { status: 'ACTIVE', scalingConfig: { ...s } } };
      });
      eks
        .on(UpdateNodegroupConfigCommand)
        .callsFake((input: { nodegroupName: string; scalingConfig: Sizes }) => {
          sizes.set(input.nodegroupName, { ...input.scalingConfig });
          return { update: { id: 'u-1', status: 'InProgress' } };
        });
      asg.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames: string[] }) => ({
        AutoScalingGroups: input.AutoScalingGroupNames.flatMap((name) => {
          const s = sizes.get(name);
          return s
            ? [
                {
                  AutoScalingGroupName: name,
                  MinSize: s.minSize,
                  DesiredCapacity: s.desiredSize,
                  MaxSize: s.maxSize,
                },
              ]
            : [];
        }),
      }));
      asg
        .on(UpdateAutoScalingGroupCommand)
        .callsFake(
          (input: {
            AutoScalingGroupName: string;
            MinSize: number;
            DesiredCapacity: number;
            MaxSize: number;
          }) => {
            sizes.set(input.AutoScalingGroupName, {
              minSize: input.MinSize,
              desiredSize: input.DesiredCapacity,
              maxSize: input.MaxSize,
            });
            return {};
          },
        );
      const deps = {
        config: CONFIG,
        nodeGroups: new AwsNodeGroups({
          eks: new EKSClient({ region: 'us-east-1' }),
          autoScaling: new AutoScalingClient({ region: 'us-east-1' }),
        }),
        demand: new FixedWorkspaceDemand({ 'team-dev': 600, gpu: 6 }),
        overrides: new InMemoryOverrideStore(),
        now: () => PEAK,
        log: silentLog,
      };
      const counts = (): Counts => ({
        DescribeNodegroup: eks.commandCalls(DescribeNodegroupCommand).length,
        UpdateNodegroupConfig: eks.commandCalls(UpdateNodegroupConfigCommand).length,
        DescribeAutoScalingGroups: asg.commandCalls(DescribeAutoScalingGroupsCommand).length,
        UpdateAutoScalingGroup: asg.commandCalls(UpdateAutoScalingGroupCommand).length,
      });
      const runOnce = async () => {
        const before = counts();
        const report = await runNodeGroupScaler(parseScalerEvent({}), deps);
        const after = counts();
        const delta = Object.fromEntries(COMMANDS.map((c) => [c, after[c] - before[c]])) as Counts;
        return { report, delta, total: COMMANDS.reduce((sum, c) => sum + delta[c], 0) };
      };
      const offTarget = await runOnce();
      check(offTarget.report.updates === 3, `off-target run updated ${offTarget.report.updates} groups`);
      const atTarget = [await runOnce(), await runOnce(), await runOnce()];
      for (const run of atTarget) check(run.report.updates === 0, 'at-target run updated a group');
      const describe = (d: Counts) =>
        COMMANDS.filter((c) => d[c] > 0)
          .map((c) => `${c} ${d[c]}`)
          .join(', ');
      const steady = atTarget[2] ?? offTarget;
      const describesOnly = steady.delta.UpdateNodegroupConfig + steady.delta.UpdateAutoScalingGroup === 0;
      return {
        id: this.id,
        title: this.title,
        baseline: 'the same run with every group off target',
        rows: [
          {
            figure: 'AWS calls per run',
            controller: `at target: ${steady.total} (${describe(steady.delta)})`,
            baseline: `off target: ${offTarget.total} (${describe(offTarget.delta)})`,
            comparison: describesOnly ? 'describes only at target' : 'updates at target!',
          },
        ],
        data: {
          offTarget: { delta: offTarget.delta, groups: offTarget.report.groups },
          atTarget: atTarget.map((r) => r.delta),
        },
      };
    } finally {
      eks.restore();
      asg.restore();
    }
  },
};
