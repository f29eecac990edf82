import { ArnFormat, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, FUNCTION, METRICS_NAMESPACE } from '../../lambdas/contracts/names.js';
import {
  OVERRIDE_PARTITION_KEY,
  OVERRIDE_TTL_ATTRIBUTE,
} from '../../lambdas/contracts/scaling-override-table.js';
import { ConfigError, parseConfig } from '../../lambdas/core/contracts/validation.js';
import {
  managedGroups,
  type ScalingConfig,
  type ScalingConfigInput,
  scalingConfigSchema,
} from '../../lambdas/core/scaling/config.js';
import { NODE_GROUP_DIMENSION, SCALING_METRICS } from '../../lambdas/core/scaling/metrics.js';
import { evaluationRangeProblem } from '../alerting/alarm-limits.js';
import { coderEnvironment } from '../common/coder-environment.js';
import { ControllerFunction } from '../common/controller-function.js';

const SCALER = FUNCTION.scalingScheduler;
const PREVIEW = FUNCTION.scalingPreview;
const RUNBOOK = 'docs/RUNBOOK.md';
/** Lambda allows 4 KB of environment in total; leave room for the other variables. */
const MAX_CONFIG_ENV_BYTES = 3000;
const DAY_NAMES = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;

export interface NodeGroupScalingAlarmProps {
  /**
   * Failed groups (update failed, group missing, Coder unreadable) in one 15-minute period.
   * @default 1
   */
  readonly scalingFailures?: number;
  /**
   * Consecutive drift checks a workspace group may stay below its running floor before alarming;
   * one is normal (the scaler fixes it on that run).
   * @default 2
   */
  readonly belowFloorEvaluationPeriods?: number;
  /**
   * Messages in the dead-letter queue (schedules that could not invoke, runs that failed after retries).
   * @default 1
   */
  readonly deadLetterMessages?: number;
}

export interface NodeGroupScalingProps {
  /** The scaling configuration; validated at synth, so a bad one fails `cdk synth` naming each field. */
  readonly config: ScalingConfigInput;
  /** Where the Coder API is, and the secret with the controller's token (`{"token": "…"}`). */
  readonly coder: { readonly url: string; readonly tokenSecret: secretsmanager.ISecret };
  /** @default see NodeGroupScalingAlarmProps */
  readonly alarms?: NodeGroupScalingAlarmProps;
  /**
   * How often EventBridge Scheduler retries an invocation it could not deliver.
   * @default 3
   */
  readonly scheduleRetryAttempts?: number;
  /**
   * How old a scheduled invocation may get before it is dropped to the DLQ instead (a 07:00 run
   * that arrives at 09:00 is still right, the run being level-triggered, but by then the next
   * drift check has done the job).
   * @default Duration.hours(1)
   */
  readonly scheduleMaxEventAge?: Duration;
  /**
   * What happens to the override table when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly overrideTableRemovalPolicy?: RemovalPolicy;
}

/** "MON-FRI" for the usual week, else a list like "MON,TUE,THU". */
const workingDays = (weekendDays: readonly number[]): string => {
  const days = [1, 2, 3, 4, 5, 6, 7].filter((d) => !weekendDays.includes(d));
  const first = days[0] as number;
  const last = days[days.length - 1] as number;
  const contiguous = days.length > 1 && last - first + 1 === days.length;
  return contiguous
    ? `${DAY_NAMES[first - 1]}-${DAY_NAMES[last - 1]}`
    : days.map((d) => DAY_NAMES[d - 1]).join(',');
};

/**
 * Time-based node group scaling (DESIGN §1.1): the scaler Lambda, its EventBridge Scheduler
 * schedules (each weekday transition in the configured time zone, plus the drift check), the
 * override table, the schedule preview Lambda, a DLQ and the alarms.
 */
export class NodeGroupScaling extends Construct {
  readonly function: ControllerFunction;
  readonly previewFunction: ControllerFunction;
  readonly overrideTable: dynamodb.TableV2;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedules: scheduler.Schedule[];
  readonly alarms: cloudwatch.Alarm[];
  /** The parsed config (defaults filled), as the Lambda sees it. */
  readonly config: ScalingConfig;

  constructor(scope: Construct, id: string, props: NodeGroupScalingProps) {
    super(scope, id);
    const config = parseConfig(scalingConfigSchema, props.config, 'NodeGroupScaling config', 'scaling');
    this.config = config;
    validateAlarmProps(config, props.alarms ?? {});
    const configJson = JSON.stringify(config);
    if (Buffer.byteLength(configJson) > MAX_CONFIG_ENV_BYTES) {
      throw new Error(
        `NodeGroupScaling config is ${Buffer.byteLength(configJson)} bytes as JSON; the Lambda environment allows ${MAX_CONFIG_ENV_BYTES} for it (trim the holiday list)`,
      );
    }
    const stack = Stack.of(this);
    const managed = managedGroups(config);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the scaling schedules and of the scaler.',
    });

