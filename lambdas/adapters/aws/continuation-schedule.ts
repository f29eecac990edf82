import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  type ContinuationRequest,
  type ContinuationScheduler,
  continuationEvent,
} from '../../core/families/continuation.js';

/**
 * A paced run's continuation as an EventBridge Scheduler one-time schedule (`at(...)`, deleted once
 * it has run) that invokes the reconcile function. One schedule per deployment, by name: a run
 * that is paced again replaces it (UpdateSchedule), so retries and overlapping runs never pile up
 * continuations. The scheduler invokes within the minute after `at` (its 60-second precision).
 */
export class SchedulerContinuations implements ContinuationScheduler {
  constructor(
    private readonly options: {
      readonly client: SchedulerClient;
      /** The schedule's name (unique per deployment) and group. */
      readonly name: string;
      readonly groupName?: string | undefined;
      /** The role EventBridge Scheduler assumes to invoke it (the recurring schedule's role). */
      readonly roleArn: string;
      /** Where an invocation the scheduler could not make goes. */
      readonly deadLetterArn?: string | undefined;
    },
  ) {}

  async schedule(request: ContinuationRequest): Promise<void> {
    const o = this.options;
    const input: CreateScheduleCommandInput = {
      Name: o.name,
      GroupName: o.groupName ?? 'default',
      Description: `Workspace families: continue a paced reconcile (${request.families.length} families)`,
      ScheduleExpression: atExpression(request.at),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: request.functionArn,
        RoleArn: o.roleArn,
        Input: JSON.stringify(continuationEvent(request.families)),
        // A continuation late by more than a few minutes is superseded by the next scheduled run.
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
        ...(o.deadLetterArn ? { DeadLetterConfig: { Arn: o.deadLetterArn } } : {}),
      },
    };
    try {
      await o.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      // The previous continuation has not run yet (or its deletion is pending): replace it.
      if (!(error instanceof ConflictException) && !isNamed(error, 'ConflictException')) throw error;
      await o.client.send(new UpdateScheduleCommand(input));
    }
  }
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the second (the scheduler takes no fraction). */
export const atExpression = (at: Date): string =>
  `at(${new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().slice(0, 19)})`;

const isNamed = (error: unknown, name: string): boolean =>
  typeof error === 'object' && error !== null && 'name' in error && error.name === name;
