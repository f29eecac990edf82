import 'aws-sdk-client-mock-vitest/extend';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDS, OTP_CODE, OTP_EMAIL, oneTimePasscode, workspaceCreated } from '../core/webhook/fixtures.js';
import { functionUrlEvent, PATH_SECRET } from '../core/webhook/function-url.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:families-webhook-AbCdEf';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/families.fifo';

// The deployed entry point, with the environment the CDK construct gives it.
process.env.AWS_REGION = 'us-east-1';
process.env.WEBHOOK_SECRET_ARN = SECRET_ARN;
process.env.FAMILY_QUEUE_URL = QUEUE_URL;
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CoderFleetController';
const { handler } = await import('../../lambdas/handlers/families-webhook.js');

const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);

const context = {
  functionName: 'families-webhook',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:families-webhook',
  memoryLimitInMB: '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/families-webhook',
  logStreamName: '2025/06/01/[$LATEST]abcdef',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

describe('families webhook entry point (Powertools logger, metrics; SDK clients mocked)', () => {
  let output: string[];

  beforeEach(() => {
    secretsManager.reset();
    sqs.reset();
    secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
      .resolves({ SecretString: JSON.stringify({ pathSecret: PATH_SECRET }) });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    output = [];
    const capture = (chunk: string | Uint8Array): boolean => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('enqueues Workspace Created on the FIFO queue with the exact SQS input', async () => {
    const result = await handler(functionUrlEvent({ body: JSON.stringify(workspaceCreated()) }), context);

    expect(result).toMatchObject({ statusCode: 202 });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: QUEUE_URL,
      Entries: [
        expect.objectContaining({
          MessageGroupId: `owner-${IDS.owner}`,
          MessageDeduplicationId: `msg-${IDS.message}`,
        }),
      ],
    });
    const logged = output.join('');
    expect(logged).toContain('"outcome":"enqueued"');
    expect(logged).not.toContain('alice@example.com');
    expect(logged).not.toContain(PATH_SECRET);
  });

  it('keeps a One-Time Passcode, the recipient email and the secret path out of everything it writes', async () => {
    const result = await handler(functionUrlEvent({ body: JSON.stringify(oneTimePasscode()) }), context);

    expect(result).toMatchObject({ statusCode: 200 });
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
    const logged = output.join('');
    expect(logged).toContain('"outcome":"ignored"');
    expect(logged).toContain('WebhookIgnored');
    expect(logged).not.toContain(OTP_CODE);
    expect(logged).not.toContain(OTP_EMAIL);
    expect(logged).not.toContain(PATH_SECRET);
  });

  it('refuses a wrong secret without logging the path it was given', async () => {
    const result = await handler(
      functionUrlEvent({ path: '/guessed-secret-value', body: JSON.stringify(workspaceCreated()) }),
      context,
    );

    expect(result).toMatchObject({ statusCode: 403 });
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
    expect(output.join('')).not.toContain('guessed-secret-value');
  });
});
