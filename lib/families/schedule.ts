import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV, FUNCTION } from '../../lambdas/contracts/names.js';
import { ControllerFunction } from '../common/controller-function.js';
import { RECONCILE_MEMORY_MB } from './timing.js';

export const FAMILIES_RECONCILE_HANDLER = FUNCTION.familiesReconcile;

/**
 * A paced run's continuation (lambdas/core/families/continuation.ts): a delayed message on a
 * standard queue the reconcile consumes one at a time. Its visibility outlasts a run; a run that
 * throttles it (the reconcile runs one at a time) gets it again after that. A message that fails
 * three times goes to the schedule's dead-letter queue; nothing is lost meanwhile, the schedule
 * carries on.
 */
const createContinuationQueue = (
  scope: Construct,
  reconcileFunction: ControllerFunction,
  reconcileTimeout: Duration,
  deadLetters: sqs.Queue,
): sqs.Queue => {
  const queue = new sqs.Queue(scope, 'ContinuationQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(reconcileTimeout.toSeconds() + 30),
    // A continuation older than this is superseded by the scheduled runs.
    retentionPeriod: Duration.hours(1),
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: 3 },
  });
  queue.grantSendMessages(reconcileFunction);
  reconcileFunction.addEnvironment(ENV.continuationQueueUrl, queue.queueUrl);
  reconcileFunction.addEventSource(new SqsEventSource(queue, { batchSize: 1 }));
  return queue;
};

export interface ScheduledReconcile {
  readonly reconcileFunction: ControllerFunction;
  /** Runs the scheduler could not hand over, and runs that failed after it did. */
  readonly scheduleDeadLetters: sqs.Queue;
  readonly scheduleRole: iam.Role;
  readonly schedule: scheduler.Schedule;
  /** A paced run's continuations, delayed to the second. */
  readonly continuationQueue: sqs.Queue;
}

/**
 * The scheduled full reconcile: its function, one run at a time, invoked by EventBridge Scheduler
 * every `scheduleRate`. Created directly in `scope` (their logical ids depend on it).
 */
export const createScheduledReconcile = (
  scope: Construct,
  options: {
    readonly scheduleRate: Duration;
    readonly reconcileTimeout: Duration;
    readonly environment: Record<string, string>;
  },
): ScheduledReconcile => {
  const { scheduleRate } = options;
  const reconcileFunction = new ControllerFunction(scope, 'ReconcileFunction', {
    handlerName: FAMILIES_RECONCILE_HANDLER,
    description:
      'Workspace families: scheduled full reconcile; ad hoc {"dryRun":true} or {"family":"<owner>/<parent>"}',
    timeout: options.reconcileTimeout,
    memorySize: RECONCILE_MEMORY_MB,
    // One full reconcile at a time: a run that overlaps the next schedule makes the next one wait.
    reservedConcurrentExecutions: 1,
    environment: options.environment,
  });
  // A scheduled run that cannot start in time is superseded by the next one; don't queue it for hours.

  const scheduleDeadLetters = new sqs.Queue(scope, 'ScheduleDlq', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  // A run that fails after the scheduler handed it over lands here too (async invoke on-failure).
  reconcileFunction.configureAsyncInvoke({
    retryAttempts: 0,
    maxEventAge: Duration.seconds(Math.max(60, Math.min(scheduleRate.toSeconds(), 21_600))),
    onFailure: new destinations.SqsDestination(scheduleDeadLetters),
  });
  // Our own role rather than the stack-wide one LambdaInvoke would share, so its findings are ours to acknowledge.
  const scheduleRole = new iam.Role(scope, 'ScheduleRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'Lets EventBridge Scheduler invoke the workspace families reconcile',
  });
  const schedule = new scheduler.Schedule(scope, 'ReconcileSchedule', {
    description: 'Workspace families: full reconcile',
    schedule: scheduler.ScheduleExpression.rate(scheduleRate),
    target: new targets.LambdaInvoke(reconcileFunction, {
      input: scheduler.ScheduleTargetInput.fromObject({
        trigger: 'schedule',
        scheduledTime: scheduler.ContextAttribute.scheduledTime,
      }),
      deadLetterQueue: scheduleDeadLetters,
      role: scheduleRole,
      retryAttempts: 2,
      maxEventAge: Duration.seconds(Math.max(60, Math.min(scheduleRate.toSeconds(), 86_400))),
    }),
  });
  const continuationQueue = createContinuationQueue(
    scope,
    reconcileFunction,
    options.reconcileTimeout,
    scheduleDeadLetters,
  );
  return { reconcileFunction, scheduleDeadLetters, scheduleRole, schedule, continuationQueue };
};
