import type { FamilyWorkQueue } from '../adapters/aws/family-queue.js';
import type { LogSink } from '../core/contracts/log-sink.js';
import { METRIC_UNIT, type MetricsSink } from '../core/contracts/metrics-sink.js';
import { AUDIT_LINE_SHAPES, type AuditLineShape } from '../core/families/webhook/audit.js';
import { classifyLogEvents, decodeLogsEvent, LogsEventError } from '../core/families/webhook/log-events.js';
import {
  AUDIT_LOG_METRICS,
  AUDIT_LOG_SHAPE_METRICS,
  WEBHOOK_IGNORED_REASONS,
  WEBHOOK_METRICS,
} from '../core/families/webhook/metrics.js';
import { lastPerWorkspace } from '../core/families/webhook/work-item.js';
import { createLogsDeps } from '../wiring/families.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

export interface LogsHandlerDeps {
  readonly queue: FamilyWorkQueue;
  readonly log: LogSink;
  readonly metrics: MetricsSink;
}

export interface LogsReport {
  readonly events: number;
  /** Audit entries among the events, in any shape, acted on or not. */
  readonly received: number;
  readonly accepted: number;
  readonly ignored: number;
  readonly invalid: number;
  /** Audit entries per shape they arrived in (only shapes seen). */
  readonly shapes: Partial<Record<AuditLineShape, number>>;
}

/**
 * coderd's `audit_log` lines from a CloudWatch Logs subscription filter, onto the family queue:
 * the same work items as the webhook's `/audit` path, with the same deduplication id (the audit
 * row id), so an entry that arrives both ways is reconciled once. Invoked asynchronously by
 * CloudWatch Logs: a failure to enqueue throws, and Lambda retries the batch.
 */
export const makeLogsHandler =
  (deps: LogsHandlerDeps) =>
  async (event: unknown): Promise<LogsReport> => {
    const count = (metric: string, value: number): void => {
      if (value > 0) deps.metrics.addMetric(metric, METRIC_UNIT.count, value);
    };
    let payload: ReturnType<typeof decodeLogsEvent>;
    try {
      payload = decodeLogsEvent(event);
    } catch (error) {
      if (!(error instanceof LogsEventError)) throw error;
      // Retrying a malformed event cannot help; say so once and drop it.
      count(WEBHOOK_METRICS.rejected, 1);
      deps.log.error('Audit log event dropped', { outcome: 'malformed', problem: error.message });
      return { events: 0, received: 0, accepted: 0, ignored: 0, invalid: 1, shapes: {} };
    }
    const results = classifyLogEvents(payload);
    const work = lastPerWorkspace(results.flatMap((r) => (r.outcome === 'work' ? [r.item] : [])));
    const ignored = results.flatMap((r) => (r.outcome === 'ignored' ? [r.reason] : []));
    const invalid = results.filter((r) => r.outcome === 'invalid').length;
    count(WEBHOOK_METRICS.ignored, ignored.length);
    for (const reason of new Set(ignored)) {
      count(WEBHOOK_IGNORED_REASONS[reason], ignored.filter((r) => r === reason).length);
    }
    count(WEBHOOK_METRICS.rejected, invalid);
    // Which shapes arrive says whether the shipper is configured as expected; their sum going
    // silent is what the silence alarm watches.
    const shapes: Partial<Record<AuditLineShape, number>> = {};
    for (const { shape } of results) if (shape) shapes[shape] = (shapes[shape] ?? 0) + 1;
    const received = Object.values(shapes).reduce((sum, n) => sum + n, 0);
    count(AUDIT_LOG_METRICS.received, received);
    for (const shape of AUDIT_LINE_SHAPES) count(AUDIT_LOG_SHAPE_METRICS[shape], shapes[shape] ?? 0);
    if (work.length > 0) await deps.queue.enqueue(work);
    count(WEBHOOK_METRICS.enqueued, work.length);
    const report: LogsReport = {
      events: payload.logEvents.length,
      received,
      accepted: work.length,
      ignored: ignored.length,
      invalid,
      shapes,
    };
    deps.log.info('Audit log events processed', {
      ...report,
      logGroup: payload.logGroup,
      messageIds: work.slice(0, 20).map((item) => item.messageId),
    });
    return report;
  };

export const handler = lambdaHandler(FUNCTION.familiesLogs, (observability) =>
  makeLogsHandler(createLogsDeps(observability)),
);
