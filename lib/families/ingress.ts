import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV, FUNCTION } from '../../lambdas/contracts/names.js';
import { ControllerFunction } from '../common/controller-function.js';
import type { WorkspaceFamiliesWebhookOptions } from './construct.js';

export const FAMILIES_WEBHOOK_HANDLER = FUNCTION.familiesWebhook;
export const FAMILIES_WORKER_HANDLER = FUNCTION.familiesWorker;

export interface FamiliesIngress {
  readonly queueDeadLetters: sqs.Queue;
  readonly queue: sqs.Queue;
  readonly webhookSecretKey: kms.Key;
  readonly webhookSecret: secretsmanager.Secret;
  readonly webhookFunction: ControllerFunction;
  readonly functionUrl: lambda.FunctionUrl;
  readonly workerFunction: ControllerFunction;
}

/**
 * The event path: the webhook's Function URL, the FIFO queue (and its DLQ) grouped per owner, and
 * the worker that reconciles one family per message. Created directly in `scope` (their logical
 * ids depend on it).
 */
export const createIngress = (
  scope: Construct,
  options: {
    readonly webhook: WorkspaceFamiliesWebhookOptions;
    /** The engine's environment, which the worker shares with the scheduled reconcile. */
    readonly engineEnvironment: Record<string, string>;
    readonly workerTimeout: Duration;
    readonly maxReceiveCount: number;
    readonly maxBodyBytes: number;
  },
): FamiliesIngress => {
  const { webhook, workerTimeout, maxReceiveCount, maxBodyBytes } = options;
  const queueDeadLetters = new sqs.Queue(scope, 'WorkDlq', {
    fifo: true,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const queue = new sqs.Queue(scope, 'WorkQueue', {
    fifo: true,
    // Deduplicated by Coder's message id (or the audit row id), never by content.
    contentBasedDeduplication: false,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * 6),
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: queueDeadLetters, maxReceiveCount },
  });

  const webhookSecretKey = new kms.Key(scope, 'WebhookSecretKey', {
    description: 'Encrypts the workspace families webhook path secret',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const webhookSecret = new secretsmanager.Secret(scope, 'WebhookSecret', {
    description: 'Path secret of the workspace families webhook URL (the webhook has no other auth)',
    encryptionKey: webhookSecretKey,
    generateSecretString: {
      secretStringTemplate: '{}',
      generateStringKey: 'pathSecret',
      passwordLength: 64,
      // Letters and digits only: the secret is a URL path segment.
      excludePunctuation: true,
      includeSpace: false,
    },
  });

  const webhookFunction = new ControllerFunction(scope, 'WebhookFunction', {
    handlerName: FAMILIES_WEBHOOK_HANDLER,
    description: "Workspace families: Coder's notification webhook and forwarded audit entries",
    timeout: Duration.seconds(10),
    memorySize: 256,
    reservedConcurrentExecutions: webhook.reservedConcurrency ?? 20,
    environment: {
      [ENV.webhookSecretArn]: webhookSecret.secretArn,
      [ENV.familiesQueueUrl]: queue.queueUrl,
      [ENV.webhookMaxBodyBytes]: String(maxBodyBytes),
    },
  });
  webhookSecret.grantRead(webhookFunction);
  queue.grantSendMessages(webhookFunction);
  const functionUrl = webhookFunction.addFunctionUrl({
    // Coder cannot sign requests; the secret path segment is the authentication.
    authType: lambda.FunctionUrlAuthType.NONE,
    invokeMode: lambda.InvokeMode.BUFFERED,
  });

  const workerFunction = new ControllerFunction(scope, 'WorkerFunction', {
    handlerName: FAMILIES_WORKER_HANDLER,
    description: 'Workspace families: reconciles the family of each queued webhook event',
    timeout: workerTimeout,
    environment: { ...options.engineEnvironment, [ENV.familiesQueueUrl]: queue.queueUrl },
  });
  // Also grants ChangeMessageVisibility, which the worker uses to retry a busy family sooner.
  workerFunction.addEventSource(
    new SqsEventSource(queue, {
      batchSize: 1,
      reportBatchItemFailures: true,
      maxConcurrency: webhook.workerMaxConcurrency ?? 5,
    }),
  );
  return {
    queueDeadLetters,
    queue,
    webhookSecretKey,
    webhookSecret,
    webhookFunction,
    functionUrl,
    workerFunction,
  };
};
