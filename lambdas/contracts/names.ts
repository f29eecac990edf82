/**
 * The names a deployed Lambda and its CDK construct must agree on: the functions (their handler
 * file, bundle folder and Powertools service, which the alarms use as a dimension), the metric
 * namespace and every environment variable. `lib/` and `lambdas/wiring/` import these same
 * constants, so renaming one cannot split the construct from the handler. No imports: like
 * everything in lambdas/contracts/, loading it at synth loads no Lambda runtime code
 * (test/lib/construct-imports.test.ts).
 */

/** Each Lambda's name: its file in lambdas/handlers/, its dist/ folder and its `service` dimension. */
export const FUNCTION = {
  scalingScheduler: 'scaling-scheduler',
  scalingPreview: 'scaling-preview',
  keysRotation: 'keys-rotation',
  keysHealth: 'keys-health',
  familiesReconcile: 'families-reconcile',
  familiesWebhook: 'families-webhook',
  familiesWorker: 'families-worker',
  familiesLogs: 'families-logs',
} as const;
export type FunctionName = (typeof FUNCTION)[keyof typeof FUNCTION];

/** CloudWatch namespace shared by every metric the controller publishes (alarms and the dashboard use it). */
export const METRICS_NAMESPACE = 'CoderFleetController';

/** Every environment variable a construct sets and a handler reads. Secrets are never here: only their ARNs. */
export const ENV = {
  coderUrl: 'CODER_URL',
  coderTokenSecretArn: 'CODER_TOKEN_SECRET_ARN',
  /** The deployment's shared Coder request budget (lib/common/coder-budget.ts). */
  coderBudgetTable: 'CODER_BUDGET_TABLE',
  coderRequestsPerMinute: 'CODER_REQUESTS_PER_MINUTE',
  scalingConfig: 'SCALING_CONFIG',
  scalingOverrideTable: 'SCALING_OVERRIDE_TABLE',
  keysConfig: 'PROVISIONER_KEY_CONFIG',
  keysSecretArn: 'PROVISIONER_KEY_SECRET_ARN',
  familiesConfig: 'FAMILIES_CONFIG',
  familiesLedgerTable: 'LEDGER_TABLE_NAME',
  familiesLockTable: 'LOCK_TABLE_NAME',
  familiesQueueUrl: 'FAMILY_QUEUE_URL',
  webhookSecretArn: 'WEBHOOK_SECRET_ARN',
  webhookMaxBodyBytes: 'WEBHOOK_MAX_BODY_BYTES',
  /** The queue of a paced reconcile's continuations (delayed messages the reconcile consumes). */
  continuationQueueUrl: 'CONTINUATION_QUEUE_URL',
} as const;
