import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CODER_API_METRICS } from '../lambdas/contracts/coder-api-metrics.js';
import { METRICS_NAMESPACE } from '../lambdas/contracts/names.js';
import { FAMILY_METRICS } from '../lambdas/core/families/metrics.js';
import { WEBHOOK_METRICS } from '../lambdas/core/families/webhook/metrics.js';
import { KEY_HEALTH_METRICS } from '../lambdas/core/keys/metrics.js';
import { SCALING_METRICS } from '../lambdas/core/scaling/metrics.js';
import { ControllerAlerting, runbookLink } from './alerting/construct.js';
import { ControllerDashboard } from './alerting/dashboard.js';
import {
  heartbeatAlarm,
  queueAgeAlarm,
  scheduleInterval,
  webhookUnauthorizedAlarm,
} from './alerting/heartbeat.js';
import type { Severity } from './alerting/severity.js';
import { CoderRequestBudget } from './common/coder-budget.js';
import type { ControllerFunction } from './common/controller-function.js';
import { type ControllerConfig, type ControllerConfigInput, parseControllerConfig } from './config.js';
import { WorkspaceFamilies } from './families/construct.js';
import { ProvisionerKeyRotation } from './keys/construct.js';
import { NodeGroupScaling } from './scaling/construct.js';

export interface CoderFleetControllerProps {
  /** The whole configuration; validated here, so a bad value fails `cdk synth` naming every bad field. */
  readonly config: ControllerConfigInput;
}

/** A secret the deployer puts a value in after the first deploy, and how. */
export interface SecretToFill {
  /** What it is, in PascalCase; the project's stack outputs its ARN as `<name>SecretArn`. */
  readonly name: string;
  readonly secret: secretsmanager.ISecret;
  /** What to do with it, in a sentence (the project's stack uses it as the output's description). */
  readonly action: string;
}

/** A function the root watches, and whether its capability already alarms on its errors. */
interface WatchedFunction {
  readonly label: string;
  readonly fn: ControllerFunction;
  readonly errorsAlarmedByCapability: boolean;
  readonly callsCoder: boolean;
}

/**
 * The Coder Fleet Controller: node group scaling, provisioner key rotation and workspace families,
 * each optional, with one alarm topic, one dashboard and the Coder token secret they share.
 * Drop it into any CDK app; `bin/app.ts` is the project's own.
 */
export class CoderFleetController extends Construct {
  readonly config: ControllerConfig;
  readonly coderTokenSecret: secretsmanager.ISecret;
  readonly alerting: ControllerAlerting;
  readonly dashboard: ControllerDashboard;
  readonly scaling?: NodeGroupScaling;
  readonly families?: WorkspaceFamilies;
  readonly provisionerKeys?: ProvisionerKeyRotation;
  readonly coderBudget: CoderRequestBudget;

  // What a deployer needs once the stack is up (README: after the first deploy). The project's
  // stack makes its outputs from these; in your own app, give them to CfnOutput the same way.

  /**
   * The families webhook's Function URL (with `families` configured). Not the whole endpoint:
   * Coder's `CODER_NOTIFICATIONS_WEBHOOK_ENDPOINT` is this URL followed by the `pathSecret` held in
   * `webhookSecret`, which authenticates the request. The URL alone admits nothing.
   */
  readonly webhookUrl: string | undefined;
  /** The webhook's path secret, `{"pathSecret": "..."}`, generated at deploy (with `families`). */
  readonly webhookSecret: secretsmanager.ISecret | undefined;
  /**
   * The secrets that need the deployer after the first deploy, in order: the Coder token (when this
   * construct created its secret rather than using `coder.tokenSecretArn`), then the provisioner key
   * (with `provisionerKeys`: its first rotation can only succeed once the token is in).
   */
  readonly secretsToFill: readonly SecretToFill[];
  /** The CloudWatch dashboard's name (a row per capability, then the Coder API and the Lambdas). */
  readonly dashboardName: string;
  /** One SNS topic per severity; subscribe a pager to `critical`, email or chat to the others. */
  readonly alarmTopics: Readonly<Record<Severity, sns.ITopic>>;

