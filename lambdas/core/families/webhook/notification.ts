import { z } from 'zod';
import type { WebhookIgnoredReason } from './metrics.js';
import { type FamilyEventKind, type FamilyWorkItem, queueSafeId } from './work-item.js';

/**
 * Coder's notification webhook body (`coderd/notifications/dispatch/webhook.go`), `_version` 1.1
 * outside, 1.2 inside. Only the fields we use are typed; everything else (titles, bodies, actions,
 * labels we don't read) passes through unvalidated and is never copied anywhere.
 */
export const coderNotificationSchema = z.looseObject({
  _version: z.string().regex(/^1\.\d+$/, 'expected a 1.x webhook payload version'),
  msg_id: z.string().min(1).max(256).optional(),
  payload: z.looseObject({
    _version: z.string().optional(),
    notification_name: z.string(),
    notification_template_id: z.string().min(1).max(64),
    user_id: z.string().optional(),
    user_username: z.string().optional(),
    labels: z.record(z.string(), z.unknown()).nullable().optional(),
    data: z.record(z.string(), z.unknown()).nullable().optional(),
    targets: z.array(z.string()).nullable().optional(),
  }),
});
export type CoderNotification = z.infer<typeof coderNotificationSchema>;

interface TemplateInfo {
  /** A fixed label safe to log and to use as a metric dimension (never the payload's own text). */
  readonly label: string;
  /** The family event it maps to; undefined when the notification does not concern families. */
  readonly event?: FamilyEventKind;
  /** Whether the recipient is the workspace owner, so `user_username` is the owner's username. */
  readonly sentToOwner?: boolean;
}

/**
 * Coder's notification templates by id (`coderd/notifications/events.go`); ids are stable across
 * releases, names are matched as a fallback. Templates not listed are ignored.
 */
const TEMPLATES: ReadonlyMap<string, TemplateInfo> = new Map([
  ['281fdf73-c6d6-4cbb-8ff5-888baf8a2fff', { label: 'Workspace Created', event: 'workspace_created' }],
  [
    'd089fe7b-d5c5-4c0c-aaf5-689859f7d392',
    { label: 'Workspace Manually Updated', event: 'workspace_updated' },
  ],
  [
    'c34a0c09-0704-4cac-bd1c-0c0146811c2b',
    { label: 'Workspace Updated Automatically', event: 'workspace_updated', sentToOwner: true },
  ],
  [
    'f517da0b-cdc9-410f-ab89-a86107c420ed',
    { label: 'Workspace Deleted', event: 'workspace_deleted', sentToOwner: true },
  ],
  [
    '0ea69165-ec14-4314-91f1-69566ac3c5a0',
    { label: 'Workspace Marked as Dormant', event: 'workspace_dormant', sentToOwner: true },
  ],
  [
    '51ce2fdf-c9ca-4be1-8d70-628674f9bc42',
    { label: 'Workspace Marked for Deletion', event: 'workspace_marked_for_deletion', sentToOwner: true },
  ],
  ['381df2a9-c0c0-4749-420f-80a9280c66f9', { label: 'Workspace Autobuild Failed' }],
  ['6f6cb984-c167-4fa5-bb87-1058dd642779', { label: 'Workspace Autostop Reminder' }],
  ['2faeee0f-26cb-4e96-821c-85ccb9f71513', { label: 'Workspace Manual Build Failed' }],
  ['a9d027b4-ac49-4fb1-9f6d-45af15f64e7a', { label: 'Workspace Out Of Memory' }],
  ['f047f6a3-5713-40f7-85aa-0394cce9fa3a', { label: 'Workspace Out Of Disk' }],
  ['89d9745a-816e-4695-a17f-3d0a229e2b8d', { label: 'Prebuilt Workspace Resource Replaced' }],
  ['414d9331-c1fc-4761-b40c-d1f4702279eb', { label: 'Prebuild Failure Limit Reached' }],
  ['34a20db2-e9cc-4a93-b0e4-8569699d7a00', { label: 'Report: Workspace Builds Failed' }],
  ['29a09665-2a4c-403f-9648-54301670e7be', { label: 'Template Deleted' }],
  ['f40fae84-55a2-42cd-99fa-b41c1ca64894', { label: 'Template Deprecated' }],
  ['39b1e189-c857-4b0c-877a-511144c18516', { label: 'Custom Notification' }],
  ['c425f63e-716a-4bf4-ae24-78348f706c3f', { label: 'Test Notification' }],
]);

