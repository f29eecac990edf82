/** Coder's notification webhook (`coderd/notifications/dispatch/webhook.go`): messages and delivery. */
import { latestBuild, newId, type SimUser, type SimWorkspace } from './model.js';
import { notificationTargetsRule, type SimProfile } from './profiles/index.js';
import { isTemplateAdmin, type SimState, type StateEvents } from './state.js';
import type { NotificationMessage, WebhookDelivery } from './types.js';

export const TEMPLATE_IDS = {
  workspaceCreated: '281fdf73-c6d6-4cbb-8ff5-888baf8a2fff',
  workspaceManuallyUpdated: 'd089fe7b-d5c5-4c0c-aaf5-689859f7d392',
  workspaceDeleted: 'f517da0b-cdc9-410f-ab89-a86107c420ed',
} as const;

export interface RetryPolicy {
  attempts: number;
  intervalMs: number;
  timeoutMs: number;
}

/** Delivers messages asynchronously with retries; never blocks the API response that caused them. */
export class WebhookDispatcher {
  private readonly deliveries: WebhookDelivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly retry: RetryPolicy,
  ) {}

  send(message: NotificationMessage): void {
    this.later(0, () => this.attempt(message, 1));
  }

  recorded(): WebhookDelivery[] {
    return this.deliveries.map((d) => ({ ...d }));
  }

  private later(ms: number, fn: () => Promise<void>): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void fn();
    }, ms);
    this.timers.add(timer);
  }

  private async attempt(message: NotificationMessage, attempt: number): Promise<void> {
    if (this.closed) return;
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.retry.timeoutMs);
    let status: number | 'error';
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Message-Id': message.msg_id },
        body: JSON.stringify(message),
        signal: controller.signal,
      });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      status = 'error';
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
    if (this.closed) return;
    this.deliveries.push({
      msgId: message.msg_id,
      status,
      notificationName: message.payload.notification_name,
      attempt,
    });
    // Coder retries anything that is not 2xx, plus network errors and timeouts.
    const ok = typeof status === 'number' && status >= 200 && status < 300;
    if (!ok && attempt < this.retry.attempts)
      this.later(this.retry.intervalMs, () => this.attempt(message, attempt + 1));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.inFlight) c.abort();
    this.inFlight.clear();
  }
}

/** Turns workspace events into Coder's webhook messages, one per recipient. */
export class WorkspaceNotifier implements StateEvents {
  private readonly messages: NotificationMessage[] = [];
  private state: SimState | undefined;

  constructor(
    private readonly accessUrl: () => string,
    private readonly dispatcher: WebhookDispatcher | undefined,
    private readonly profile: SimProfile,
  ) {}

  attach(state: SimState): void {
    this.state = state;
  }

  all(): NotificationMessage[] {
    return [...this.messages];
  }

  private get s(): SimState {
    if (this.state === undefined) throw new Error('notifier used before attach()');
    return this.state;
  }

  /**
   * Template admins and owners of the deployment, minus the user who caused the event: "Don't send
   * notifications to user which initiated the event" (coderd/workspaces.go `createWorkspace`,
   * coderd/workspacebuilds.go `postWorkspaceBuilds`).
   */
  /** Users are only ever added, so the admins are found again only when the count changes. */
  private admins: { users: number; list: SimUser[] } | undefined;

  private templateAdmins(initiator: SimUser): SimUser[] {
    if (this.admins?.users !== this.s.users.size) {
      this.admins = { users: this.s.users.size, list: [...this.s.users.values()].filter(isTemplateAdmin) };
    }
    return this.admins.list.filter((u) => u.id !== initiator.id);
  }

  private targets(ws: SimWorkspace): string[] {
    return [ws.id, ws.ownerId, ws.templateId, ws.orgId];
  }

  private workspaceData(ws: SimWorkspace): Record<string, unknown> {
    const owner = this.s.userOf(ws.ownerId);
    const template = this.s.templateOf(ws.templateId);
    const build = latestBuild(ws);
    return {
      workspace: { id: ws.id, name: ws.name },
      template: { id: template.id, name: template.name },
      template_version: { id: build.templateVersionId, name: template.activeVersionName },
      owner: { id: owner.id, name: owner.name, email: owner.email },
      parameters: build.parameters.map((p) => ({ name: p.name, value: p.value })),
    };
  }

