/** The simulated Coder deployment: its records and the operations the API performs on them. */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoderApiError, forbidden, notFound, tagDetail, validationFailed } from './errors.js';
import {
  ACTIVE_JOB_STATUSES,
  type BuildParameter,
  isReservedKeyName,
  latestBuild,
  newId,
  newProvisionerKeySecret,
  newSessionToken,
  RESERVED_KEYS,
  type SimAuditRow,
  type SimBuild,
  type SimOrganization,
  type SimProvisionerDaemon,
  type SimProvisionerKey,
  type SimTemplate,
  type SimUser,
  type SimWorkspace,
} from './model.js';
import { nextScheduledTime, parseWeeklySchedule } from './schedule.js';
import type { SimRichParameter, SimulatorSeeder, WorkspaceTransition } from './types.js';

/** What the notification side needs to hear about; the state never talks HTTP itself. */
export interface StateEvents {
  workspaceCreated(ws: SimWorkspace, initiator: SimUser): void;
  workspaceManuallyUpdated(ws: SimWorkspace, initiator: SimUser): void;
  workspaceDeleted(ws: SimWorkspace, initiator: SimUser): void;
}

export interface CreateWorkspaceInput {
  name?: unknown;
  template_id?: unknown;
  template_version_id?: unknown;
  rich_parameter_values?: unknown;
  autostart_schedule?: unknown;
  ttl_ms?: unknown;
  automatic_updates?: unknown;
}

export interface CreateBuildInput {
  transition?: unknown;
  template_version_id?: unknown;
  rich_parameter_values?: unknown;
  orphan?: unknown;
  reason?: unknown;
}

const NAME_PATTERN = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const RESERVED_WORKSPACE_NAMES = new Set(['new', 'create']);
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const BUILD_REASONS = new Set([
  'dashboard',
  'cli',
  'ssh_connection',
  'vscode_connection',
  'jetbrains_connection',
  'task_manual_pause',
  'task_resume',
]);
const MINUTE_MS = 60_000;

export const isUuid = (s: string): boolean => UUID_PATTERN.test(s);

export function isOwner(user: SimUser): boolean {
  return user.roles.includes('owner');
}

/** Owners and template admins manage templates and receive template-admin notifications. */
export function isTemplateAdmin(user: SimUser): boolean {
  return user.roles.includes('owner') || user.roles.includes('template-admin');
}

export function workspaceNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 32) return 'must be between 1 and 32 characters';
  if (!NAME_PATTERN.test(name)) return 'must be alphanumeric with single hyphens between characters';
  if (RESERVED_WORKSPACE_NAMES.has(name.toLowerCase())) return 'is a reserved name';
  return undefined;
}

export class SimState {
  readonly users = new Map<string, SimUser>();
  readonly orgs = new Map<string, SimOrganization>();
  readonly templates = new Map<string, SimTemplate>();
  readonly workspaces = new Map<string, SimWorkspace>();
  readonly builds = new Map<string, SimBuild>();
  readonly keys = new Map<string, SimProvisionerKey>();
  readonly daemons = new Map<string, SimProvisionerDaemon>();
  readonly audit: SimAuditRow[] = [];
  private readonly usersByName = new Map<string, SimUser>();
  private readonly usersByToken = new Map<string, SimUser>();
  /** Active (owner id + lower name) pairs; mirrors the workspaces_owner_id_lower_idx unique index. */
  private readonly liveNames = new Map<string, string>();
  private readonly jobTimers = new Map<string, NodeJS.Timeout[]>();
  private closed = false;

  constructor(
    private readonly buildDurationMs: number,
    private readonly createRaceWindowMs: number,
    private readonly events: StateEvents,
  ) {}

  // ---- lookups -------------------------------------------------------------------------------

  userByToken(token: string): SimUser | undefined {
    return this.usersByToken.get(token);
  }

  defaultOrg(): SimOrganization {
    for (const org of this.orgs.values()) if (org.isDefault) return org;
    throw new Error('the simulator has no default organization');
  }

  /** `{user}`: a UUID, a username or `me`. */
  resolveUser(ref: string, caller: SimUser): SimUser {
    if (ref === 'me') return caller;
    const user = isUuid(ref) ? this.users.get(ref.toLowerCase()) : this.usersByName.get(ref.toLowerCase());
    if (user === undefined) throw notFound();
    return user;
  }

