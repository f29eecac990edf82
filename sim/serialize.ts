/**
 * JSON shapes of the codersdk types, field for field. Where Go serializes a nil pointer or an invalid
 * NullTime/NullUUID as `null`, so does the simulator, even where the spec types the field as a plain
 * string (see the report's spec exceptions).
 */
import {
  latestBuild,
  RESERVED_KEYS,
  type SimAuditRow,
  type SimBuild,
  type SimJob,
  type SimOrganization,
  type SimProvisionerDaemon,
  type SimProvisionerKey,
  type SimTemplate,
  type SimUser,
  type SimWorkspace,
  workspaceStatus,
} from './model.js';
import type { QueuePosition } from './provisioning/runner.js';
import { tagsetContains } from './provisioning/tags.js';
import type { SimState } from './state.js';
import type { SimRichParameter } from './types.js';

const ROLE_DISPLAY_NAMES: Record<string, string> = {
  owner: 'Owner',
  'template-admin': 'Template Admin',
  'user-admin': 'User Admin',
  auditor: 'Auditor',
  member: 'Member',
};

export function userJson(u: SimUser): Record<string, unknown> {
  return {
    id: u.id,
    username: u.username,
    // Coder sends "" here, which the spec's `format: uri` rejects; simulated users have no avatar, so the field is left out.
    name: u.name,
    email: u.email,
    created_at: u.createdAt,
    updated_at: u.createdAt,
    last_seen_at: u.createdAt,
    status: 'active',
    login_type: 'password',
    is_service_account: false,
    theme_preference: '',
    has_ai_seat: false,
    organization_ids: [...u.orgIds],
    roles: u.roles.map((r) => ({ name: r, display_name: ROLE_DISPLAY_NAMES[r] ?? r, organization_id: '' })),
  };
}

export function organizationJson(o: SimOrganization): Record<string, unknown> {
  return {
    id: o.id,
    name: o.name,
    display_name: o.displayName,
    description: '',
    icon: '',
    created_at: o.createdAt,
    updated_at: o.createdAt,
    is_default: o.isDefault,
    default_org_member_roles: [],
  };
}

export function minimalOrganizationJson(o: SimOrganization): Record<string, unknown> {
  return { id: o.id, name: o.name, display_name: o.displayName, icon: '' };
}

export function templateJson(state: SimState, t: SimTemplate): Record<string, unknown> {
  const org = state.orgOf(t.orgId);
  const creator = state.users.get(t.createdById);
  return {
    id: t.id,
    created_at: t.createdAt,
    updated_at: t.createdAt,
    organization_id: org.id,
    organization_name: org.name,
    organization_display_name: org.displayName,
    organization_icon: '',
    name: t.name,
    display_name: t.displayName,
    provisioner: 'terraform',
    active_version_id: t.activeVersionId,
    active_user_count: 0,
    build_time_stats: {},
    description: '',
    deprecated: false,
    deprecation_message: '',
    deleted: false,
    icon: '',
    default_ttl_ms: t.defaultTtlMs,
    activity_bump_ms: 3_600_000,
    autostop_requirement: { days_of_week: [], weeks: 1 },
    autostart_requirement: {
      days_of_week: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
    },
    created_by_id: t.createdById,
    created_by_name: creator?.username ?? '',
    allow_user_autostart: t.allowUserAutostart,
    allow_user_autostop: true,
    allow_user_cancel_workspace_jobs: false,
    failure_ttl_ms: 0,
    time_til_dormant_ms: 0,
    time_til_dormant_autodelete_ms: 0,
    require_active_version: false,
    max_port_share_level: 'owner',
    cors_behavior: 'simple',
    use_classic_parameter_flow: false,
    disable_module_cache: false,
  };
}

/**
 * codersdk.TemplateVersion of a template's (only) version. Its `job` is the import job, whose tags
 * every build of the template inherits; `matched_provisioners` counts the organization's daemons
 * that can take those tags (db2sdk.MatchedProvisioners: `available` = seen within the stale interval).
 */
