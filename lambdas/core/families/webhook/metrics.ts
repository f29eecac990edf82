import type { AuditLineShape } from './audit.js';

/** EMF metric names of the webhook (service `families-webhook`); the CDK alarms and tests use them. */
export const WEBHOOK_METRICS = {
  enqueued: 'WebhookWorkEnqueued',
  ignored: 'WebhookIgnored',
  unauthorized: 'WebhookUnauthorized',
  rejected: 'WebhookRejected',
  serverErrors: 'WebhookServerErrors',
} as const;

/**
 * Why a well-formed message was answered 2xx and not acted on, one metric each (a fixed set, so a
 * metric name per reason costs no dimension). Coder retries every answer of 300 or more
 * (coderd/notifications/dispatch/webhook.go), so these are never 4xx.
 */
export const WEBHOOK_IGNORED_REASONS = {
  /** A notification or audit row that does not concern families (OTP, template events...). */
  'not-a-family-event': 'WebhookIgnoredNotFamilyEvent',
  /** About a workspace, but names it neither by id nor by owner and name. */
  'no-workspace': 'WebhookIgnoredNoWorkspace',
  /** An audit row of a failed request or build: nothing changed. */
  'failed-request': 'WebhookIgnoredFailedRequest',
  /** A shipped log line that is not an audit entry. */
  'not-audit': 'WebhookIgnoredNotAudit',
} as const;
export type WebhookIgnoredReason = keyof typeof WEBHOOK_IGNORED_REASONS;

/**
 * EMF metric names of the CloudWatch Logs path (service `families-logs`), besides the webhook's
 * names it shares. `received` counts audit entries in any shape, acted on or not: its silence is
 * what the audit-log silence alarm watches (lib/families/audit-logs.ts).
 */
export const AUDIT_LOG_METRICS = {
  received: 'AuditLogEventsReceived',
} as const;

/** One metric per shape an audit line arrived in (a fixed set: a name per shape costs no dimension). */
export const AUDIT_LOG_SHAPE_METRICS: Readonly<Record<AuditLineShape, string>> = {
  line: 'AuditLogShapeLine',
  merged: 'AuditLogShapeMerged',
  'log-string': 'AuditLogShapeLogString',
  'cri-line': 'AuditLogShapeCriLine',
};

/** EMF metric names of the worker (service `families-worker`), besides the engine's per-run figures. */
export const WORKER_METRICS = {
  reconciled: 'FamilyWorkReconciled',
  deferredLocked: 'FamilyWorkDeferredLocked',
  failed: 'FamilyWorkFailed',
  poison: 'FamilyWorkPoison',
  /** A message put back because the invocation ran out of time (not a failure). */
  cutShort: 'FamilyWorkCutShort',
  /** A message put back because the controller was at its provisioner-job cap (not a failure). */
  paced: 'FamilyWorkPaced',
} as const;