  /** `{organization}`: a UUID, a name, the literal `default`, or the nil UUID for legacy callers. */
  resolveOrg(ref: string, caller: SimUser | undefined): SimOrganization {
    let org: SimOrganization | undefined;
    if (ref === 'default' || ref === NIL_UUID) org = this.defaultOrg();
    else if (isUuid(ref)) org = this.orgs.get(ref.toLowerCase());
    else org = [...this.orgs.values()].find((o) => o.name === ref.toLowerCase());
    if (org === undefined) throw notFound();
    if (caller !== undefined && !isOwner(caller) && !caller.orgIds.includes(org.id)) throw notFound();
    return org;
  }

  orgOf(id: string): SimOrganization {
    const org = this.orgs.get(id);
    if (org === undefined) throw new Error(`unknown organization ${id}`);
    return org;
  }

  userOf(id: string): SimUser {
    const user = this.users.get(id);
    if (user === undefined) throw new Error(`unknown user ${id}`);
    return user;
  }

  templateOf(id: string): SimTemplate {
    const t = this.templates.get(id);
    if (t === undefined) throw new Error(`unknown template ${id}`);
    return t;
  }

  templateByVersion(versionId: string): SimTemplate | undefined {
    for (const t of this.templates.values()) if (t.activeVersionId === versionId) return t;
    return undefined;
  }

  canSeeWorkspace(caller: SimUser, ws: SimWorkspace): boolean {
    return isOwner(caller) || ws.ownerId === caller.id;
  }

  canSeeOrg(caller: SimUser, orgId: string): boolean {
    return isOwner(caller) || caller.orgIds.includes(orgId);
  }

  /** A workspace by `{workspace}` id, deleted ones included; the route decides what to do with those. */
  workspaceForCaller(ref: string, caller: SimUser): SimWorkspace {
    if (!isUuid(ref))
      throw new CoderApiError(400, `Invalid UUID "${ref}".`, {
        detail: `invalid UUID length: ${ref.length}`,
      });
    const ws = this.workspaces.get(ref.toLowerCase());
    if (ws === undefined || !this.canSeeWorkspace(caller, ws)) throw notFound();
    return ws;
  }

  buildForCaller(ref: string, caller: SimUser): SimBuild {
    if (!isUuid(ref))
      throw new CoderApiError(400, `Invalid UUID "${ref}".`, {
        detail: `invalid UUID length: ${ref.length}`,
      });
    const build = this.builds.get(ref.toLowerCase());
    if (build === undefined) throw notFound();
    const ws = this.workspaces.get(build.workspaceId);
    if (ws === undefined || !this.canSeeWorkspace(caller, ws)) throw notFound();
    return build;
  }

  // ---- seeding -------------------------------------------------------------------------------

  addOrganization(o: { name: string; isDefault?: boolean }): SimOrganization {
    const name = o.name.toLowerCase();
    if ([...this.orgs.values()].some((x) => x.name === name)) throw new Error(`organization ${name} exists`);
    if (o.isDefault === true) for (const other of this.orgs.values()) other.isDefault = false;
    const org: SimOrganization = {
      id: newId(),
      name,
      displayName: o.name,
      isDefault: o.isDefault === true || this.orgs.size === 0,
      createdAt: new Date().toISOString(),
    };
    this.orgs.set(org.id, org);
    return org;
  }

  addUser(u: { username: string; email?: string; roles?: string[]; organizations?: string[] }): SimUser {
    const key = u.username.toLowerCase();
    if (this.usersByName.has(key)) throw new Error(`user ${u.username} exists`);
    const orgIds =
      u.organizations === undefined
        ? [this.defaultOrg().id]
        : u.organizations.map((ref) => this.resolveOrg(ref, undefined).id);
    const user: SimUser = {
      id: newId(),
      username: u.username,
      email: u.email ?? `${key}@coder.example.com`,
      name: u.username,
      roles: u.roles ?? [],
      orgIds,
      token: newSessionToken(),
      createdAt: new Date().toISOString(),
    };
    this.users.set(user.id, user);
    this.usersByName.set(key, user);
    this.usersByToken.set(user.token, user);
    return user;
  }

