import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import type { FamilyWorkQueue } from '../adapters/aws/family-queue.js';
import type { LogSink } from '../core/contracts/log-sink.js';
import { METRIC_UNIT, type MetricsSink } from '../core/contracts/metrics-sink.js';
import { classifyAuditRecords, parseJsonOrJsonLines } from '../core/families/webhook/audit.js';
import {
  WEBHOOK_IGNORED_REASONS,
  WEBHOOK_METRICS,
  type WebhookIgnoredReason,
} from '../core/families/webhook/metrics.js';
import { classifyNotification, coderNotificationSchema } from '../core/families/webhook/notification.js';
import { matchWebhookPath } from '../core/families/webhook/path-secret.js';
import { type FamilyWorkItem, lastPerWorkspace } from '../core/families/webhook/work-item.js';
import { createWebhookDeps } from '../wiring/families.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

/** Largest body accepted; Coder's notifications are a few KiB, a shipper's audit batch stays below this. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export { WEBHOOK_IGNORED_REASONS, WEBHOOK_METRICS };

export interface WebhookHandlerDeps {
  /** The path secrets currently accepted (cached by the loader; never logged). */
  readonly pathSecrets: () => Promise<readonly string[]>;
  readonly queue: FamilyWorkQueue;
  readonly log: LogSink;
  readonly metrics: MetricsSink;
  /** @default DEFAULT_MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
}

type Result = APIGatewayProxyStructuredResultV2;

/** Fixed messages only: nothing from the request is ever echoed back. */
const respond = (statusCode: number, message: string, extra: Record<string, number> = {}): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify({ message, ...extra }),
});

type Decoded =
  | { ok: true; text: string }
  | { ok: false; statusCode: number; message: string; outcome: string };

