import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/contracts/names.js';
import { FAMILY_METRICS, PROVISIONER_PACING_METRICS } from '../../lambdas/core/families/metrics.js';
import { WEBHOOK_METRICS } from '../../lambdas/core/families/webhook/metrics.js';
import { evaluationRangeProblem } from '../alerting/alarm-limits.js';
import { runbookLink } from '../alerting/construct.js';
import type { ControllerFunction } from '../common/controller-function.js';
import type { WorkspaceFamiliesAlarmProps } from './construct.js';
import { FAMILIES_WEBHOOK_HANDLER, FAMILIES_WORKER_HANDLER } from './ingress.js';
import { pacingMetric } from './pacing-widgets.js';
import { FAMILIES_RECONCILE_HANDLER } from './schedule.js';

/**
 * The engine's per-run metrics (service `families-reconcile`, namespace `CoderFleetController`)
 * that the alarms watch: families that hit the consecutive-failure cap, failed actions, and
 * children that should exist and did not at the start of a run.
 */
export const FAMILIES_ALARM_METRICS = {
  hardLimited: FAMILY_METRICS.hardLimited,
  failures: FAMILY_METRICS.failures,
  childrenMissing: FAMILY_METRICS.childrenMissing,
  atProvisionerCap: PROVISIONER_PACING_METRICS.atCap,
  matchingDaemons: PROVISIONER_PACING_METRICS.matchingDaemons,
} as const;

/** Runbook anchors (docs/RUNBOOK.md) of this capability's alarms. */
export const FAMILIES_RUNBOOK = {
  failing: 'families-failing',
  drifting: 'families-drifting',
  reconcileErrors: 'families-reconcile-errors',
  webhookErrors: 'families-webhook-errors',
  deadLetterQueue: 'dead-letter-queue-not-empty',
  atProvisionerCap: 'families-provisioner-cap',
  noProvisioner: 'families-no-provisioner',
} as const;

/** Default of WorkspaceFamiliesAlarmProps.atProvisionerCapFor. */
export const AT_PROVISIONER_CAP_ALARM_AFTER = Duration.hours(2);
/** Default of WorkspaceFamiliesAlarmProps.noProvisionerFor. */
export const NO_PROVISIONER_ALARM_AFTER = Duration.minutes(30);

/** 5-minute periods in `d`, at least one; CloudWatch evaluates at most 1 day of them (288). */
const fiveMinutePeriods = (d: Duration): number => Math.min(288, Math.max(1, Math.ceil(d.toMinutes() / 5)));

/**
 * The capability's alarms, created directly in `scope` (their logical ids depend on it). They are
 * returned, not wired: the stack sends them to the alarm topic.
 */