  private emit(
    recipient: SimUser,
    name: string,
    templateId: string,
    fields: {
      labels: Record<string, string>;
      data: Record<string, unknown> | null;
      actions: Array<{ label: string; url: string }>;
      targets: string[];
      title: string;
      body: string;
    },
  ): void {
    const message: NotificationMessage = {
      _version: '1.1',
      msg_id: newId(),
      payload: {
        _version: '1.2',
        notification_name: name,
        notification_template_id: templateId,
        user_id: recipient.id,
        user_email: recipient.email,
        user_name: recipient.name,
        user_username: recipient.username,
        actions: fields.actions,
        labels: fields.labels,
        data: fields.data,
        ...(notificationTargetsRule(this.profile) ? { targets: fields.targets } : {}),
      },
      title: fields.title,
      title_markdown: fields.title,
      body: fields.body,
      body_markdown: fields.body,
    };
    this.messages.push(message);
    this.dispatcher?.send(message);
  }

  workspaceCreated(ws: SimWorkspace, initiator: SimUser): void {
    const owner = this.s.userOf(ws.ownerId);
    const template = this.s.templateOf(ws.templateId);
    const labels = {
      workspace: ws.name,
      template: template.name,
      version: template.activeVersionName,
      workspace_owner_username: owner.username,
    };
    for (const recipient of this.templateAdmins(initiator)) {
      this.emit(recipient, 'Workspace Created', TEMPLATE_IDS.workspaceCreated, {
        labels,
        data: this.workspaceData(ws),
        actions: [{ label: 'View workspace', url: `${this.accessUrl()}/@${owner.username}/${ws.name}` }],
        targets: this.targets(ws),
        title: `Workspace '${ws.name}' has been created`,
        body: `New workspace **${ws.name}** has been created from the template **${template.name}** by ${owner.username}.`,
      });
    }
  }

  workspaceManuallyUpdated(ws: SimWorkspace, initiator: SimUser): void {
    const owner = this.s.userOf(ws.ownerId);
    const template = this.s.templateOf(ws.templateId);
    const org = this.s.orgOf(ws.orgId);
    const labels = {
      workspace: ws.name,
      template: template.name,
      version: template.activeVersionName,
      organization: org.name,
      initiator: initiator.username,
      workspace_owner_username: owner.username,
    };
    for (const recipient of this.templateAdmins(initiator)) {
      this.emit(recipient, 'Workspace Manually Updated', TEMPLATE_IDS.workspaceManuallyUpdated, {
        labels,
        data: this.workspaceData(ws),
        actions: [
          { label: 'View workspace', url: `${this.accessUrl()}/@${owner.username}/${ws.name}` },
          {
            label: 'View template version',
            url: `${this.accessUrl()}/templates/${org.name}/${template.name}`,
          },
        ],
        targets: this.targets(ws),
        title: `Workspace '${ws.name}' has been manually updated`,
        body: `A new workspace build has been manually created for your workspace **${ws.name}** by **${initiator.username}** to update it.`,
      });
    }
  }

  workspaceDeleted(ws: SimWorkspace, initiator: SimUser): void {
    const owner = this.s.userOf(ws.ownerId);
    this.emit(owner, 'Workspace Deleted', TEMPLATE_IDS.workspaceDeleted, {
      labels: { name: ws.name, reason: 'initiated by user', initiator: initiator.username },
      data: null,
      actions: [
        { label: 'View workspaces', url: `${this.accessUrl()}/workspaces` },
        { label: 'View templates', url: `${this.accessUrl()}/templates` },
      ],
      targets: this.targets(ws),
      title: `Workspace '${ws.name}' deleted`,
      body: `Your workspace **${ws.name}** was deleted.\n\nThe specified reason was "**initiated by user (${initiator.username})**".`,
    });
  }
}
