import { Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, FUNCTION, METRICS_NAMESPACE } from '../../lambdas/contracts/names.js';
import { parseConfig } from '../../lambdas/core/contracts/validation.js';
import {
  type ProvisionerKeyRotationConfig,
  type ProvisionerKeyRotationConfigInput,
  provisionerKeyRotationConfigSchema,
} from '../../lambdas/core/keys/config.js';
import { KEY_HEALTH_METRICS } from '../../lambdas/core/keys/metrics.js';
import { runbookLink } from '../alerting/construct.js';
import { coderEnvironment } from '../common/coder-environment.js';
import { ControllerFunction } from '../common/controller-function.js';

export const ROTATION_HANDLER = FUNCTION.keysRotation;
export const KEY_HEALTH_HANDLER = FUNCTION.keysHealth;

/** Runbook anchors (docs/RUNBOOK.md) of this capability's alarms. */
export const PROVISIONER_KEY_RUNBOOK = {
  keyAge: 'provisioner-key-age',
  daemonsOnOldKey: 'provisioner-daemons-on-old-key',
  rotationFailed: 'keys-rotation-failed',
  currentKeyMissing: 'provisioner-key-missing',
  healthCheckFailed: 'keys-health-failed',
  deadLetterQueue: 'dead-letter-queue-not-empty',
} as const;

export interface ProvisionerKeyRotationProps {
  /**
   * Organization, key tags, rotation interval (@default 30 days), policy maximum key age
   * (@default 90 days), alert lead (@default 14 days), old-key grace (@default 24 hours), old-key
   * alarm (@default 72 hours), managed key prefix (@default this deployment's own,
   * `cfc-<8 hex digits>` derived from the key secret's ARN at run time; docs/keys.md). Validated at synth.
   */
  readonly config: ProvisionerKeyRotationConfigInput;
  /** Coder's access URL and the secret holding the controller's API token (`{"token": "..."}`). */
  readonly coder: { readonly url: string; readonly tokenSecret: secretsmanager.ISecret };
}

/**
 * The external provisioners' Coder key in a KMS-encrypted secret, rotated by a Secrets Manager
 * rotation function, with a daily key-health check and its alarms. Alarms are returned, not wired:
 * the stack sends them to the alarm topic (`ControllerAlerting.notify(...alarms)`).
 */