  addTemplate(t: Parameters<SimulatorSeeder['template']>[0], createdBy: SimUser): SimTemplate {
    const org = t.organization === undefined ? this.defaultOrg() : this.resolveOrg(t.organization, undefined);
    const name = t.name.toLowerCase();
    for (const other of this.templates.values()) {
      if (other.orgId === org.id && other.name === name)
        throw new Error(`template ${name} exists in ${org.name}`);
    }
    const template: SimTemplate = {
      id: newId(),
      orgId: org.id,
      name,
      displayName: t.displayName ?? t.name,
      activeVersionId: newId(),
      activeVersionName: `${name}-v1`,
      parameters: t.parameters ?? [],
      allowUserAutostart: t.allowUserAutostart ?? true,
      defaultTtlMs: t.defaultTtlMs ?? 0,
      createdById: createdBy.id,
      createdAt: new Date().toISOString(),
    };
    this.templates.set(template.id, template);
    return template;
  }

  /** A template by name, preferring the given org; seeding helpers accept names for convenience. */
  findTemplate(name: string, orgRef: string | undefined): SimTemplate {
    const org = orgRef === undefined ? undefined : this.resolveOrg(orgRef, undefined);
    const lower = name.toLowerCase();
    const candidates = [...this.templates.values()].filter(
      (t) => t.name === lower && (org === undefined || t.orgId === org.id),
    );
    const preferred = candidates.find((t) => t.orgId === this.defaultOrg().id) ?? candidates[0];
    if (preferred === undefined) throw new Error(`unknown template ${name}`);
    return preferred;
  }

  seedWorkspace(w: Parameters<SimulatorSeeder['workspace']>[0]): SimWorkspace {
    const owner = this.usersByName.get(w.owner.toLowerCase());
    if (owner === undefined) throw new Error(`unknown user ${w.owner}`);
    const template = this.findTemplate(w.template, w.organization);
    const problem = workspaceNameProblem(w.name);
    if (problem !== undefined) throw new Error(`workspace name ${w.name} ${problem}`);
    const nameKey = `${owner.id}/${w.name.toLowerCase()}`;
    if (this.liveNames.has(nameKey)) throw new Error(`workspace ${w.owner}/${w.name} exists`);
    const createdAt = w.createdAt ?? new Date().toISOString();
    const given = Object.entries(w.parameters ?? {}).map(([name, value]) => ({ name, value }));
    const parameters = template.parameters.map((p) => ({
      name: p.name,
      value: w.parameters?.[p.name] ?? p.defaultValue ?? '',
    }));
    for (const g of given) if (!parameters.some((p) => p.name === g.name)) parameters.push(g);
    const ws: SimWorkspace = {
      id: newId(),
      name: w.name,
      ownerId: owner.id,
      orgId: template.orgId,
      templateId: template.id,
      createdAt,
      updatedAt: createdAt,
      lastUsedAt: createdAt,
      nextStartAt: null,
      automaticUpdates: 'never',
      deleted: false,
      builds: [],
    };
    if (w.autostartSchedule !== undefined) ws.autostartSchedule = w.autostartSchedule;
    if (w.ttlMs !== undefined) ws.ttlMs = w.ttlMs;
    const transitions: WorkspaceTransition[] = w.status === 'stopped' ? ['start', 'stop'] : ['start'];
    for (const transition of transitions) {
      const build = this.newBuild(
        ws,
        transition,
        template.activeVersionId,
        owner,
        'initiator',
        parameters,
        createdAt,
      );
      build.job.status = 'succeeded';
      build.job.startedAt = createdAt;
      build.job.completedAt = createdAt;
      ws.builds.push(build);
      this.builds.set(build.id, build);
    }
    ws.nextStartAt = w.nextStartAt !== undefined ? w.nextStartAt : this.computeNextStart(ws, template);
    this.workspaces.set(ws.id, ws);
    this.liveNames.set(nameKey, ws.id);
    return ws;
  }

  addProvisionerKey(orgRef: string | undefined, name: unknown, tags: unknown): SimProvisionerKey {
    const org = orgRef === undefined ? this.defaultOrg() : this.resolveOrg(orgRef, undefined);
    return this.createProvisionerKey(org, { name, tags });
  }

