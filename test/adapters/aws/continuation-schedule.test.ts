/**
 * The continuation schedule (continuation-schedule.ts): one one-time EventBridge Scheduler schedule
 * per deployment, created, or replaced when it is still there; its input is an event the reconcile
 * Lambda accepts. Checked against aws-sdk-client-mock and against moto's Scheduler.
 */
import 'aws-sdk-client-mock-vitest/extend';
import {
  ConflictException,
  CreateScheduleCommand,
  GetScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { atExpression, SchedulerContinuations } from '../../../lambdas/adapters/aws/continuation-schedule.js';
import { parseFamiliesReconcileEvent } from '../../../lambdas/core/families/events.js';
import { MOTO_SERVER, toolAvailable } from '../../support/external-tools.js';
import { type MotoServer, startMotoServer } from '../../support/moto.js';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:families-reconcile';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/families-schedule';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:families-schedule-dlq';
const families = [
  { owner: 'alice', parent: 'team' },
  { owner: 'bob.smith', parent: 'lab-2' },
];

describe('SchedulerContinuations (aws-sdk-client-mock)', () => {
  const scheduler = mockClient(SchedulerClient);
  beforeEach(() => scheduler.reset());
  // The mock patches every SchedulerClient: moto's below must reach moto.
  afterAll(() => scheduler.restore());
  const continuations = () =>
    new SchedulerContinuations({
      client: new SchedulerClient({ region: 'us-east-1' }),
      name: 'stack-families-continue',
      roleArn: ROLE_ARN,
      deadLetterArn: DLQ_ARN,
    });

  it('creates a one-time schedule that deletes itself, whose input the reconcile Lambda parses back to the families', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    await continuations().schedule({
      at: new Date('2026-12-06T17:00:30.250Z'),
      families,
      functionArn: FUNCTION_ARN,
    });

    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    expect(scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Name: 'stack-families-continue',
      GroupName: 'default',
      ScheduleExpression: 'at(2026-12-06T17:00:31)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN, DeadLetterConfig: { Arn: DLQ_ARN } },
    });
    const request = parseFamiliesReconcileEvent(JSON.parse(input?.Target?.Input ?? '{}'));
    expect(request).toMatchObject({
      trigger: 'continuation',
      dryRun: false,
      scope: { kind: 'families', families },
    });
  });

  it('replaces the continuation still waiting (ConflictException) instead of failing', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      new ConflictException({
        message: 'Schedule already exists.',
        Message: 'Schedule already exists.',
        $metadata: {},
      }),
    );
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    await continuations().schedule({
      at: new Date('2026-12-06T17:00:00Z'),
      families,
      functionArn: FUNCTION_ARN,
    });

    expect(scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, {
      Name: 'stack-families-continue',
      ScheduleExpression: 'at(2026-12-06T17:00:00)',
    });
  });

  it('lets any other failure through, for the handler to report', async () => {
    scheduler
      .on(CreateScheduleCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(
      continuations().schedule({ at: new Date(), families, functionArn: FUNCTION_ARN }),
    ).rejects.toThrow('not authorized');
    expect(scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
  });

  it('writes the at() expression in UTC to the second, rounding up', () => {
    expect(atExpression(new Date('2026-03-08T06:59:59.001Z'))).toBe('at(2026-03-08T07:00:00)');
    expect(atExpression(new Date('2026-03-08T07:00:00.000Z'))).toBe('at(2026-03-08T07:00:00)');
  });
});

// Without moto_server: one line saying so and these skipped; with CI set, a failure.
const motoAvailable = toolAvailable(MOTO_SERVER, 'the continuation schedule against moto');

describe.skipIf(!motoAvailable)('SchedulerContinuations against moto', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMotoServer();
  }, 60_000);
  afterAll(async () => {
    await moto?.close();
  });

  it('creates the schedule, then replaces it when a later run is paced again', async () => {
    const client = new SchedulerClient(moto.clientConfig);
    const continuations = new SchedulerContinuations({ client, name: 'moto-continue', roleArn: ROLE_ARN });

    await continuations.schedule({
      at: new Date('2026-12-06T17:00:00Z'),
      families,
      functionArn: FUNCTION_ARN,
    });
    await continuations.schedule({
      at: new Date('2026-12-06T17:05:00Z'),
      families: families.slice(1),
      functionArn: FUNCTION_ARN,
    });

    const stored = await client.send(new GetScheduleCommand({ Name: 'moto-continue', GroupName: 'default' }));
    expect(stored.ScheduleExpression).toBe('at(2026-12-06T17:05:00)');
    expect(JSON.parse(stored.Target?.Input ?? '{}')).toEqual({
      trigger: 'continuation',
      families: ['bob.smith/lab-2'],
    });
    expect(stored.ActionAfterCompletion).toBe('DELETE');
  });
});
