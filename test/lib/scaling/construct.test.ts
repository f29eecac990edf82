import { Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { seed004ScalingConfig } from '../../../config/seed-004.js';
import { ConfigError } from '../../../lambdas/core/contracts/validation.js';
import { type ScalingConfigInput, scalingConfigSchema } from '../../../lambdas/core/scaling/config.js';
import { configFromEnvironment } from '../../../lambdas/wiring/env.js';
import { ENV } from '../../../lambdas/wiring/names.js';
import { NodeGroupScaling } from '../../../lib/scaling/construct.js';
import { type SynthResult, synthWithNag } from '../../support/cdk.js';

const withGpuAsg: ScalingConfigInput = {
  ...seed004ScalingConfig,
  nodeGroups: [
    ...seed004ScalingConfig.nodeGroups,
    {
      name: 'coder-gpu',
      kind: 'auto-scaling-group',
      autoScalingGroupName: 'coder-gpu-asg',
      role: { kind: 'workspaces', workspacesPerNode: 1, templates: ['gpu'] },
      profiles: { peak: { minSize: 0, maxSize: 8 }, 'off-hours': { minSize: 0, maxSize: 2 } },
    },
  ],
};

let synth: SynthResult;
let template: Template;
let construct: NodeGroupScaling;

beforeAll(() => {
  synth = synthWithNag((stack) => {
    const tokenSecret = new secretsmanager.Secret(stack, 'CoderToken');
    // The token secret belongs to the app stack; rotation of the Coder token is not this construct's job.
    Validations.of(tokenSecret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'Test fixture secret.' });
    construct = new NodeGroupScaling(stack, 'Scaling', {
      config: withGpuAsg,
      coder: { url: 'https://coder.example.com', tokenSecret },
    });
  });
  template = synth.template;
});

const scheduleWithInput = (input: Record<string, unknown>) =>
  template.findResources('AWS::Scheduler::Schedule', {
    Properties: { Target: { Input: JSON.stringify(input) } },
  });

describe('NodeGroupScaling', () => {
  it('creates the 07:00 and 18:00 weekday schedules in America/New_York, and the drift check', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 7 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'America/New_York',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({
        Input: JSON.stringify({
          trigger: 'transition',
          profile: 'peak',
          scheduledTime: '<aws.scheduler.scheduled-time>',
        }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 18 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'America/New_York',
      Target: Match.objectLike({
        Input: JSON.stringify({
          trigger: 'transition',
          profile: 'off-hours',
          scheduledTime: '<aws.scheduler.scheduled-time>',
        }),
      }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      Target: Match.objectLike({
        Input: JSON.stringify({ trigger: 'drift-check', scheduledTime: '<aws.scheduler.scheduled-time>' }),
      }),
    });
    expect(
      Object.keys(
        scheduleWithInput({ trigger: 'drift-check', scheduledTime: '<aws.scheduler.scheduled-time>' }),
      ),
    ).toHaveLength(1);
  });

  it('targets the scaler function and sends failures to an encrypted, TLS-only DLQ', () => {
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    const dlqRef = Object.values(schedules).map((s) => s.Properties.Target.DeadLetterConfig.Arn);
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(1);
    const [queueId, queue] = Object.entries(queues)[0] as [string, { Properties: Record<string, unknown> }];
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    for (const arn of dlqRef) expect(arn).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('runs the scaler alone (reserved concurrency 1) with the parsed config in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          CODER_URL: 'https://coder.example.com',
          CODER_TOKEN_SECRET_ARN: { Ref: Match.stringLikeRegexp('CoderToken') },
          SCALING_OVERRIDE_TABLE: Match.anyValue(),
        }),
      },
    });
    const fn = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { ReservedConcurrentExecutions: 1 } }),
    )[0];
    const raw = fn?.Properties.Environment.Variables[ENV.scalingConfig] as string;
    const config = configFromEnvironment(scalingConfigSchema, ENV.scalingConfig, {
      [ENV.scalingConfig]: raw,
    });
    expect(config).toEqual(construct.config);
    expect(config.schedule.driftCheckMinutes).toBe(15);
  });

  it('keeps overrides in an encrypted table with point-in-time recovery and a TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
  });

  it('limits IAM to the configured cluster, node groups and Auto Scaling groups', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    const withAction = (action: string) =>
      statements.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
    const text = (value: unknown) => JSON.stringify(value);

    const eks = withAction('eks:UpdateNodegroupConfig');
    expect(eks).toHaveLength(1);
    expect(text(eks[0]?.Resource)).toContain(':nodegroup/coder/coder-ws/*');
    expect(text(eks[0]?.Resource)).toContain(':nodegroup/coder/coder-prov/*');
    expect(text(eks[0]?.Resource)).not.toContain('coder-control');
    for (const s of statements) {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      if (actions.some((a) => a.startsWith('eks:') || a === 'autoscaling:UpdateAutoScalingGroup')) {
        expect(s.Resource).not.toBe('*');
        expect(text(s.Resource)).not.toMatch(/"\*"/);
      }
    }
    const asg = withAction('autoscaling:UpdateAutoScalingGroup');
    expect(asg).toHaveLength(1);
    expect(text(asg[0]?.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/coder-gpu-asg');
    expect(withAction('autoscaling:DescribeAutoScalingGroups')[0]?.Resource).toBe('*');
  });

  it('has alarms for failures, each workspace group below its floor, unknown templates and the DLQ, with runbook links', () => {
    expect(construct.alarms).toHaveLength(5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ScalingFailures',
      Namespace: 'CoderFleetController',
      Dimensions: [{ Name: 'service', Value: 'scaling-scheduler' }],
      Threshold: 1,
      Period: 900,
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#node-group-scaling-failures'),
    });
    for (const group of ['coder-ws', 'coder-gpu']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'NodesBelowRunningFloor',
        Dimensions: Match.arrayWith([{ Name: 'NodeGroup', Value: group }]),
        EvaluationPeriods: 2,
        Threshold: 0,
        AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#node-group-below-running-floor'),
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ScalingTemplatesUnknown',
      Dimensions: [{ Name: 'service', Value: 'scaling-scheduler' }],
      Statistic: 'Maximum',
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#scaling-templates-unknown'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#node-group-scaling-dlq'),
    });
  });

  it('has no unsuppressed cdk-nag errors or warnings', () => {
    expect(synth.nagErrors).toEqual([]);
    expect(synth.nagWarnings).toEqual([]);
  });

  it('lets only EventBridge Scheduler of this account invoke the scaler through the schedules', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ],
      },
    });
  });

  it('fails synth on a bad config, naming each field', () => {
    const bad = {
      ...seed004ScalingConfig,
      schedule: { timeZone: 'Mars/Olympus', weekdayTransitions: [{ at: '25:00', profile: 'peak' }] },
    } as unknown as ScalingConfigInput;
    let error: unknown;
    try {
      synthWithNag((stack) => {
        const tokenSecret = new secretsmanager.Secret(stack, 'CoderToken');
        new NodeGroupScaling(stack, 'Scaling', { config: bad, coder: { url: 'https://c', tokenSecret } });
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^scaling\.schedule\.timeZone: must be a valid IANA time zone/),
        expect.stringMatching(/^scaling\.schedule\.weekdayTransitions\[0\]\.at: must be HH:MM/),
      ]),
    );
  });
});