/** Enforces the size limit on the declared length, the raw string and the decoded bytes. */
const decodeBody = (event: LambdaFunctionURLEvent, maxBytes: number): Decoded => {
  const tooLarge: Decoded = {
    ok: false,
    statusCode: 413,
    message: 'Payload too large',
    outcome: 'too-large',
  };
  const declared = Number(event.headers?.['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge;
  const raw = event.body ?? '';
  // Checked before decoding so an oversized body is never copied into a buffer.
  const rawLimit = event.isBase64Encoded ? Math.ceil(maxBytes / 3) * 4 + 4 : maxBytes * 4;
  if (raw.length > rawLimit) return tooLarge;
  const bytes = Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.byteLength > maxBytes) return tooLarge;
  if (bytes.byteLength === 0)
    return { ok: false, statusCode: 400, message: 'Empty body', outcome: 'empty-body' };
  return { ok: true, text: bytes.toString('utf8') };
};

/**
 * Coder's notification webhook and forwarded audit entries, on a Lambda Function URL.
 * Authenticates by the secret path, classifies, enqueues one minimal work item per workspace on
 * the family queue, and answers 202 without waiting for any reconcile. Logs carry only the event
 * kind, message id and outcome: payloads can hold one-time passcodes and emails.
 */
export const makeWebhookHandler = (deps: WebhookHandlerDeps) => {
  const maxBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const count = (metric: string, value = 1): void => {
    deps.metrics.addMetric(metric, METRIC_UNIT.count, value);
  };

  /** Well-formed but not acted on: counted in total and by reason, and answered 2xx so Coder does not redeliver. */
  const countIgnored = (reasons: readonly WebhookIgnoredReason[]): void => {
    if (reasons.length === 0) return;
    count(WEBHOOK_METRICS.ignored, reasons.length);
    const byReason = new Map<WebhookIgnoredReason, number>();
    for (const reason of reasons) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    for (const [reason, n] of byReason) count(WEBHOOK_IGNORED_REASONS[reason], n);
  };

  const reject = (statusCode: number, message: string, outcome: string): Result => {
    count(statusCode === 401 || statusCode === 403 ? WEBHOOK_METRICS.unauthorized : WEBHOOK_METRICS.rejected);
    deps.log.info('Webhook request rejected', { outcome, statusCode });
    return respond(statusCode, message);
  };

  const enqueue = async (
    items: FamilyWorkItem[],
    log: Record<string, unknown>,
  ): Promise<Result | undefined> => {
    try {
      await deps.queue.enqueue(items);
    } catch (error) {
      count(WEBHOOK_METRICS.serverErrors);
      deps.log.error('Family work not enqueued; the sender will retry', {
        ...log,
        outcome: 'enqueue-failed',
        errorName: error instanceof Error ? error.name : 'unknown',
      });
      return respond(503, 'Temporarily unavailable');
    }
    count(WEBHOOK_METRICS.enqueued, items.length);
    return undefined;
  };

  const notification = async (text: string, headerMessageId: string | undefined): Promise<Result> => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return reject(400, 'Body is not valid JSON', 'bad-json');
    }
    const parsed = coderNotificationSchema.safeParse(json);
    if (!parsed.success) return reject(400, 'Body is not a Coder notification', 'bad-schema');
    const result = classifyNotification(parsed.data, headerMessageId);
    if (result.outcome === 'invalid')
      return reject(400, 'Body is not a usable workspace notification', 'bad-schema');
    if (result.outcome === 'ignored') {
      countIgnored([result.reason]);
      deps.log.info('Notification ignored', {
        outcome: 'ignored',
        reason: result.reason,
        kind: result.label,
        messageId: result.messageId,
      });
      return respond(200, 'Ignored');
    }
    const { item } = result;
    const log = { kind: item.event, messageId: item.messageId };
    const failure = await enqueue([item], log);
    if (failure) return failure;
    deps.log.info('Notification enqueued', { ...log, outcome: 'enqueued' });
    return respond(202, 'Accepted');
  };

  const audit = async (text: string): Promise<Result> => {
    const parsed = parseJsonOrJsonLines(text);
    if (!parsed.ok) return reject(400, 'Body is not valid JSON', 'bad-json');
    if (parsed.value === null || typeof parsed.value !== 'object') {
      return reject(400, 'Body is not an audit entry or a list of them', 'bad-schema');
    }
    const results = classifyAuditRecords(parsed.value);
    const work = lastPerWorkspace(results.flatMap((r) => (r.outcome === 'work' ? [r.item] : [])));
    const ignoredReasons = results.flatMap((r) => (r.outcome === 'ignored' ? [r.reason] : []));
    const ignored = ignoredReasons.length;
    const invalid = results.filter((r) => r.outcome === 'invalid').length;
    if (invalid > 0 && invalid === results.length) {
      return reject(400, 'Body holds no usable audit entry', 'bad-schema');
    }
    countIgnored(ignoredReasons);
    if (invalid > 0) count(WEBHOOK_METRICS.rejected, invalid);
    const log = {
      kinds: [...new Set(work.map((item) => item.event))],
      messageIds: work.slice(0, 20).map((item) => item.messageId),
      ignored,
      ignoredReasons: [...new Set(ignoredReasons)],
      invalid,
    };
    if (work.length === 0) {
      deps.log.info('Audit entries ignored', { ...log, outcome: 'ignored' });
      return respond(200, 'Ignored', { accepted: 0, ignored, invalid });
    }
    const failure = await enqueue(work, log);
    if (failure) return failure;
    deps.log.info('Audit entries enqueued', { ...log, outcome: 'enqueued', accepted: work.length });
    return respond(202, 'Accepted', { accepted: work.length, ignored, invalid });
  };

  return async (event: LambdaFunctionURLEvent): Promise<Result> => {
    let secrets: readonly string[];
    try {
      secrets = await deps.pathSecrets();
    } catch (error) {
      count(WEBHOOK_METRICS.serverErrors);
      deps.log.error('Webhook secret unavailable', {
        outcome: 'secret-unavailable',
        errorName: error instanceof Error ? error.name : 'unknown',
      });
      return respond(500, 'Temporarily unavailable');
    }
    // Authentication comes first: without the secret, every request gets the same answer.
    const match = matchWebhookPath(event.rawPath ?? '', secrets);
    if (match.kind === 'unauthorized') return reject(403, 'Forbidden', 'unauthorized');
    if (match.kind === 'not-found') return reject(404, 'Not found', 'not-found');
    const method = event.requestContext?.http?.method ?? '';
    if (method !== 'POST') return reject(405, 'Method not allowed', 'method-not-allowed');
    const decoded = decodeBody(event, maxBytes);
    if (!decoded.ok) return reject(decoded.statusCode, decoded.message, decoded.outcome);
    return match.route === 'audit'
      ? audit(decoded.text)
      : notification(decoded.text, event.headers?.['x-message-id']);
  };
};

export const handler = lambdaHandler(FUNCTION.familiesWebhook, (observability) =>
  makeWebhookHandler(createWebhookDeps(observability)),
);
