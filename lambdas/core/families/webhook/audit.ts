import { z } from 'zod';
import type { WebhookIgnoredReason } from './metrics.js';
import { type FamilyEventKind, type FamilyWorkItem, queueSafeId } from './work-item.js';

/**
 * Audit entries forwarded from coderd's structured logs. coderd logs every audit row as
 * `msg:"audit_log"` (`enterprise/audit/backends/slog.go`) with the row's columns as fields; the
 * slog JSON sink (cdr.dev/slog `sloggers/slogjson`) nests them under `fields` with Go names
 * (`ResourceType`, `AdditionalFields`). A log shipper may send those lines as they are, wrapped
 * (see `AuditLineShape`), already flattened to the REST API's snake_case `AuditLog`, one object,
 * an array, or JSON lines. All are accepted.
 */
const auditEntrySchema = z.looseObject({
  id: z.string().min(1).max(256),
  resource_type: z.string(),
  action: z.string(),
  resource_id: z.string().optional(),
  resource_target: z.string().optional(),
  status_code: z.number().optional(),
  additional_fields: z.unknown().optional(),
  diff: z.unknown().optional(),
});
type AuditEntry = z.infer<typeof auditEntrySchema>;

/**
 * How the audit line reached us, by what wraps it (docs/families-webhook.md maps shippers to shapes):
 * - `line`: coderd's JSON line itself (stdout straight to CloudWatch Logs, the CloudWatch agent
 *   tailing `CODER_LOGGING_JSON`'s file, Fluent Bit with `log_key log`), or a flattened row.
 * - `merged`: a parsed copy in the shipper's record: Fluent Bit's kubernetes filter with
 *   `Merge_Log On` puts it under `Merge_Log_Key` (Container Insights: `log_processed`), or at the
 *   record's top level without one.
 * - `log-string`: only the text, as a string in `log` (Fluent Bit without `Merge_Log`, Docker's
 *   json-file log).
 * - `cri-line`: the container runtime's log line, `<time> <stream> <F|P> <line>` (a file tailer such
 *   as the CloudWatch agent reading /var/log/containers).
 */
export const AUDIT_LINE_SHAPES = ['line', 'merged', 'log-string', 'cri-line'] as const;
export type AuditLineShape = (typeof AUDIT_LINE_SHAPES)[number];

export type AuditClassification = (
  | { readonly outcome: 'work'; readonly label: string; readonly item: FamilyWorkItem }
  | {
      readonly outcome: 'ignored';
      readonly label: string;
      readonly messageId?: string;
      readonly reason: WebhookIgnoredReason;
    }
  | { readonly outcome: 'invalid'; readonly problem: string }
) & {
  /** Set for every audit entry (acted on, ignored or invalid); absent for other log lines. */
  readonly shape?: AuditLineShape;
};

const ACTIONS: Readonly<Record<string, Readonly<Record<string, FamilyEventKind>>>> = {
  workspace: { create: 'workspace_created', write: 'workspace_updated', delete: 'workspace_deleted' },
  workspace_build: { start: 'workspace_started', stop: 'workspace_stopped', delete: 'workspace_deleted' },
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** `ResourceType` → `resource_type`, `UserID` → `user_id`, `id` stays `id`. */
const snakeCase = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

const snakeKeys = (record: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).map(([key, value]) => [snakeCase(key), value]));