export function templateVersionJson(state: SimState, t: SimTemplate): Record<string, unknown> {
  const creator = state.users.get(t.createdById);
  const now = state.scheduler.now();
  let count = 0;
  let available = 0;
  let mostRecent = 0;
  for (const d of state.daemons.values()) {
    if (d.orgId !== t.orgId || !tagsetContains(d.tags, t.provisionerTags)) continue;
    const seen = Date.parse(d.lastSeenAt);
    count++;
    if (now - seen <= DAEMON_ONLINE_MS) available++;
    mostRecent = Math.max(mostRecent, seen);
  }
  const matched: Record<string, unknown> = { count, available };
  if (count > 0) matched.most_recently_seen = new Date(mostRecent).toISOString();
  return {
    id: t.activeVersionId,
    template_id: t.id,
    organization_id: t.orgId,
    created_at: t.createdAt,
    updated_at: t.createdAt,
    name: t.activeVersionName,
    message: '',
    readme: '',
    archived: false,
    warnings: [],
    has_external_agent: false,
    created_by: { id: t.createdById, username: creator?.username ?? '', name: creator?.name ?? '' },
    matched_provisioners: matched,
    job: {
      id: t.importJobId,
      created_at: t.createdAt,
      started_at: t.createdAt,
      completed_at: t.createdAt,
      status: 'succeeded',
      file_id: t.importJobId,
      tags: { ...t.provisionerTags },
      queue_position: 0,
      queue_size: 0,
      organization_id: t.orgId,
      initiator_id: t.createdById,
      input: { template_version_id: t.activeVersionId },
      type: 'template_version_import',
      metadata: {
        template_version_name: t.activeVersionName,
        template_id: t.id,
        template_name: t.name,
        template_display_name: t.displayName,
        template_icon: '',
      },
      logs_overflowed: false,
    },
  };
}

export function richParameterJson(p: SimRichParameter): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: p.name,
    display_name: p.displayName ?? '',
    description: p.description ?? '',
    description_plaintext: p.description ?? '',
    type: p.type ?? 'string',
    form_type: '',
    mutable: p.mutable ?? true,
    default_value: p.defaultValue ?? '',
    icon: '',
    options: (p.options ?? []).map((o) => ({
      name: o.name,
      description: o.description ?? '',
      value: o.value,
      icon: o.icon ?? '',
    })),
    validation_error: p.validationError ?? '',
    required: p.defaultValue === undefined,
    ephemeral: p.ephemeral ?? false,
  };
  if (p.validationRegex !== undefined) out.validation_regex = p.validationRegex;
  if (p.validationMin !== undefined) out.validation_min = p.validationMin;
  if (p.validationMax !== undefined) out.validation_max = p.validationMax;
  return out;
}

/**
 * A workspace build's job (codersdk.ProvisionerJob). Builds carry the queue position of
 * `GetProvisionerJobsByIDsWithQueuePosition`; the job list passes its own (see queue.ts).
 */
export function jobJson(
  state: SimState,
  ws: SimWorkspace,
  b: SimBuild,
  queue: QueuePosition,
): Record<string, unknown> {
  const template = state.templateOf(ws.templateId);
  const j: SimJob = b.job;
  const job: Record<string, unknown> = {
    id: j.id,
    created_at: j.createdAt,
    status: j.status,
    file_id: j.fileId,
    tags: { ...j.tags },
    queue_position: queue.position,
    queue_size: queue.size,
    organization_id: j.orgId,
    initiator_id: j.initiatorId,
    input: { workspace_build_id: b.id },
    type: 'workspace_build',
    metadata: {
      template_version_name: template.activeVersionName,
      template_id: template.id,
      template_name: template.name,
      template_display_name: template.displayName,
      template_icon: '',
      workspace_id: ws.id,
      workspace_name: ws.name,
      workspace_build_transition: b.transition,
    },
    logs_overflowed: false,
  };
  if (j.startedAt !== undefined) job.started_at = j.startedAt;
  if (j.completedAt !== undefined) job.completed_at = j.completedAt;
  if (j.workerId !== undefined) {
    job.worker_id = j.workerId;
    job.worker_name = state.daemons.get(j.workerId)?.name ?? '';
  }
  return job;
}

export function buildJson(state: SimState, ws: SimWorkspace, b: SimBuild): Record<string, unknown> {
  const owner = state.userOf(ws.ownerId);
  const initiator = state.userOf(b.initiatorId);
  const template = state.templateOf(ws.templateId);
  const job = jobJson(state, ws, b, state.buildQueuePosition(b.job));
  return {
    id: b.id,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    workspace_id: ws.id,
    workspace_name: ws.name,
    workspace_owner_id: owner.id,
    workspace_owner_name: owner.username,
    template_version_id: b.templateVersionId,
    template_version_name: template.activeVersionName,
    build_number: b.number,
    transition: b.transition,
    initiator_id: initiator.id,
    initiator_name: initiator.username,
    job,
    reason: b.reason,
    resources: [],
    deadline: b.deadline,
    max_deadline: null,
    status: workspaceStatus(b.transition, b.job.status),
    daily_cost: 0,
    matched_provisioners: { count: 1, available: 1, most_recently_seen: b.createdAt },
    template_version_preset_id: null,
    has_ai_task: false,
    has_external_agent: false,
  };
}