export const createFamiliesAlarms = (
  scope: Construct,
  thresholds: WorkspaceFamiliesAlarmProps,
  watched: {
    readonly reconcileFunction: ControllerFunction;
    readonly webhookFunction: ControllerFunction;
    readonly queueDeadLetters: sqs.Queue;
    readonly scheduleDeadLetters: sqs.Queue;
  },
): cloudwatch.Alarm[] => {
  const badRuns = thresholds.consecutiveBadRuns ?? 3;
  const errorPeriods = thresholds.consecutiveErrorPeriods ?? 2;
  const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
  const fiveMinutes = Duration.minutes(5);
  const emf = (service: string, metricName: string, statistic: string): cloudwatch.Metric =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service },
      statistic,
      period: fiveMinutes,
    });

  const hardLimited = emf(
    FAMILIES_RECONCILE_HANDLER,
    FAMILIES_ALARM_METRICS.hardLimited,
    'Maximum',
  ).createAlarm(scope, 'FamiliesFailingAlarm', {
    alarmDescription: `At least one workspace family reached its consecutive-failure cap and is left alone until someone looks. Runbook: ${runbookLink(FAMILIES_RUNBOOK.failing)}`,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: atLeast,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  // Children still missing after several scheduled runs in a row: the controller is not converging.
  const drifting = emf(
    FAMILIES_RECONCILE_HANDLER,
    FAMILIES_ALARM_METRICS.childrenMissing,
    'Minimum',
  ).createAlarm(scope, 'FamiliesDriftingAlarm', {
    alarmDescription: `Workspace family children have been missing for ${badRuns} reconcile runs in a row. Runbook: ${runbookLink(FAMILIES_RUNBOOK.drifting)}`,
    threshold: 1,
    evaluationPeriods: badRuns,
    datapointsToAlarm: badRuns,
    comparisonOperator: atLeast,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const failures = emf(FAMILIES_RECONCILE_HANDLER, FAMILIES_ALARM_METRICS.failures, 'Sum').createAlarm(
    scope,
    'FamilyFailuresAlarm',
    {
      alarmDescription: `Workspace family actions have been failing for ${badRuns} reconcile runs in a row. Runbook: ${runbookLink(FAMILIES_RUNBOOK.failing)}`,
      threshold: 1,
      evaluationPeriods: badRuns,
      datapointsToAlarm: badRuns,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    },
  );
  const reconcileErrors = watched.reconcileFunction
    .metricErrors({ period: fiveMinutes, statistic: 'Sum' })
    .createAlarm(scope, 'ReconcileErrorsAlarm', {
      alarmDescription: `The scheduled workspace families reconcile failed ${errorPeriods} periods in a row. Runbook: ${runbookLink(FAMILIES_RUNBOOK.reconcileErrors)}`,
      threshold: 1,
      evaluationPeriods: errorPeriods,
      datapointsToAlarm: errorPeriods,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  // Both the handler's own 5xx answers and crashes it could not answer at all.
  const webhookErrors = new cloudwatch.MathExpression({
    expression: 'answered + crashed',
    usingMetrics: {
      answered: emf(FAMILIES_WEBHOOK_HANDLER, WEBHOOK_METRICS.serverErrors, 'Sum'),
      crashed: watched.webhookFunction.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
    },
    period: fiveMinutes,
    label: 'Webhook 5xx',
  }).createAlarm(scope, 'WebhookErrorsAlarm', {
    alarmDescription: `The workspace families webhook answered 5xx: Coder retries a few times, then drops the event. Runbook: ${runbookLink(FAMILIES_RUNBOOK.webhookErrors)}`,
    threshold: 1,
    evaluationPeriods: errorPeriods,
    datapointsToAlarm: errorPeriods,
    comparisonOperator: atLeast,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const deadLetters = [
    [watched.queueDeadLetters, 'WorkDlqAlarm', 'A webhook event was given up on after repeated failures'],
    [
      watched.scheduleDeadLetters,
      'ScheduleDlqAlarm',
      'EventBridge Scheduler could not invoke the families reconcile',
    ],
  ] as const;
  const dlqAlarms = deadLetters.map(([queue, alarmId, what]) =>
    queue
      .metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' })
      .createAlarm(scope, alarmId, {
        alarmDescription: `${what}; the message waits in a dead-letter queue. Runbook: ${runbookLink(FAMILIES_RUNBOOK.deadLetterQueue)}`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: atLeast,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
  );
  // The controller has been holding back at its provisioner cap with children still missing: a
  // catch-up that takes hours is visible instead of silent (issue 22).
  const capPeriods = fiveMinutePeriods(thresholds.atProvisionerCapFor ?? AT_PROVISIONER_CAP_ALARM_AFTER);
  const atCap = emf(
    FAMILIES_RECONCILE_HANDLER,
    FAMILIES_ALARM_METRICS.atProvisionerCap,
    'Minimum',
  ).createAlarm(scope, 'FamiliesAtProvisionerCapAlarm', {
    alarmDescription: `Every reconcile run for ${capPeriods * 5} minutes stopped at the provisioner-job cap with children still missing: Coder's provisioners are the bottleneck and the catch-up is slow. Runbook: ${runbookLink(FAMILIES_RUNBOOK.atProvisionerCap)}`,
    threshold: 1,
    evaluationPeriods: capPeriods,
    datapointsToAlarm: capPeriods,
    comparisonOperator: atLeast,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  // No online daemon can take the managed templates' jobs while children are missing: the
  // controller creates nothing (it would only pile up jobs no daemon takes), so nothing converges.
  // A provisioner group scaled to 0 with nothing to do stays quiet.
  const noDaemonPeriods = fiveMinutePeriods(thresholds.noProvisionerFor ?? NO_PROVISIONER_ALARM_AFTER);
  const noProvisioner = new cloudwatch.MathExpression({
    expression: 'IF(daemons <= 0 AND missing > 0, 1, 0)',
    usingMetrics: {
      daemons: pacingMetric(FAMILIES_RECONCILE_HANDLER, FAMILIES_ALARM_METRICS.matchingDaemons, 'Minimum'),
      missing: pacingMetric(FAMILIES_RECONCILE_HANDLER, FAMILIES_ALARM_METRICS.childrenMissing, 'Minimum'),
    },
    period: fiveMinutes,
    label: "No daemon for the templates' jobs while children are missing",
  }).createAlarm(scope, 'FamiliesNoProvisionerAlarm', {
    alarmDescription: `For ${noDaemonPeriods * 5} minutes no online provisioner daemon could take the managed templates' jobs while children were missing (a provisioner group scaled to 0, or tags that match no daemon). Runbook: ${runbookLink(FAMILIES_RUNBOOK.noProvisioner)}`,
    threshold: 1,
    evaluationPeriods: noDaemonPeriods,
    datapointsToAlarm: noDaemonPeriods,
    comparisonOperator: atLeast,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return [
    hardLimited,
    drifting,
    failures,
    reconcileErrors,
    webhookErrors,
    atCap,
    noProvisioner,
    ...dlqAlarms,
  ];
};

/** Runbook anchors (docs/RUNBOOK.md) of the alarms on what a run could not trust or finish (issue 19). */
export const FAMILIES_INTEGRITY_RUNBOOK = {
  templatesUnknown: 'families-templates-unknown',
  lockLost: 'families-lock-lost',
  conflicts: 'families-conflicts',
} as const;

/** The metrics those alarms watch; the engine publishes them (core/families/metrics.ts). */
export const FAMILIES_INTEGRITY_METRICS = {
  templatesUnknown: FAMILY_METRICS.templatesUnknown,
  lockLost: FAMILY_METRICS.lockLost,
  conflicts: FAMILY_METRICS.conflicts,
} as const;

/** A CloudWatch period for a schedule rate: whole minutes, at least one. */
const periodOf = (rate: Duration): Duration =>
  Duration.minutes(Math.max(1, Math.ceil(rate.toSeconds() / 60)));

/**
 * Alarm settings CloudWatch would refuse at deploy (Period × EvaluationPeriods, alarm-limits.ts),
 * named by their prop: the drifting, failing and conflicts alarms evaluate `consecutiveBadRuns`
 * periods (5 minutes, and one schedule interval for conflicts), the error alarms
 * `consecutiveErrorPeriods` periods of 5 minutes.
 */
export const familiesAlarmProblems = (
  thresholds: WorkspaceFamiliesAlarmProps,
  scheduleRate: Duration,
): string[] => {
  const problems: string[] = [];
  const check = (field: string, value: number, periodSeconds: readonly number[]) => {
    if (!Number.isInteger(value) || value < 1) {
      problems.push(`alarms.${field}: must be an integer of at least 1, got ${value}`);
      return;
    }
    for (const seconds of periodSeconds) {
      const problem = evaluationRangeProblem(seconds, value);
      if (problem) {
        problems.push(`alarms.${field}: ${problem}`);
        return;
      }
    }
  };
  check('consecutiveBadRuns', thresholds.consecutiveBadRuns ?? 3, [300, periodOf(scheduleRate).toSeconds()]);
  check('consecutiveErrorPeriods', thresholds.consecutiveErrorPeriods ?? 2, [300]);
  return problems;
};

/**
 * Alarms on what the engine could not trust or finish (issue 19): a configured template Coder does
 * not have (the run leaves that template's families alone), family locks lost mid-run (work on
 * those families stopped), and conflicts that persist (a workspace the controller did not create
 * holds a child's name; it is never taken over, so only a person can resolve it). Created in
 * `scope` like the others; returned, not wired.
 */
export const createFamiliesIntegrityAlarms = (
  scope: Construct,
  thresholds: WorkspaceFamiliesAlarmProps,
  watched: { readonly scheduleRate: Duration },
): cloudwatch.Alarm[] => {
  const badRuns = thresholds.consecutiveBadRuns ?? 3;
  const errorPeriods = thresholds.consecutiveErrorPeriods ?? 2;
  const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
  // One datapoint per scheduled run: a period of the schedule's interval sees every run once.
  const perRun = periodOf(watched.scheduleRate);
  const reconcileMetric = (metricName: string, statistic: string, period: Duration) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: FAMILIES_RECONCILE_HANDLER },
      statistic,
      period,
    });

  const templatesUnknown = reconcileMetric(
    FAMILIES_INTEGRITY_METRICS.templatesUnknown,
    'Maximum',
    perRun,
  ).createAlarm(scope, 'FamilyTemplatesUnknownAlarm', {
    alarmDescription: `A configured families template matches no template in Coder (renamed, deleted or misspelt): its families are left alone until the config or the template is fixed. Runbook: ${runbookLink(FAMILIES_INTEGRITY_RUNBOOK.templatesUnknown)}`,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: atLeast,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  // Both the scheduled reconcile and the webhook worker take family locks.
  const fiveMinutes = Duration.minutes(5);
  const lockLost = new cloudwatch.MathExpression({
    expression: 'FILL(reconcile, 0) + FILL(worker, 0)',
    usingMetrics: {
      reconcile: reconcileMetric(FAMILIES_INTEGRITY_METRICS.lockLost, 'Sum', fiveMinutes),
      worker: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: FAMILIES_INTEGRITY_METRICS.lockLost,
        dimensionsMap: { service: FAMILIES_WORKER_HANDLER },
        statistic: 'Sum',
        period: fiveMinutes,
      }),
    },
    period: fiveMinutes,
    label: 'Family locks lost',
  }).createAlarm(scope, 'FamiliesLockLostAlarm', {
    alarmDescription: `Family locks were lost or could not be renewed mid-run in ${errorPeriods} 5-minute periods in a row: work on those families stopped and waits for the next run. Runbook: ${runbookLink(FAMILIES_INTEGRITY_RUNBOOK.lockLost)}`,
    threshold: 1,
    evaluationPeriods: errorPeriods,
    datapointsToAlarm: errorPeriods,
    comparisonOperator: atLeast,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const conflicts = reconcileMetric(FAMILIES_INTEGRITY_METRICS.conflicts, 'Minimum', perRun).createAlarm(
    scope,
    'FamilyConflictsAlarm',
    {
      alarmDescription: `Workspace family conflicts (a workspace the controller did not create holds a child's name) persisted for ${badRuns} reconcile runs in a row: only a person can resolve them. Runbook: ${runbookLink(FAMILIES_INTEGRITY_RUNBOOK.conflicts)}`,
      threshold: 1,
      evaluationPeriods: badRuns,
      datapointsToAlarm: badRuns,
      comparisonOperator: atLeast,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    },
  );
  return [templatesUnknown, lockLost, conflicts];
};