  addProvisionerDaemon(d: Parameters<SimulatorSeeder['provisionerDaemon']>[0]): SimProvisionerDaemon {
    const org = d.organization === undefined ? this.defaultOrg() : this.resolveOrg(d.organization, undefined);
    const reserved = RESERVED_KEYS.find((k) => k.name === d.keyName.toLowerCase());
    const key = [...this.keys.values()].find(
      (k) => k.orgId === org.id && k.name.toLowerCase() === d.keyName.toLowerCase(),
    );
    if (reserved === undefined && key === undefined) throw new Error(`unknown provisioner key ${d.keyName}`);
    const now = new Date().toISOString();
    const daemon: SimProvisionerDaemon = {
      id: newId(),
      orgId: org.id,
      name: d.name,
      keyId: key?.id ?? reserved?.id ?? '',
      keyName: key?.name ?? reserved?.name ?? d.keyName,
      // A daemon that connects with a key gets the key's tags and cannot add its own.
      tags:
        key !== undefined && Object.keys(key.tags).length > 0
          ? { ...key.tags }
          : { scope: 'organization', owner: '' },
      createdAt: now,
      lastSeenAt: d.lastSeenAt ?? now,
      status: d.status ?? 'idle',
    };
    this.daemons.set(daemon.id, daemon);
    return daemon;
  }

  removeProvisionerDaemon(name: string): void {
    for (const [id, d] of this.daemons) if (d.name === name) this.daemons.delete(id);
  }

  // ---- workspaces ----------------------------------------------------------------------------

  /**
   * POST .../workspaces. The name check runs before the insert with an async gap in between, as in
   * Coder, so two racing creates can both pass it and the loser hits the unique index (500).
   */
  async createWorkspace(
    caller: SimUser,
    owner: SimUser,
    org: SimOrganization | undefined,
    input: CreateWorkspaceInput,
    requestMeta: { requestId: string; userAgent: string },
  ): Promise<SimWorkspace> {
    const name = typeof input.name === 'string' ? input.name : '';
    if (name === '') throw validationFailed([{ field: 'name', detail: tagDetail('required', '') }]);
    if (workspaceNameProblem(name) !== undefined) {
      throw validationFailed([{ field: 'name', detail: tagDetail('workspace_name', name) }]);
    }
    const templateId = optionalUuid(input.template_id, 'template_id');
    const versionId = optionalUuid(input.template_version_id, 'template_version_id');
    if ((templateId === undefined) === (versionId === undefined)) {
      const detail =
        templateId === undefined
          ? 'You must specify either a template_id or a template_version_id.'
          : 'You cannot specify both a template_id and a template_version_id.';
      throw new CoderApiError(400, 'Validation failed.', {
        detail,
        validations: [
          { field: 'template_id', detail },
          { field: 'template_version_id', detail },
        ],
      });
    }
    let template: SimTemplate | undefined;
    if (templateId !== undefined) {
      template = this.templates.get(templateId);
      if (template === undefined) {
        throw new CoderApiError(400, `Template "${templateId}" doesn't exist.`, {
          validations: [{ field: 'template_id', detail: 'template not found' }],
        });
      }
    } else if (versionId !== undefined) {
      template = this.templateByVersion(versionId);
      if (template === undefined) {
        throw new CoderApiError(400, `Template version "${versionId}" doesn't exist.`, {
          validations: [{ field: 'template_version_id', detail: 'template not found' }],
        });
      }
    }
    if (template === undefined) throw new Error('unreachable: template resolved above');
    if (!this.canSeeOrg(caller, template.orgId)) {
      throw new CoderApiError(400, `Template "${template.id}" doesn't exist.`, {
        validations: [{ field: 'template_id', detail: 'template not found' }],
      });
    }
    if (org !== undefined && org.id !== template.orgId) {
      throw new CoderApiError(400, `Template is not in organization "${org.name}".`);
    }
    if (!isOwner(caller) && caller.id !== owner.id) throw forbidden();
    if (!owner.orgIds.includes(template.orgId)) {
      throw new CoderApiError(
        403,
        `User "${owner.username}" is not a member of the template's organization.`,
      );
    }
    const schedule = validateSchedule(input.autostart_schedule);
    const ttlMs = validateTtl(input.ttl_ms, template);
    const automaticUpdates = input.automatic_updates === 'always' ? 'always' : 'never';
    const parameters = resolveParameters(
      template.parameters,
      undefined,
      parseParameterValues(input.rich_parameter_values),
    );

    const nameKey = `${owner.id}/${name.toLowerCase()}`;
    if (this.liveNames.has(nameKey)) throw nameTaken(name);
    if (this.createRaceWindowMs > 0) await sleep(this.createRaceWindowMs, undefined, { ref: false });
    else await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.liveNames.has(nameKey)) {
      throw new CoderApiError(500, 'Internal error creating workspace.', {
        detail:
          'insert workspace: pq: duplicate key value violates unique constraint "workspaces_owner_id_lower_idx"',
      });
    }