const TEMPLATES_BY_NAME: ReadonlyMap<string, TemplateInfo> = new Map(
  [...TEMPLATES.values()].map((info) => [info.label.toLowerCase(), info]),
);

export type NotificationClassification =
  | { readonly outcome: 'work'; readonly label: string; readonly item: FamilyWorkItem }
  | {
      readonly outcome: 'ignored';
      readonly label: string;
      readonly messageId: string;
      readonly reason: WebhookIgnoredReason;
    }
  | { readonly outcome: 'invalid'; readonly problem: string };

const guid = z.guid();
const isGuid = (value: unknown): value is string => guid.safeParse(value).success;
const coderName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
const asName = (value: unknown): string | undefined => {
  const parsed = coderName.safeParse(value);
  return parsed.success ? parsed.data : undefined;
};
const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

/**
 * Turns one notification into the work item for its workspace's family, or says why it is not
 * one. Pure: no I/O, and nothing from the payload other than ids and names reaches the result
 * (a One-Time Passcode notification yields only its template label and message id).
 * `headerMessageId` is the `X-Message-Id` header, used when the body lacks `msg_id`.
 */
export const classifyNotification = (
  notification: CoderNotification,
  headerMessageId?: string,
): NotificationClassification => {
  const rawId = notification.msg_id ?? headerMessageId;
  if (!rawId) return { outcome: 'invalid', problem: 'no message id (msg_id or X-Message-Id)' };
  const messageId = queueSafeId('msg', rawId);
  const { payload } = notification;
  const info =
    TEMPLATES.get(payload.notification_template_id.toLowerCase()) ??
    TEMPLATES_BY_NAME.get(payload.notification_name.toLowerCase());
  if (!info?.event) {
    return {
      outcome: 'ignored',
      label: info?.label ?? 'Other Notification',
      messageId,
      reason: 'not-a-family-event',
    };
  }

  // targets is [workspace_id, owner_id, template_id, organization_id] for workspace events; it is
  // missing before coder/coder#16985 (v2.21), and "Workspace Deleted" has no data either.
  const targets = payload.targets ?? [];
  const data = payload.data ?? {};
  const labels = payload.labels ?? {};
  const workspaceId = [targets[0], field(field(data, 'workspace'), 'id')].find(isGuid);
  // Notifications about the owner's own workspace are sent to the owner
  // (coderd/provisionerdserver/provisionerdserver.go `notifyWorkspaceDeleted`, and the others).
  const ownerId = [
    targets[1],
    field(field(data, 'owner'), 'id'),
    info.sentToOwner ? payload.user_id : undefined,
  ].find(isGuid);
  const ownerIsRecipient = info.sentToOwner === true && ownerId !== undefined && payload.user_id === ownerId;
  const ownerName =
    asName(labels.workspace_owner_username) ?? (ownerIsRecipient ? asName(payload.user_username) : undefined);
  const workspaceName =
    asName(field(field(data, 'workspace'), 'name')) ?? asName(labels.workspace) ?? asName(labels.name);
  if (!workspaceId && !(ownerName && workspaceName)) {
    return { outcome: 'ignored', label: info.label, messageId, reason: 'no-workspace' };
  }

  const item: FamilyWorkItem = {
    v: 1,
    source: 'notification',
    event: info.event,
    messageId,
    ...(workspaceId ? { workspaceId: workspaceId.toLowerCase() } : {}),
    ...(workspaceName ? { workspaceName } : {}),
    ...(ownerId ? { ownerId: ownerId.toLowerCase() } : {}),
    ...(ownerName ? { ownerName } : {}),
  };
  return { outcome: 'work', label: info.label, item };
};
