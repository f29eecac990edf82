import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { type AuditClassification, classifyAuditRecords } from './audit.js';

/**
 * The CloudWatch Logs subscription path for audit entries: coderd's JSON logs (Fluent Bit or
 * Container Insights on EKS, the CloudWatch agent) reach a log group; a subscription filter on the
 * term `"audit_log"` (`enterprise/audit/backends/slog.go` logs every audit row under that message;
 * lib/families/audit-logs.ts) delivers the events that contain it here as the `awslogs` event:
 * base64 of gzip of the JSON below.
 */
const subscriptionPayloadSchema = z.object({
  messageType: z.enum(['DATA_MESSAGE', 'CONTROL_MESSAGE']),
  logGroup: z.string(),
  logEvents: z.array(z.object({ id: z.string(), timestamp: z.number(), message: z.string() })),
});
export type LogsSubscriptionPayload = z.infer<typeof subscriptionPayloadSchema>;

export const cloudWatchLogsEventSchema = z.object({ awslogs: z.object({ data: z.string().min(1) }) });
export type CloudWatchLogsEvent = z.infer<typeof cloudWatchLogsEventSchema>;

export class LogsEventError extends Error {
  override readonly name = 'LogsEventError';
}

/** Decodes the `awslogs.data` CloudWatch Logs hands a subscribed Lambda. */
export const decodeLogsEvent = (event: unknown): LogsSubscriptionPayload => {
  const outer = cloudWatchLogsEventSchema.safeParse(event);
  if (!outer.success) throw new LogsEventError('not a CloudWatch Logs subscription event (no awslogs.data)');
  let json: unknown;
  try {
    json = JSON.parse(gunzipSync(Buffer.from(outer.data.awslogs.data, 'base64')).toString('utf8'));
  } catch {
    throw new LogsEventError('awslogs.data is not base64 of gzipped JSON');
  }
  const parsed = subscriptionPayloadSchema.safeParse(json);
  if (!parsed.success) throw new LogsEventError('awslogs.data is not a CloudWatch Logs subscription payload');
  return parsed.data;
};

/**
 * The container runtime's log line (CRI): `<time> <stdout|stderr> <F|P> <text>`, as Fluent Bit's
 * built-in `cri` multiline parser reads it (fluent-bit src/multiline/flb_ml_parser_cri.c,
 * `FLB_ML_CRI_REGEX`). A file tailer that does not parse it (the CloudWatch agent reading
 * /var/log/containers) ships the whole line. `P` is a partial line the runtime split (over 16 KiB):
 * its JSON does not parse alone, so it is ignored like any other text.
 */
const CRI_LINE = /^(.+?) (stdout|stderr) (F|P) (.*)$/s;

/**
 * Classifies each log event like an entry forwarded to the webhook's `/audit` path, so both
 * paths yield the same work item, deduplicated on the queue by the audit row id. A line that is
 * neither JSON nor a runtime line holding JSON (a shipper's plain text) is ignored. The control
 * message CloudWatch sends when the subscription is created carries no events.
 */
export const classifyLogEvents = (payload: LogsSubscriptionPayload): AuditClassification[] => {
  if (payload.messageType === 'CONTROL_MESSAGE') return [];
  return payload.logEvents.flatMap((logEvent) => {
    const json = parseJson(logEvent.message);
    if (json.ok) return classifyAuditRecords(json.value);
    const cri = CRI_LINE.exec(logEvent.message);
    const inner = cri ? parseJson(cri[4] ?? '') : json;
    if (!inner.ok) return [{ outcome: 'ignored', label: 'not an audit entry', reason: 'not-audit' } as const];
    return classifyAuditRecords(inner.value).map((result) =>
      result.shape ? { ...result, shape: 'cri-line' as const } : result,
    );
  });
};

const parseJson = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
};
