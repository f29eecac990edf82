/** The deployed webhook entry point, loaded with the environment the CDK construct gives it. */
export const WEBHOOK_SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:families-webhook-AbCdEf';
export const WEBHOOK_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/families.fifo';

/** Sets the environment before importing, because Powertools reads its settings at module load. */
export const loadWebhookEntryPoint = async () => {
  process.env.AWS_REGION = 'us-east-1';
  process.env.WEBHOOK_SECRET_ARN = WEBHOOK_SECRET_ARN;
  process.env.FAMILY_QUEUE_URL = WEBHOOK_QUEUE_URL;
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'CoderFleetController';
  return (await import('../../../../lambdas/handlers/families-webhook.js')).handler;
};