  constructor(scope: Construct, id: string, props: CoderFleetControllerProps) {
    super(scope, id);
    this.config = parseControllerConfig(props.config);
    const { config } = this;
    this.coderTokenSecret = this.coderToken(config);
    const coder = { url: config.coder.url, tokenSecret: this.coderTokenSecret };
    this.alerting = new ControllerAlerting(this, 'Alerting', {
      emails: config.alarms.emails,
      subscriptions: config.alarms.subscriptions,
    });

    const watched: WatchedFunction[] = [];
    if (config.scaling) {
      this.scaling = new NodeGroupScaling(this, 'NodeGroupScaling', {
        config: config.scaling,
        coder,
        alarms: {
          scalingFailures: config.alarms.scalingFailures,
          belowFloorEvaluationPeriods: config.alarms.belowFloorChecks,
        },
      });
      this.alerting.notify(...this.scaling.alarms);
      this.alerting.notify(
        heartbeatAlarm(this, 'NodeGroupScalerHeartbeat', {
          service: this.scaling.function.serviceName,
          metricName: SCALING_METRICS.failures,
          every: Duration.minutes(config.scaling.schedule.driftCheckMinutes),
          what: 'The node group scaler',
          runbook: 'scaling-scheduler-silent',
        }),
      );
      watched.push(
        {
          label: 'NodeGroupScaler',
          fn: this.scaling.function,
          errorsAlarmedByCapability: false,
          callsCoder: true,
        },
        {
          label: 'SchedulePreview',
          fn: this.scaling.previewFunction,
          errorsAlarmedByCapability: false,
          callsCoder: false,
        },
      );
    }
    if (config.families) {
      this.families = new WorkspaceFamilies(this, 'WorkspaceFamilies', {
        config: config.families,
        coder,
        ...(config.coder.auditLogGroupName ? { auditLogGroupName: config.coder.auditLogGroupName } : {}),
        alarms: {
          consecutiveBadRuns: config.alarms.familiesBadRuns,
          consecutiveErrorPeriods: config.alarms.familiesErrorPeriods,
          ...(config.alarms.auditLogSilenceHours
            ? { auditLogSilence: Duration.hours(config.alarms.auditLogSilenceHours) }
            : {}),
          atProvisionerCapFor: Duration.minutes(config.alarms.familiesAtProvisionerCapMinutes),
          noProvisionerFor: Duration.minutes(config.alarms.familiesNoProvisionerMinutes),
        },
      });
      this.alerting.notify(...this.families.alarms);
      this.alerting.notify(
        heartbeatAlarm(this, 'FamiliesReconcileHeartbeat', {
          service: this.families.reconcileFunction.serviceName,
          metricName: FAMILY_METRICS.families,
          every: scheduleInterval(this.families.schedule),
          what: 'The families reconcile',
          runbook: 'families-reconcile-silent',
        }),
        webhookUnauthorizedAlarm(this, {
          service: this.families.webhookFunction.serviceName,
          metricName: WEBHOOK_METRICS.unauthorized,
        }),
        queueAgeAlarm(this, this.families.queue, Duration.minutes(config.alarms.queueAgeMinutes)),
      );
      watched.push(
        {
          label: 'FamiliesReconcile',
          fn: this.families.reconcileFunction,
          errorsAlarmedByCapability: true,
          callsCoder: true,
        },
        {
          label: 'FamiliesWebhook',
          fn: this.families.webhookFunction,
          errorsAlarmedByCapability: false,
          callsCoder: false,
        },
        {
          label: 'FamiliesWorker',
          fn: this.families.workerFunction,
          errorsAlarmedByCapability: false,
          callsCoder: true,
        },
      );
      if (this.families.auditLogs) {
        watched.push({
          label: 'FamiliesLogs',
          fn: this.families.auditLogs.function,
          errorsAlarmedByCapability: false,
          callsCoder: false,
        });
      }
    }
    if (config.provisionerKeys) {
      this.provisionerKeys = new ProvisionerKeyRotation(this, 'ProvisionerKeyRotation', {
        config: config.provisionerKeys,
        coder,
      });
      this.alerting.notify(...this.provisionerKeys.alarms);
      this.alerting.notify(
        heartbeatAlarm(this, 'ProvisionerKeyHealthHeartbeat', {
          service: this.provisionerKeys.healthFunction.serviceName,
          metricName: KEY_HEALTH_METRICS.managedKeyCount,
          every: scheduleInterval(this.provisionerKeys.healthSchedule),
          what: 'The provisioner key health check',
          runbook: 'keys-health-silent',
        }),
      );
      watched.push(
        {
          label: 'ProvisionerKeyRotation',
          fn: this.provisionerKeys.rotationFunction,
          errorsAlarmedByCapability: true,
          callsCoder: true,
        },
        {
          label: 'ProvisionerKeyHealth',
          fn: this.provisionerKeys.healthFunction,
          errorsAlarmedByCapability: true,
          callsCoder: true,
        },
      );
    }

    // One Coder budget for every Lambda that calls Coder (one token, one egress address).
    this.coderBudget = new CoderRequestBudget(this, 'CoderRequestBudget', {
      requestsPerMinute: config.coder.requestsPerMinute,
    });
    for (const { fn } of watched.filter((w) => w.callsCoder)) this.coderBudget.attach(fn);

    for (const { label, fn, errorsAlarmedByCapability, callsCoder } of watched) {
      this.alerting.watchFunction(fn, label, {
        errors: errorsAlarmedByCapability ? undefined : config.alarms.lambdaErrors,
        throttles: config.alarms.lambdaThrottles,
        skipErrors: errorsAlarmedByCapability,
      });
      if (callsCoder) this.watchCoderApi(label, fn, config);
    }

    this.dashboard = new ControllerDashboard(this, 'Dashboard', {
      scaling: this.scaling,
      families: this.families,
      provisionerKeys: this.provisionerKeys,
      functions: watched.map(({ label, fn }) => ({ label, fn })),
      coderFacingServices: watched.filter((w) => w.callsCoder).map((w) => w.fn.serviceName),
      alarmsBySeverity: this.alerting.alarmsBySeverity,
    });

    this.webhookUrl = this.families?.functionUrl.url;
    this.webhookSecret = this.families?.webhookSecret;
    this.dashboardName = this.dashboard.dashboard.dashboardName;
    this.alarmTopics = { ...this.alerting.topics };
    this.secretsToFill = [
      ...(config.coder.tokenSecretArn
        ? []
        : [
            {
              name: 'CoderToken',
              secret: this.coderTokenSecret,
              action:
                'Put the Coder service account token here: aws secretsmanager put-secret-value --secret-id <arn> --secret-string \'{"token":"..."}\'',
            },
          ]),
      ...(this.provisionerKeys
        ? [
            {
              name: 'ProvisionerKey',
              secret: this.provisionerKeys.secret,
              action:
                'Filled by rotation: once the Coder token is in, aws secretsmanager rotate-secret --secret-id <arn> creates the first key',
            },
          ]
        : []),
    ];
  }

