import 'aws-sdk-client-mock-vitest/extend';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  loadWebhookEntryPoint,
  WEBHOOK_QUEUE_URL,
  WEBHOOK_SECRET_ARN,
} from '../core/families/webhook/entry-point.js';
import {
  IDS,
  OTP_CODE,
  OTP_EMAIL,
  oneTimePasscode,
  workspaceCreated,
} from '../core/families/webhook/fixtures.js';
import { functionUrlEvent, PATH_SECRET } from '../core/families/webhook/function-url.js';
import { lambdaContext } from '../support/lambda.js';

const handler = await loadWebhookEntryPoint();

const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);

const context = lambdaContext('families-webhook');

describe('families webhook entry point (Powertools logger, metrics; SDK clients mocked)', () => {
  let output: string[];

  beforeEach(() => {
    secretsManager.reset();
    sqs.reset();
    secretsManager
      .on(GetSecretValueCommand, { SecretId: WEBHOOK_SECRET_ARN })
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
      QueueUrl: WEBHOOK_QUEUE_URL,
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