export function workspaceJson(state: SimState, ws: SimWorkspace): Record<string, unknown> {
  const owner = state.userOf(ws.ownerId);
  const org = state.orgOf(ws.orgId);
  const template = state.templateOf(ws.templateId);
  const latest = latestBuild(ws);
  const out: Record<string, unknown> = {
    id: ws.id,
    created_at: ws.createdAt,
    updated_at: ws.updatedAt,
    owner_id: owner.id,
    owner_name: owner.username,
    owner_avatar_url: '',
    organization_id: org.id,
    organization_name: org.name,
    template_id: template.id,
    template_name: template.name,
    template_display_name: template.displayName,
    template_icon: '',
    template_allow_user_cancel_workspace_jobs: false,
    template_active_version_id: template.activeVersionId,
    template_require_active_version: false,
    template_use_classic_parameter_flow: false,
    latest_build: buildJson(state, ws, latest),
    latest_app_status: null,
    outdated: latest.templateVersionId !== template.activeVersionId,
    name: ws.name,
    last_used_at: ws.lastUsedAt,
    deleting_at: null,
    dormant_at: null,
    health: { healthy: true, failing_agents: [] },
    automatic_updates: ws.automaticUpdates,
    allow_renames: false,
    favorite: false,
    next_start_at: ws.nextStartAt,
    is_prebuild: false,
    task_id: null,
    shared_with: [],
  };
  // Go's `omitempty` on these pointers: absent, not null, when unset.
  if (ws.autostartSchedule !== undefined) out.autostart_schedule = ws.autostartSchedule;
  if (ws.ttlMs !== undefined) out.ttl_ms = ws.ttlMs;
  return out;
}

export function provisionerKeyJson(k: SimProvisionerKey): Record<string, unknown> {
  return { id: k.id, created_at: k.createdAt, organization: k.orgId, name: k.name, tags: { ...k.tags } };
}

export function pseudoKeyJson(org: SimOrganization, name: string): Record<string, unknown> {
  const reserved = RESERVED_KEYS.find((k) => k.name === name);
  return { id: reserved?.id ?? '', created_at: org.createdAt, organization: org.id, name, tags: {} };
}

/** Seen within the last 90 seconds counts as online. */
export const DAEMON_ONLINE_MS = 90_000;

/**
 * `GetProvisionerDaemonsWithStatusByOrganization` (coderd/database/queries/provisionerdaemons.sql):
 * offline when not seen within the stale interval, busy while it has a current job, else idle. A
 * seeded daemon row reports the status it was seeded with.
 */
export function daemonStatus(d: SimProvisionerDaemon, now: number): 'idle' | 'busy' | 'offline' {
  if (d.status === 'offline' || now - Date.parse(d.lastSeenAt) > DAEMON_ONLINE_MS) return 'offline';
  if (d.pool !== undefined) return d.currentJobId !== undefined ? 'busy' : 'idle';
  return d.status;
}

/** codersdk.ProvisionerDaemonJob of a daemon's current or previous job; null when it has none. */
function daemonJobJson(state: SimState, jobId: string | undefined): Record<string, unknown> | null {
  if (jobId === undefined) return null;
  const found = state.jobById(jobId);
  if (found === undefined) return null;
  const template = state.templateOf(found.ws.templateId);
  return {
    id: jobId,
    status: found.build.job.status,
    template_name: template.name,
    template_display_name: template.displayName,
    template_icon: '',
  };
}

export function daemonJson(state: SimState, d: SimProvisionerDaemon, now: number): Record<string, unknown> {
  return {
    id: d.id,
    organization_id: d.orgId,
    key_id: d.keyId,
    key_name: d.keyName,
    created_at: d.createdAt,
    last_seen_at: d.lastSeenAt,
    name: d.name,
    version: 'v2.37.0',
    api_version: '1.9',
    provisioners: ['terraform'],
    tags: { ...d.tags },
    status: daemonStatus(d, now),
    current_job: daemonJobJson(state, d.currentJobId),
    previous_job: daemonJobJson(state, d.previousJobId),
  };
}

export function auditJson(state: SimState, row: SimAuditRow): Record<string, unknown> {
  const user = state.users.get(row.userId);
  const org = state.orgOf(row.orgId);
  const verb =
    row.action === 'create'
      ? 'created'
      : row.action === 'delete'
        ? 'deleted'
        : row.action === 'start'
          ? 'started'
          : 'stopped';
  return {
    id: row.id,
    request_id: row.requestId,
    time: row.time,
    ip: '127.0.0.1',
    user_agent: row.userAgent,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
    resource_target: row.resourceTarget,
    resource_icon: '',
    resource_link: row.resourceLink,
    action: row.action,
    diff: {},
    user: user === undefined ? null : userJson(user),
    status_code: row.statusCode,
    additional_fields: { ...row.additionalFields },
    description: `{user} ${verb} workspace {target}`,
    is_deleted: false,
    organization: minimalOrganizationJson(org),
    organization_id: org.id,
  };
}