export class ProvisionerKeyRotation extends Construct {
  readonly config: ProvisionerKeyRotationConfig;
  readonly key: kms.Key;
  readonly secret: secretsmanager.Secret;
  readonly rotationFunction: ControllerFunction;
  readonly healthFunction: ControllerFunction;
  readonly healthSchedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  readonly scheduleRole: iam.Role;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ProvisionerKeyRotationProps) {
    super(scope, id);
    const config = parseConfig(
      provisionerKeyRotationConfigSchema,
      props.config,
      'provisioner key rotation config',
    );
    this.config = config;

    this.key = new kms.Key(this, 'SecretKey', {
      description: 'Encrypts the Coder provisioner key secret',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.secret = new secretsmanager.Secret(this, 'ProvisionerKeySecret', {
      description: `Coder provisioner key for organization ${config.organization} (rotated by the Coder Fleet Controller)`,
      encryptionKey: this.key,
      // Not a secret: the organization and the tags the first key gets. The first rotation, which
      // starts when the schedule is attached, creates the first key.
      secretStringValue: SecretValue.unsafePlainText(
        JSON.stringify({ organization: config.organization, tags: config.keyTags }),
      ),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const environment = {
      [ENV.keysConfig]: JSON.stringify(config),
      ...coderEnvironment(props.coder),
    };
    this.rotationFunction = new ControllerFunction(this, 'RotationFunction', {
      handlerName: ROTATION_HANDLER,
      description: 'Secrets Manager rotation of the Coder provisioner key',
      environment,
    });
    props.coder.tokenSecret.grantRead(this.rotationFunction);
    // Grants the function DescribeSecret, GetSecretValue, PutSecretValue and UpdateSecretVersionStage
    // on this secret, encrypt/decrypt with its key through Secrets Manager, and lets Secrets Manager invoke it.
    this.secret.addRotationSchedule('RotationSchedule', {
      rotationLambda: this.rotationFunction,
      automaticallyAfter: Duration.days(config.rotationIntervalDays),
    });
    // Confused deputy: only this secret, in this account, may have Secrets Manager invoke the function.
    for (const child of this.rotationFunction.node.findAll()) {
      if (child instanceof lambda.CfnPermission && child.principal === 'secretsmanager.amazonaws.com') {
        child.sourceAccount = Stack.of(this).account;
        child.sourceArn = this.secret.secretArn;
      }
    }

    this.healthFunction = new ControllerFunction(this, 'HealthFunction', {
      handlerName: KEY_HEALTH_HANDLER,
      description: 'Daily Coder provisioner key health check; ad hoc {"action":"status"}',
      environment: { ...environment, [ENV.keysSecretArn]: this.secret.secretArn },
    });
    this.secret.grantRead(this.healthFunction);
    props.coder.tokenSecret.grantRead(this.healthFunction);

    this.deadLetterQueue = new sqs.Queue(this, 'HealthScheduleDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // The scheduler's DLQ catches failed deliveries; a health run that fails after delivery lands here too.
    this.healthFunction.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    // Our own role rather than the stack-wide one LambdaInvoke would share, so its findings are ours to acknowledge.
    this.scheduleRole = new iam.Role(this, 'HealthScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets EventBridge Scheduler invoke the provisioner key health check',
    });
    this.healthSchedule = new scheduler.Schedule(this, 'HealthSchedule', {
      description: 'Daily Coder provisioner key health check',
      schedule: scheduler.ScheduleExpression.rate(Duration.days(1)),
      target: new targets.LambdaInvoke(this.healthFunction, {
        input: scheduler.ScheduleTargetInput.fromObject({
          action: 'check',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
        deadLetterQueue: this.deadLetterQueue,
        role: this.scheduleRole,
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
      }),
    });

    this.alarms = this.createAlarms(config);
    this.suppressNagFindings();
  }

  private createAlarms(config: ProvisionerKeyRotationConfig): cloudwatch.Alarm[] {
    const daily = (metricName: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: KEY_HEALTH_HANDLER },
        statistic: 'Maximum',
        period: Duration.days(1),
      });
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const ageThreshold = config.maxKeyAgeDays - config.alertLeadDays;
    const keyAge = daily(KEY_HEALTH_METRICS.currentKeyAgeDays).createAlarm(this, 'KeyAgeAlarm', {
      alarmDescription: `The Coder provisioner key is ${ageThreshold} days old or older: ${config.alertLeadDays} days before the ${config.maxKeyAgeDays}-day policy maximum. Runbook: ${runbookLink(PROVISIONER_KEY_RUNBOOK.keyAge)}`,
      threshold: ageThreshold,
      evaluationPeriods: 1,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    const oldKey = daily(KEY_HEALTH_METRICS.oldKeyInUseHours).createAlarm(this, 'DaemonsOnOldKeyAlarm', {
      alarmDescription: `Provisioner daemons are still connected with a non-current key ${config.oldKeyInUseAlarmHours} hours after a rotation. Runbook: ${runbookLink(PROVISIONER_KEY_RUNBOOK.daemonsOnOldKey)}`,
      threshold: config.oldKeyInUseAlarmHours,
      evaluationPeriods: 1,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    const missing = daily(KEY_HEALTH_METRICS.currentKeyMissing).createAlarm(this, 'CurrentKeyMissingAlarm', {
      alarmDescription: `The key in the provisioner key secret (AWSCURRENT) no longer exists in Coder; new provisioners cannot connect. Runbook: ${runbookLink(PROVISIONER_KEY_RUNBOOK.currentKeyMissing)}`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    const fiveMinutes = { period: Duration.minutes(5), statistic: 'Sum' };
    const rotationFailed = this.rotationFunction
      .metricErrors(fiveMinutes)
      .createAlarm(this, 'RotationFailedAlarm', {
        alarmDescription: `A step of the Coder provisioner key rotation failed; AWSCURRENT still holds the old key. Runbook: ${runbookLink(PROVISIONER_KEY_RUNBOOK.rotationFailed)}`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: atLeast,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const healthFailed = this.healthFunction
      .metricErrors(fiveMinutes)
      .createAlarm(this, 'HealthCheckFailedAlarm', {
        alarmDescription: `The daily Coder provisioner key health check failed; key age and old-key metrics are stale. Runbook: ${runbookLink(PROVISIONER_KEY_RUNBOOK.healthCheckFailed)}`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: atLeast,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const dlq = this.deadLetterQueue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, 'HealthScheduleDlqAlarm', {
        alarmDescription: `The scheduler gave up invoking the provisioner key health check. Runbook: ${runbookLink(PROVISIONER_KEY_RUNBOOK.deadLetterQueue)}`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: atLeast,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    return [keyAge, oldKey, rotationFailed, missing, healthFailed, dlq];
  }

  /** Each acknowledgement is scoped to the resource and finding it is about, with its reason. */
  private suppressNagFindings(): void {
    for (const fn of [this.rotationFunction, this.healthFunction]) {
      const role = fn.role;
      if (role) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'X-Ray PutTraceSegments/PutTelemetryRecords and (rotation function only, added by addRotationSchedule) secretsmanager:GetRandomPassword take no resource; every secret and key action is scoped.',
        });
      }
    }
    Validations.of(this.scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.healthFunction.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason:
        'grantInvoke covers the health function and its versions and aliases (`<arn>:*`); nothing else.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the health-check schedule; it needs no DLQ of its own.',
    });
  }
}
