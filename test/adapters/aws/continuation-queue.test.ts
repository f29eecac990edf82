/**
 * The continuation queue (continuation-queue.ts): a delayed SQS message whose body the reconcile
 * Lambda accepts as it arrives (an SQS event of one record). Checked with aws-sdk-client-mock and
 * against moto's SQS.
 */
import 'aws-sdk-client-mock-vitest/extend';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsContinuationQueue } from '../../../lambdas/adapters/aws/continuation-queue.js';
import type { ContinuationEvent } from '../../../lambdas/core/families/continuation.js';
import { parseFamiliesReconcileEvent } from '../../../lambdas/core/families/events.js';
import { MOTO_SERVER, toolAvailable } from '../../support/external-tools.js';
import { type MotoServer, startMotoServer } from '../../support/moto.js';

const event: ContinuationEvent = {
  trigger: 'continuation',
  families: ['alice/team', 'bob.smith/lab-2'],
  token: '3f2b9a1c-5d4e-4f6a-8b7c-9d0e1f2a3b4c',
};

describe('SqsContinuationQueue (aws-sdk-client-mock)', () => {
  const sqs = mockClient(SQSClient);
  // The mock patches every SQSClient: moto's below must reach moto.
  afterAll(() => sqs.restore());

  it('sends the event as the body, delayed to the second, within what SQS allows', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const queue = new SqsContinuationQueue(new SQSClient({ region: 'us-east-1' }), 'https://sqs/continue');

    await queue.send(event, 9.6);
    await queue.send(event, 3_600);

    const calls = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.DelaySeconds)).toEqual([10, 900]);
    expect(calls[0]).toMatchObject({ QueueUrl: 'https://sqs/continue' });
    expect(JSON.parse(calls[0]?.MessageBody ?? '{}')).toEqual(event);
  });
});

// Without moto_server: one line saying so and these skipped; with CI set, a failure.
const motoAvailable = toolAvailable(MOTO_SERVER, 'the continuation queue against moto');

describe.skipIf(!motoAvailable)('SqsContinuationQueue against moto', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMotoServer();
  }, 60_000);
  afterAll(async () => {
    await moto?.close();
  });

  it('holds the message for its delay, then delivers a body the reconcile Lambda parses back to the families', async () => {
    const client = new SQSClient(moto.clientConfig);
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'continuations' }));
    const queue = new SqsContinuationQueue(client, QueueUrl ?? '');

    await queue.send(event, 2);
    const early = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const due = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));

    expect(early.Messages ?? []).toEqual([]);
    const body = due.Messages?.[0]?.Body ?? '';
    const request = parseFamiliesReconcileEvent({ Records: [{ eventSource: 'aws:sqs', body }] });
    expect(request).toMatchObject({
      trigger: 'continuation',
      continuationToken: event.token,
      scope: {
        kind: 'families',
        families: [
          { owner: 'alice', parent: 'team' },
          { owner: 'bob.smith', parent: 'lab-2' },
        ],
      },
    });
  });
});