  /** The controller's Coder token: an existing secret, or an empty one the operator fills after deploy. */
  private coderToken(config: ControllerConfig): secretsmanager.ISecret {
    if (config.coder.tokenSecretArn) {
      return secretsmanager.Secret.fromSecretCompleteArn(this, 'CoderToken', config.coder.tokenSecretArn);
    }
    const key = new kms.Key(this, 'CoderTokenKey', {
      description: "Encrypts the Coder Fleet Controller's Coder API token",
      enableKeyRotation: true,
    });
    const secret = new secretsmanager.Secret(this, 'CoderToken', {
      description:
        'Coder API token of the controller service account, as {"token": "..."}; set it with ' +
        'aws secretsmanager put-secret-value after the first deploy (see README).',
      encryptionKey: key,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A Coder API token cannot be rotated by a Secrets Manager Lambda without an Owner session; the ' +
        "service account's token is long-lived by design and replaced by the operator (README: Coder token).",
    });
    return secret;
  }

  /** Coder unreachable (timeouts, network errors) or rate-limiting us, seen by one function. */
  private watchCoderApi(label: string, fn: ControllerFunction, config: ControllerConfig): void {
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: fn.serviceName },
        statistic: 'Sum',
        period: Duration.minutes(15),
      });
    const unreachable = metric(CODER_API_METRICS.unreachable).createAlarm(this, `${label}CoderUnreachable`, {
      alarmDescription: `${label} could not reach Coder (timeouts or network errors). Runbook: ${runbookLink('coder-api-unreachable')}`,
      threshold: config.alarms.coderUnreachable,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const throttled = metric(CODER_API_METRICS.throttled).createAlarm(this, `${label}CoderThrottled`, {
      alarmDescription: `Coder answered ${label} with 429 (rate limited). Runbook: ${runbookLink('coder-api-rate-limited')}`,
      threshold: config.alarms.coderThrottled,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alerting.notify(unreachable, throttled);
  }
}