/** `additional_fields` and `diff` are raw JSON columns: an object, or JSON text when a shipper stringified it. */
const jsonColumn = (value: unknown): Record<string, unknown> => {
  if (isRecord(value)) return value;
  if (typeof value !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
};

/** The fields of coderd's audit line itself (or of a flattened row), or undefined for another line. */
const lineFields = (record: Record<string, unknown>): Record<string, unknown> | undefined => {
  if ('msg' in record) {
    if (record.msg !== 'audit_log') return undefined;
    // Nested under `fields` by slog's JSON sink; some shippers lift them to the top level.
    if (isRecord(record.fields)) return snakeKeys(record.fields);
    const { msg: _msg, ts: _ts, level: _level, ...lifted } = record;
    const flat = snakeKeys(lifted);
    return 'resource_type' in flat ? flat : undefined;
  }
  const flat = snakeKeys(record);
  return 'resource_type' in flat ? flat : undefined;
};

/** What the kubernetes filter adds beside a merged line (fluent-bit-docs pipeline/filters/kubernetes.md). */
const isShipperRecord = (record: Record<string, unknown>): boolean =>
  typeof record.log === 'string' || isRecord(record.kubernetes);

/**
 * Unwraps one shipped record to an audit entry's fields and the shape it came in, or undefined
 * when it is some other log line. A parsed copy is preferred to the text beside it.
 */
export const unwrapAuditLine = (
  record: unknown,
): { readonly fields: Record<string, unknown>; readonly shape: AuditLineShape } | undefined => {
  if (!isRecord(record)) return undefined;
  // Fluent Bit kubernetes filter, Merge_Log On with Merge_Log_Key (Container Insights: log_processed).
  for (const value of Object.values(record)) {
    if (value === record.fields || !isRecord(value) || value.msg !== 'audit_log') continue;
    const fields = lineFields(value);
    if (fields) return { fields, shape: 'merged' };
  }
  if ('msg' in record) {
    const fields = lineFields(record);
    if (!fields) return undefined;
    // Merge_Log On without a key puts the line's keys at the top, beside `log` and `kubernetes`.
    return { fields, shape: isShipperRecord(record) ? 'merged' : 'line' };
  }
  if (typeof record.log === 'string') {
    let inner: unknown;
    try {
      inner = JSON.parse(record.log);
    } catch {
      return undefined;
    }
    const fields = isRecord(inner) ? lineFields(inner) : undefined;
    return fields ? { fields, shape: 'log-string' } : undefined;
  }
  const fields = lineFields(record);
  return fields ? { fields, shape: 'line' } : undefined;
};

const guid = z.guid();
const asGuid = (value: unknown): string | undefined =>
  guid.safeParse(value).success ? (value as string).toLowerCase() : undefined;
const coderName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
const asName = (value: unknown): string | undefined => {
  const parsed = coderName.safeParse(value);
  return parsed.success ? parsed.data : undefined;
};

const classifyEntry = (entry: AuditEntry): AuditClassification => {
  const messageId = queueSafeId('audit', entry.id);
  const resourceType = entry.resource_type.toLowerCase();
  const event = ACTIONS[resourceType]?.[entry.action.toLowerCase()];
  const label = `audit ${resourceType}/${entry.action.toLowerCase()}`.slice(0, 64);
  if (!event) return { outcome: 'ignored', label: 'audit other', messageId, reason: 'not-a-family-event' };
  // A failed request or a failed build changed nothing the families depend on.
  if (entry.status_code !== undefined && entry.status_code >= 400) {
    return { outcome: 'ignored', label: `${label} failed`, messageId, reason: 'failed-request' };
  }
  const extra = jsonColumn(entry.additional_fields);
  const diff = jsonColumn(entry.diff);
  const workspaceId =
    resourceType === 'workspace'
      ? (asGuid(entry.resource_id) ?? asGuid(extra.workspace_id))
      : asGuid(extra.workspace_id);
  // A well-formed row we cannot place is answered 2xx like any other we do not act on.
  if (!workspaceId) return { outcome: 'ignored', label, messageId, reason: 'no-workspace' };
  const workspaceName =
    asName(extra.workspace_name) ??
    (resourceType === 'workspace' ? asName(entry.resource_target) : undefined);
  // A workspace's create and delete diffs carry owner_id; build rows carry the owner's username.
  const ownerId = asGuid(field(diff.owner_id, 'new')) ?? asGuid(field(diff.owner_id, 'old'));
  const ownerName = asName(extra.workspace_owner);
  const item: FamilyWorkItem = {
    v: 1,
    source: 'audit',
    event,
    messageId,
    workspaceId,
    ...(workspaceName ? { workspaceName } : {}),
    ...(ownerId ? { ownerId } : {}),
    ...(ownerName ? { ownerName } : {}),
  };
  return { outcome: 'work', label, item };
};

const field = (value: unknown, key: string): unknown => (isRecord(value) ? value[key] : undefined);

/**
 * Classifies every record of one forwarded batch. Records that are not audit entries (other log
 * lines a shipper sent along) are ignored; records that are audit entries but lack what we need
 * are invalid. Pure: ids, names and kinds are all that leave this function.
 */
export const classifyAuditRecords = (body: unknown): AuditClassification[] => {
  const records = Array.isArray(body) ? body : [body];
  return records.map((record): AuditClassification => {
    const line = unwrapAuditLine(record);
    if (!line) return { outcome: 'ignored', label: 'not an audit entry', reason: 'not-audit' };
    const parsed = auditEntrySchema.safeParse(line.fields);
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
      return {
        outcome: 'invalid',
        problem: `audit entry with missing or invalid fields: ${where}`,
        shape: line.shape,
      };
    }
    return { ...classifyEntry(parsed.data), shape: line.shape };
  });
};

/** Parses a body that is one JSON document or JSON lines (one document per line, as log shippers send). */
export const parseJsonOrJsonLines = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
    if (lines.length < 2) return { ok: false };
    const values: unknown[] = [];
    for (const line of lines) {
      try {
        values.push(JSON.parse(line));
      } catch {
        return { ok: false };
      }
    }
    return { ok: true, value: values };
  }
};