    const now = new Date().toISOString();
    const ws: SimWorkspace = {
      id: newId(),
      name,
      ownerId: owner.id,
      orgId: template.orgId,
      templateId: template.id,
      createdAt: now,
      updatedAt: now,
      lastUsedAt: now,
      nextStartAt: null,
      automaticUpdates,
      deleted: false,
      builds: [],
    };
    if (schedule !== undefined) ws.autostartSchedule = schedule;
    if (ttlMs !== undefined) ws.ttlMs = ttlMs;
    ws.nextStartAt = this.computeNextStart(ws, template);
    const build = this.newBuild(ws, 'start', template.activeVersionId, caller, 'initiator', parameters, now);
    ws.builds.push(build);
    this.builds.set(build.id, build);
    this.workspaces.set(ws.id, ws);
    this.liveNames.set(nameKey, ws.id);
    this.scheduleJob(ws, build);
    this.writeAudit({
      caller,
      ws,
      resourceType: 'workspace',
      action: 'create',
      statusCode: 201,
      requestMeta,
      additionalFields: {},
    });
    this.events.workspaceCreated(ws, caller);
    return ws;
  }

  /** POST /workspaces/{workspace}/builds. */
  createBuild(
    caller: SimUser,
    ws: SimWorkspace,
    input: CreateBuildInput,
    requestMeta: { requestId: string; userAgent: string },
  ): SimBuild {
    const transition = input.transition;
    if (transition !== 'start' && transition !== 'stop' && transition !== 'delete') {
      throw validationFailed([{ field: 'transition', detail: tagDetail('oneof', String(transition ?? '')) }]);
    }
    if (input.orphan === true && transition !== 'delete') {
      throw new CoderApiError(400, 'Orphan is only permitted when deleting a workspace.');
    }
    const template = this.templateOf(ws.templateId);
    if (input.orphan === true && !isTemplateAdmin(caller)) throw forbidden();
    if (ws.deleted && transition !== 'delete') {
      throw new CoderApiError(409, 'Cannot start a deleted workspace!');
    }
    const previous = latestBuild(ws);
    if (ACTIVE_JOB_STATUSES.has(previous.job.status)) {
      throw new CoderApiError(409, 'A workspace build is already active.');
    }
    let versionId = previous.templateVersionId;
    if (input.template_version_id !== undefined && input.template_version_id !== '') {
      const requested = optionalUuid(input.template_version_id, 'template_version_id');
      if (requested === undefined || this.templateByVersion(requested)?.id !== template.id) {
        throw new CoderApiError(
          400,
          `Template version "${String(input.template_version_id)}" doesn't exist.`,
          {
            validations: [{ field: 'template_version_id', detail: 'template version not found' }],
          },
        );
      }
      versionId = requested;
    }
    const reason =
      typeof input.reason === 'string' && BUILD_REASONS.has(input.reason) ? input.reason : 'initiator';
    const given = transition === 'start' ? parseParameterValues(input.rich_parameter_values) : [];
    const parameters = resolveParameters(template.parameters, previous.parameters, given);
    const now = new Date().toISOString();
    const build = this.newBuild(ws, transition, versionId, caller, reason, parameters, now);
    ws.builds.push(build);
    ws.updatedAt = now;
    this.builds.set(build.id, build);
    this.scheduleJob(ws, build, requestMeta);
    const changed =
      versionId !== previous.templateVersionId ||
      parameters.some((p) => previous.parameters.find((q) => q.name === p.name)?.value !== p.value);
    if (transition === 'start' && changed) this.events.workspaceManuallyUpdated(ws, caller);
    return build;
  }

  private newBuild(
    ws: SimWorkspace,
    transition: WorkspaceTransition,
    versionId: string,
    initiator: SimUser,
    reason: string,
    parameters: BuildParameter[],
    now: string,
  ): SimBuild {
    return {
      id: newId(),
      workspaceId: ws.id,
      number: ws.builds.length + 1,
      transition,
      templateVersionId: versionId,
      initiatorId: initiator.id,
      reason,
      parameters: parameters.map((p) => ({ ...p })),
      job: { id: newId(), status: 'pending', createdAt: now, fileId: newId() },
      createdAt: now,
      updatedAt: now,
      deadline: null,
    };
  }

  /** pending for the first half of the build duration, running for the second, then succeeded. */
  private scheduleJob(
    ws: SimWorkspace,
    build: SimBuild,
    requestMeta?: { requestId: string; userAgent: string },
  ): void {
    if (this.closed) return;
    const half = Math.floor(this.buildDurationMs / 2);
    const toRunning = setTimeout(() => this.markRunning(build), half);
    const toDone = setTimeout(() => this.completeJob(ws, build, requestMeta), this.buildDurationMs);
    this.jobTimers.set(build.job.id, [toRunning, toDone]);
  }

  private markRunning(build: SimBuild): void {
    if (build.job.status !== 'pending') return;
    const now = new Date().toISOString();
    build.job.status = 'running';
    build.job.startedAt = now;
    build.updatedAt = now;
  }

  private completeJob(
    ws: SimWorkspace,
    build: SimBuild,
    requestMeta?: { requestId: string; userAgent: string },
  ): void {
    const timers = this.jobTimers.get(build.job.id);
    if (timers !== undefined) for (const t of timers) clearTimeout(t);
    this.jobTimers.delete(build.job.id);
    if (!ACTIVE_JOB_STATUSES.has(build.job.status)) return;
    this.markRunning(build);
    const now = new Date();
    const nowIso = now.toISOString();
    build.job.status = 'succeeded';
    build.job.completedAt = nowIso;
    build.updatedAt = nowIso;
    ws.updatedAt = nowIso;
    if (build.transition === 'start' && ws.ttlMs !== undefined) {
      build.deadline = new Date(now.getTime() + ws.ttlMs).toISOString();
    }
    const template = this.templateOf(ws.templateId);
    ws.nextStartAt = this.computeNextStart(ws, template);
    const initiator = this.userOf(build.initiatorId);
    if (build.transition === 'delete' && !ws.deleted) {
      ws.deleted = true;
      const nameKey = `${ws.ownerId}/${ws.name.toLowerCase()}`;
      if (this.liveNames.get(nameKey) === ws.id) this.liveNames.delete(nameKey);
      // Coder does not tell owners about deleting their own workspace.
      if (initiator.id !== ws.ownerId) this.events.workspaceDeleted(ws, initiator);
    }
    const owner = this.userOf(ws.ownerId);
    this.writeAudit({
      caller: initiator,
      ws,
      resourceType: 'workspace_build',
      action: build.transition,
      statusCode: 200,
      requestMeta: requestMeta ?? { requestId: newId(), userAgent: '' },
      resourceId: build.id,
      additionalFields: {
        workspace_name: ws.name,
        build_number: String(build.number),
        build_reason: build.reason,
        workspace_owner: owner.username,
        workspace_id: ws.id,
      },
    });
  }

  /** Finish every in-flight job now. */
  advanceBuilds(): void {
    for (const ws of this.workspaces.values()) {
      const build = ws.builds[ws.builds.length - 1];
      if (build !== undefined && ACTIVE_JOB_STATUSES.has(build.job.status)) this.completeJob(ws, build);
    }
  }

  private computeNextStart(ws: SimWorkspace, template: SimTemplate): string | null {
    if (ws.autostartSchedule === undefined || !template.allowUserAutostart || ws.deleted) return null;
    return nextScheduledTime(ws.autostartSchedule, new Date());
  }

  private writeAudit(args: {
    caller: SimUser;
    ws: SimWorkspace;
    resourceType: SimAuditRow['resourceType'];
    action: SimAuditRow['action'];
    statusCode: number;
    requestMeta: { requestId: string; userAgent: string };
    resourceId?: string;
    additionalFields: Record<string, string>;
  }): void {
    const owner = this.userOf(args.ws.ownerId);
    this.audit.push({
      id: newId(),
      requestId: args.requestMeta.requestId,
      time: new Date().toISOString(),
      userId: args.caller.id,
      orgId: args.ws.orgId,
      resourceType: args.resourceType,
      resourceId: args.resourceId ?? args.ws.id,
      resourceTarget: args.ws.name,
      resourceLink: `/@${owner.username}/${args.ws.name}`,
      action: args.action,
      statusCode: args.statusCode,
      additionalFields: args.additionalFields,
      userAgent: args.requestMeta.userAgent,
    });
  }

  // ---- provisioner keys ----------------------------------------------------------------------

  createProvisionerKey(org: SimOrganization, input: { name?: unknown; tags?: unknown }): SimProvisionerKey {
    const name = typeof input.name === 'string' ? input.name : '';
    if (name === '') {
      throw new CoderApiError(400, 'Name is required', {
        validations: [{ field: 'name', detail: 'Name is required' }],
      });
    }
    if (name.length > 64) {
      throw new CoderApiError(400, 'Name must be at most 64 characters', {
        validations: [{ field: 'name', detail: 'Name must be at most 64 characters' }],
      });
    }
    if (isReservedKeyName(name)) {
      throw new CoderApiError(400, `Name cannot be reserved name '${name}'`, {
        validations: [{ field: 'name', detail: `Name cannot be reserved name '${name}'` }],
      });
    }
    const tags: Record<string, string> = {};
    if (input.tags !== undefined && input.tags !== null) {
      if (typeof input.tags !== 'object' || Array.isArray(input.tags)) {
        throw new CoderApiError(400, 'Request body must be valid JSON.', {
          detail: 'tags must be an object',
        });
      }
      for (const [k, v] of Object.entries(input.tags)) {
        if (typeof v !== 'string') {
          throw new CoderApiError(400, 'Request body must be valid JSON.', {
            detail: `tag ${k} must be a string`,
          });
        }
        tags[k] = v;
      }
    }
    for (const k of this.keys.values()) {
      if (k.orgId === org.id && k.name.toLowerCase() === name.toLowerCase()) {
        throw new CoderApiError(409, `Provisioner key with name '${name}' already exists in organization`);
      }
    }
    const key: SimProvisionerKey = {
      id: newId(),
      orgId: org.id,
      name,
      tags,
      secret: newProvisionerKeySecret(),
      createdAt: new Date().toISOString(),
    };
    this.keys.set(key.id, key);
    return key;
  }

  /** Deleting a key cuts off the daemons connected with it (Coder publishes a pubsub event). */
  deleteProvisionerKey(org: SimOrganization, name: string): void {
    if (isReservedKeyName(name)) throw new CoderApiError(400, 'Cannot delete reserved keys.');
    const key = [...this.keys.values()].find(
      (k) => k.orgId === org.id && k.name.toLowerCase() === name.toLowerCase(),
    );
    if (key === undefined) throw notFound();
    this.keys.delete(key.id);
    for (const [id, d] of this.daemons) if (d.keyId === key.id) this.daemons.delete(id);
  }

  keyBySecret(secret: string): SimProvisionerKey | undefined {
    for (const k of this.keys.values()) if (k.secret === secret) return k;
    return undefined;
  }

  close(): void {
    this.closed = true;
    for (const timers of this.jobTimers.values()) for (const t of timers) clearTimeout(t);
    this.jobTimers.clear();
  }
}