    this.overrideTable = new dynamodb.TableV2(this, 'Overrides', {
      partitionKey: { name: OVERRIDE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: OVERRIDE_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      billing: dynamodb.Billing.onDemand(),
      removalPolicy: props.overrideTableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const environment = {
      [ENV.scalingConfig]: configJson,
      [ENV.scalingOverrideTable]: this.overrideTable.tableName,
    };
    this.function = new ControllerFunction(this, 'Scaler', {
      handlerName: SCALER,
      description: `Scales the node groups of EKS cluster ${config.clusterName} by schedule, never below running workspaces`,
      // Retries with backoff per group (about 20 s at worst each) run sequentially.
      timeout: Duration.minutes(3),
      // Two runs must never race on the same node groups.
      reservedConcurrentExecutions: 1,
      environment: {
        ...environment,
        ...coderEnvironment(props.coder),
      },
    });
    // Failed runs (after the async retries) land in the same DLQ as undeliverable schedules.
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    props.coder.tokenSecret.grantRead(this.function);
    this.overrideTable.grantReadWriteData(this.function);

    this.previewFunction = new ControllerFunction(this, 'Preview', {
      handlerName: PREVIEW,
      description: `Lists the scaling transitions of EKS cluster ${config.clusterName} for a date range`,
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment,
    });
    this.overrideTable.grantReadData(this.previewFunction);

    this.grantNodeGroupAccess(config, managed);

    // Our own role for the schedules, so its (scaler-only) permissions are reviewed here.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Lets the node group scaling schedules invoke the scaler and write to its DLQ',
    });
    const scalerLogicalId = stack.resolve(
      stack.getLogicalId(this.function.node.defaultChild as lambda.CfnFunction),
    );
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${scalerLogicalId}.Arn>:*]`,
      reason: 'lambda:InvokeFunction on the scaler and its versions (grantInvoke); nothing else.',
    });
    const target = (input: Record<string, unknown>) =>
      new targets.LambdaInvoke(this.function, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject(input),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.scheduleRetryAttempts ?? 3,
        maxEventAge: props.scheduleMaxEventAge ?? Duration.hours(1),
      });
    const timeZone = TimeZone.of(config.schedule.timeZone);
    const weekDay = workingDays(config.schedule.weekendDays);
    this.schedules = config.schedule.weekdayTransitions.map((transition) => {
      const [hour, minute] = transition.at.split(':').map((part) => String(Number(part)));
      return new scheduler.Schedule(this, `Transition${transition.at.replace(':', '')}`, {
        description: `${transition.at} ${config.schedule.timeZone} on ${weekDay}: switch to ${transition.profile}`,
        schedule: scheduler.ScheduleExpression.cron({ minute, hour, weekDay, timeZone }),
        target: target({
          trigger: 'transition',
          profile: transition.profile,
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
      });
    });
    this.schedules.push(
      new scheduler.Schedule(this, 'DriftCheck', {
        description: `Every ${config.schedule.driftCheckMinutes} minutes: repair drift, pre-warm, expire overrides`,
        schedule: scheduler.ScheduleExpression.rate(Duration.minutes(config.schedule.driftCheckMinutes)),
        target: target({ trigger: 'drift-check', scheduledTime: scheduler.ContextAttribute.scheduledTime }),
      }),
    );

    this.alarms = this.createAlarms(config, props.alarms ?? {});
    this.suppressFunctionFindings();
  }

  private grantNodeGroupAccess(config: ScalingConfig, managed: ReturnType<typeof managedGroups>): void {
    const stack = Stack.of(this);
    const eksArns = managed.flatMap((group) =>
      group.kind === 'eks-managed'
        ? [
            stack.formatArn({
              service: 'eks',
              resource: 'nodegroup',
              // The trailing segment is the node group's generated id.
              resourceName: `${config.clusterName}/${group.nodegroupName}/*`,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ]
        : [],
    );
    const asgArns = managed.flatMap((group) =>
      group.kind === 'auto-scaling-group'
        ? [
            stack.formatArn({
              service: 'autoscaling',
              resource: 'autoScalingGroup',
              // autoScalingGroup:<uuid>:autoScalingGroupName/<name>: the uuid is not known at synth.
              resourceName: `*:autoScalingGroupName/${group.autoScalingGroupName}`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ]
        : [],
    );
    const policy = new iam.Policy(this, 'NodeGroupAccess', { roles: [this.function.role as iam.IRole] });
    if (eksArns.length > 0) {
      policy.addStatements(
        new iam.PolicyStatement({
          sid: 'ManagedNodeGroups',
          actions: ['eks:DescribeNodegroup', 'eks:UpdateNodegroupConfig'],
          resources: eksArns,
        }),
      );
    }
    if (asgArns.length > 0) {
      policy.addStatements(
        new iam.PolicyStatement({
          sid: 'DescribeAutoScalingGroups',
          actions: ['autoscaling:DescribeAutoScalingGroups'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'UpdateAutoScalingGroups',
          actions: ['autoscaling:UpdateAutoScalingGroup'],
          resources: asgArns,
        }),
      );
    }
    const reason =
      'Scoped to the configured node groups: the last ARN segment of an EKS node group and the uuid in an Auto Scaling group ARN are generated by AWS, and autoscaling:DescribeAutoScalingGroups supports no resource-level permissions.';
    for (const finding of [...eksArns, ...asgArns].map((arn) => `Resource::${nagArn(stack.resolve(arn))}`)) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
    if (asgArns.length > 0)
      Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason });
  }

  private createAlarms(config: ScalingConfig, thresholds: NodeGroupScalingAlarmProps): cloudwatch.Alarm[] {
    const period = Duration.minutes(config.schedule.driftCheckMinutes);
    const metric = (name: string, statistic: string, group?: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SCALER, ...(group ? { [NODE_GROUP_DIMENSION]: group } : {}) },
        statistic,
        period,
      });
    const alarms = [
      new cloudwatch.Alarm(this, 'ScalingFailuresAlarm', {
        alarmDescription: `Node group scaling failed for a group (update failed, group missing, or Coder unreadable). Runbook: ${RUNBOOK}#node-group-scaling-failures`,
        metric: metric(SCALING_METRICS.failures, 'Sum'),
        threshold: thresholds.scalingFailures ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const group of managedGroups(config)) {
      if (group.role.kind !== 'workspaces') continue;
      alarms.push(
        new cloudwatch.Alarm(this, `BelowFloorAlarm-${group.name}`, {
          alarmDescription: `Node group ${group.name} stays below the nodes its running workspaces need. Runbook: ${RUNBOOK}#node-group-below-running-floor`,
          metric: metric(SCALING_METRICS.nodesBelowFloor, 'Minimum', group.name),
          threshold: 0,
          evaluationPeriods: thresholds.belowFloorEvaluationPeriods ?? 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    alarms.push(
      new cloudwatch.Alarm(this, 'ScalingTemplatesUnknownAlarm', {
        alarmDescription: `A workspace group names a template Coder does not have (renamed, deleted or misspelt): the group keeps every node until the config is fixed. Runbook: ${RUNBOOK}#scaling-templates-unknown`,
        metric: metric(SCALING_METRICS.templatesUnknown, 'Maximum'),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
        alarmDescription: `A scaling schedule could not invoke the scaler, or a run failed after its retries. Runbook: ${RUNBOOK}#node-group-scaling-dlq`,
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: thresholds.deadLetterMessages ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    return alarms;
  }

  private suppressFunctionFindings(): void {
    for (const fn of [this.function, this.previewFunction]) {
      const findings = [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
        },
      ];
      for (const finding of findings) Validations.of(fn).acknowledge(finding);
    }
  }
}

/**
 * Alarm settings CloudWatch would refuse at deploy: the below-floor alarm evaluates
 * `belowFloorEvaluationPeriods` periods of one drift-check interval.
 */
const validateAlarmProps = (config: ScalingConfig, alarms: NodeGroupScalingAlarmProps): void => {
  const periods = alarms.belowFloorEvaluationPeriods ?? 2;
  const minutes = config.schedule.driftCheckMinutes;
  const problems: string[] = [];
  if (!Number.isInteger(periods) || periods < 1) {
    problems.push(`alarms.belowFloorEvaluationPeriods: must be an integer of at least 1, got ${periods}`);
  } else {
    const problem = evaluationRangeProblem(minutes * 60, periods);
    if (problem) {
      problems.push(
        `alarms.belowFloorEvaluationPeriods: ${problem} (schedule.driftCheckMinutes is ${minutes})`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError('NodeGroupScaling alarm settings', problems);
};

/** How cdk-nag prints an ARN built from pseudo parameters: `arn:<AWS::Partition>:eks:<AWS::Region>:…`. */
const nagArn = (resolved: unknown): string => {
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return String(resolved);
  return join[1]
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
    .join(join[0]);
};
