import { createHash } from 'node:crypto';
import { z } from 'zod';

/** What happened to a workspace, as far as the event that told us says. */
export const FAMILY_EVENT_KINDS = [
  'workspace_created',
  'workspace_updated',
  'workspace_deleted',
  'workspace_dormant',
  'workspace_marked_for_deletion',
  'workspace_started',
  'workspace_stopped',
] as const;
export type FamilyEventKind = (typeof FAMILY_EVENT_KINDS)[number];

/**
 * The minimal message the webhook puts on the queue for the worker: which workspace an event
 * was about and what kind of event it was. Never the raw body, labels, emails or passcodes;
 * the worker re-reads everything it needs from Coder, so an event that arrives minutes late
 * still leads to a reconcile against the state of now.
 */
export const familyWorkItemSchema = z
  .object({
    v: z.literal(1),
    source: z.enum(['notification', 'audit']),
    event: z.enum(FAMILY_EVENT_KINDS),
    /** Queue-safe id of the message that carried the event (`msg_id`, or the audit row id). */
    messageId: z.string().min(1).max(128),
    /**
     * Absent only when the event named its workspace by owner and name: notifications from
     * releases before coder/coder#16985 carry no `targets` (and "Workspace Deleted" no `data`).
     */
    workspaceId: z.guid().optional(),
    workspaceName: z.string().min(1).max(64).optional(),
    ownerId: z.guid().optional(),
    ownerName: z.string().min(1).max(64).optional(),
  })
  .refine((item) => item.workspaceId !== undefined || (item.ownerName && item.workspaceName), {
    message: 'a work item names its workspace by id, or by owner and name',
  });
export type FamilyWorkItem = z.infer<typeof familyWorkItemSchema>;

/** Characters SQS accepts in MessageGroupId and MessageDeduplicationId. */
const SQS_ID_PATTERN = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/**
 * A message id as SQS will accept it for deduplication: kept as is when it already fits (Coder's
 * ids are UUIDs), otherwise replaced by its SHA-256, so two sends of the same id still collapse.
 */
export const queueSafeId = (prefix: string, raw: string): string => {
  const candidate = `${prefix}-${raw}`;
  return SQS_ID_PATTERN.test(candidate)
    ? candidate
    : `${prefix}-${createHash('sha256').update(raw).digest('hex')}`;
};

/**
 * The FIFO message group of a work item: the workspace owner. Every family belongs to one owner
 * and its parent and children all share that owner, while a single event (a child deleted, a
 * workspace renamed) cannot always tell which family it touches. Grouping by owner serializes
 * everything that could touch the same family, keeps different users fully parallel, and keeps
 * redeliveries in order. The engine's per-family lock remains the guarantee (the scheduled
 * reconcile does not go through the queue); the group only keeps webhook work from fighting over
 * it. The owner id is preferred; audit rows of builds carry only the owner's username, and a row
 * without either falls back to the workspace id.
 */
export const familyMessageGroupId = (item: FamilyWorkItem): string => {
  if (item.ownerId) return queueSafeId('owner', item.ownerId.toLowerCase());
  if (item.ownerName || !item.workspaceId)
    return queueSafeId('owner-name', (item.ownerName ?? '').toLowerCase());
  return queueSafeId('workspace', item.workspaceId.toLowerCase());
};

/** Deduplication on the queue is by the id of the message that carried the event. */
export const familyDeduplicationId = (item: FamilyWorkItem): string => item.messageId;

/** Keeps the last item per workspace: one reconcile of a workspace's family covers all its events. */
export const lastPerWorkspace = (items: readonly FamilyWorkItem[]): FamilyWorkItem[] => {
  const byWorkspace = new Map<string, FamilyWorkItem>();
  for (const item of items) {
    const key = item.workspaceId ?? `${item.ownerName}/${item.workspaceName}`.toLowerCase();
    byWorkspace.delete(key);
    byWorkspace.set(key, item);
  }
  return [...byWorkspace.values()];
};