function nameTaken(name: string): CoderApiError {
  return new CoderApiError(409, `Workspace "${name}" already exists.`, {
    validations: [{ field: 'name', detail: 'This value is already in use and should be unique.' }],
  });
}

function optionalUuid(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '' || value === NIL_UUID) return undefined;
  if (typeof value !== 'string' || !isUuid(value)) {
    throw new CoderApiError(400, 'Request body must be valid JSON.', {
      detail: `${field}: invalid UUID ${JSON.stringify(value)}`,
    });
  }
  return value.toLowerCase();
}

function validateSchedule(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new CoderApiError(400, 'Invalid autostart schedule.', {
      validations: [{ field: 'schedule', detail: 'schedule must be a string' }],
    });
  }
  const parsed = parseWeeklySchedule(value);
  if ('error' in parsed) {
    throw new CoderApiError(400, 'Invalid autostart schedule.', {
      validations: [{ field: 'schedule', detail: `parse schedule: ${parsed.error}` }],
    });
  }
  return value;
}

/** 0 or omitted falls back to the template default; otherwise 1 minute to 30 days after truncating to minutes. */
function validateTtl(value: unknown, template: SimTemplate): number | undefined {
  if (value === undefined || value === null || value === 0) {
    return template.defaultTtlMs > 0 ? template.defaultTtlMs : undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new CoderApiError(400, 'Invalid Workspace Time to Shutdown.', {
      validations: [{ field: 'ttl_ms', detail: 'ttl_ms must be an integer' }],
    });
  }
  const truncated = Math.floor(value / MINUTE_MS) * MINUTE_MS;
  if (truncated < MINUTE_MS) {
    throw new CoderApiError(400, 'Invalid Workspace Time to Shutdown.', {
      validations: [{ field: 'ttl_ms', detail: 'time until shutdown must be at least one minute' }],
    });
  }
  if (truncated > 30 * 24 * 60 * MINUTE_MS) {
    throw new CoderApiError(400, 'Invalid Workspace Time to Shutdown.', {
      validations: [{ field: 'ttl_ms', detail: 'time until shutdown must be less than 30 days' }],
    });
  }
  return truncated;
}

