/** EMF metric names of the webhook (service `families-webhook`); the CDK alarms and tests use them. */
export const WEBHOOK_METRICS = {
  enqueued: 'WebhookWorkEnqueued',
  ignored: 'WebhookIgnored',
  unauthorized: 'WebhookUnauthorized',
  rejected: 'WebhookRejected',
  serverErrors: 'WebhookServerErrors',
} as const;

/** EMF metric names of the worker (service `families-worker`), besides the engine's per-run figures. */
export const WORKER_METRICS = {
  reconciled: 'FamilyWorkReconciled',
  deferredLocked: 'FamilyWorkDeferredLocked',
  failed: 'FamilyWorkFailed',
  poison: 'FamilyWorkPoison',
  /** A message put back because the invocation ran out of time (not a failure). */
  cutShort: 'FamilyWorkCutShort',
} as const;