function parseParameterValues(value: unknown): BuildParameter[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new CoderApiError(400, 'Request body must be valid JSON.', {
      detail: 'rich_parameter_values must be an array',
    });
  }
  return value.map((entry: unknown, i) => {
    const e = entry as { name?: unknown; value?: unknown } | null;
    if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.value !== 'string') {
      throw new CoderApiError(400, 'Request body must be valid JSON.', {
        detail: `rich_parameter_values[${i}] must be {name: string, value: string}`,
      });
    }
    return { name: e.name, value: e.value };
  });
}

/**
 * wsbuilder's parameter resolution: given values override the previous build's, immutable
 * parameters cannot change after creation, and a required parameter (no default) must have a value.
 * Values for names the template does not declare are ignored, as Coder's classic flow does.
 */
export function resolveParameters(
  declared: SimRichParameter[],
  previous: BuildParameter[] | undefined,
  given: BuildParameter[],
): BuildParameter[] {
  const out: BuildParameter[] = [];
  for (const p of declared) {
    const givenValue = given.find((g) => g.name === p.name)?.value;
    const previousValue = p.ephemeral === true ? undefined : previous?.find((q) => q.name === p.name)?.value;
    if (
      previous !== undefined &&
      p.mutable === false &&
      givenValue !== undefined &&
      previousValue !== undefined &&
      givenValue !== previousValue
    ) {
      throw parameterError(
        p.name,
        `Parameter "${p.name}" is not mutable, so it can't be updated after creating a workspace.`,
      );
    }
    const value = givenValue ?? previousValue ?? p.defaultValue;
    if (value === undefined) throw parameterError(p.name, 'Required parameter not provided.');
    checkParameterValue(p, value);
    out.push({ name: p.name, value });
  }
  return out;
}

function checkParameterValue(p: SimRichParameter, value: string): void {
  const custom = p.validationError;
  if (p.options !== undefined && p.options.length > 0 && p.type !== 'list(string)') {
    if (!p.options.some((o) => o.value === value)) {
      throw parameterError(p.name, custom ?? `Value "${value}" must be one of the options.`);
    }
  }
  if (p.type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || Number.isNaN(n))
      throw parameterError(p.name, `Value "${value}" is not a number.`);
    if (p.validationMin !== undefined && n < p.validationMin) {
      throw parameterError(p.name, custom ?? `Value must be at least ${p.validationMin}.`);
    }
    if (p.validationMax !== undefined && n > p.validationMax) {
      throw parameterError(p.name, custom ?? `Value must be at most ${p.validationMax}.`);
    }
  }
  if (p.type === 'bool' && value !== 'true' && value !== 'false') {
    throw parameterError(p.name, `Value "${value}" is not a bool.`);
  }
  if (p.type === 'list(string)') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
      throw parameterError(p.name, `Value "${value}" is not a JSON-encoded list of strings.`);
    }
  }
  if (
    p.validationRegex !== undefined &&
    p.validationRegex !== '' &&
    !new RegExp(p.validationRegex).test(value)
  ) {
    throw parameterError(p.name, custom ?? `Value "${value}" does not match ${p.validationRegex}.`);
  }
}

function parameterError(name: string, detail: string): CoderApiError {
  return new CoderApiError(400, `Unable to validate parameter "${name}"`, {
    detail,
    validations: [{ field: name, detail }],
  });
}
