/** Workspaces and their builds: creating them, building them, and what a finished build changes. */
import { setTimeout as sleep } from 'node:timers/promises';
import { isoNow, type SimTime } from '../clock.js';
import { CoderApiError, forbidden, notFound, tagDetail, validationFailed } from '../errors.js';
import {
  ACTIVE_JOB_STATUSES,
  type BuildParameter,
  latestBuild,
  newId,
  type SimBuild,
  type SimOrganization,
  type SimTemplate,
  type SimUser,
  type SimWorkspace,
} from '../model.js';
import type { BuildSucceeded, JobRunner } from '../provisioning/runner.js';
import { mutateTags } from '../provisioning/tags.js';
import type { SimulatorSeeder, WorkspaceTransition } from '../types.js';
import type { AuditLog, RequestMeta } from './audit.js';
import type { Directory } from './directory.js';
import { parseParameterValues, resolveParameters } from './parameters.js';
import { canSeeOrg, canSeeWorkspace, isOwner, isTemplateAdmin } from './roles.js';
import type { TemplateCatalog } from './templates.js';
import { optionalUuid, uuidParam } from './uuid.js';
import {
  buildReason,
  computeNextStart,
  nameTaken,
  validateSchedule,
  validateTtl,
  workspaceNameProblem,
} from './workspace-rules.js';

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

const liveNameKey = (ownerId: string, name: string): string => `${ownerId}/${name.toLowerCase()}`;

export class WorkspaceStore {
  readonly workspaces = new Map<string, SimWorkspace>();
  readonly builds = new Map<string, SimBuild>();
  /** Builds by their job's id. */
  readonly buildsByJob = new Map<string, SimBuild>();
  /** Active (owner id + lower name) pairs; mirrors the workspaces_owner_id_lower_idx unique index. */
  private readonly liveNames = new Map<string, string>();
  readonly jobs: JobRunner;
  private readonly createRaceWindowMs: number;
  /** Bumped when a workspace or build is added; with the runner's, it tells listings what changed. */
  private mutations = 0;

  constructor(
    private readonly directory: Directory,
    private readonly catalog: TemplateCatalog,
    private readonly audit: AuditLog,
    private readonly events: StateEvents,
    private readonly time: SimTime,
    options: { createRaceWindowMs: number; jobs: (succeeded: BuildSucceeded) => JobRunner },
  ) {
    this.jobs = options.jobs((ws, build, now, requestMeta) =>
      this.buildSucceeded(ws, build, now, requestMeta),
    );
    this.createRaceWindowMs = options.createRaceWindowMs;
  }

  // ---- lookups -------------------------------------------------------------------------------

  /** A workspace by `{workspace}` id, deleted ones included; the route decides what to do with those. */
  workspaceForCaller(ref: string, caller: SimUser): SimWorkspace {
    const ws = this.workspaces.get(uuidParam(ref));
    if (ws === undefined || !canSeeWorkspace(caller, ws)) throw notFound();
    return ws;
  }

  buildForCaller(ref: string, caller: SimUser): SimBuild {
    const build = this.builds.get(uuidParam(ref));
    if (build === undefined) throw notFound();
    const ws = this.workspaces.get(build.workspaceId);
    if (ws === undefined || !canSeeWorkspace(caller, ws)) throw notFound();
    return build;
  }

  /**
   * A new name for a live workspace, as coderd/workspaces.go `patchWorkspace` does: no name or the
   * same name changes nothing; renames need CODER_ALLOW_WORKSPACE_RENAMES (400 otherwise); a
   * deleted workspace answers 405, a name the owner already uses 409.
   */
  renameWorkspace(ws: SimWorkspace, name: unknown, allowRenames: boolean): void {
    if (name === undefined || name === '' || name === ws.name) return;
    if (!allowRenames) throw new CoderApiError(400, 'Workspace renames are not allowed.');
    if (typeof name !== 'string' || workspaceNameProblem(name) !== undefined) {
      throw validationFailed([{ field: 'name', detail: tagDetail('workspace_name', String(name)) }]);
    }
    if (ws.deleted) throw new CoderApiError(405, `Workspace "${ws.name}" is deleted and cannot be updated.`);
    const nameKey = liveNameKey(ws.ownerId, name);
    const holder = this.liveNames.get(nameKey);
    if (holder !== undefined && holder !== ws.id) throw nameTaken(name);
    this.liveNames.delete(liveNameKey(ws.ownerId, ws.name));
    this.liveNames.set(nameKey, ws.id);
    ws.name = name;
    ws.updatedAt = new Date().toISOString();
    // A new name moves the workspace in the list order and in name searches.
    this.mutations++;
  }

  /** Something a listing depends on changed outside this store (a template renamed). */
  invalidateListings(): void {
    this.mutations++;
  }

  // ---- seeding -------------------------------------------------------------------------------

  seedWorkspace(w: Parameters<SimulatorSeeder['workspace']>[0]): SimWorkspace {
    const owner = this.directory.userByName(w.owner);
    if (owner === undefined) throw new Error(`unknown user ${w.owner}`);
    const template = this.catalog.findTemplate(w.template, w.organization);
    const problem = workspaceNameProblem(w.name);
    if (problem !== undefined) throw new Error(`workspace name ${w.name} ${problem}`);
    const nameKey = liveNameKey(owner.id, w.name);
    if (this.liveNames.has(nameKey)) throw new Error(`workspace ${w.owner}/${w.name} exists`);
    const createdAt = w.createdAt ?? isoNow(this.time);
    const given = Object.entries(w.parameters ?? {}).map(([name, value]) => ({ name, value }));
    const parameters = template.parameters.map((p) => ({
      name: p.name,
      value: w.parameters?.[p.name] ?? p.defaultValue ?? '',
    }));
    for (const g of given) if (!parameters.some((p) => p.name === g.name)) parameters.push(g);
    const ws = newWorkspace(w.name, owner, template, createdAt, {
      automaticUpdates: 'never',
      autostartSchedule: w.autostartSchedule,
      ttlMs: w.ttlMs,
    });
    const transitions: WorkspaceTransition[] = w.status === 'stopped' ? ['start', 'stop'] : ['start'];
    for (const transition of transitions) {
      const build = newBuild(
        ws,
        transition,
        template.activeVersionId,
        owner,
        'initiator',
        parameters,
        createdAt,
        template.provisionerTags,
      );
      build.job.status = 'succeeded';
      build.job.startedAt = createdAt;
      build.job.completedAt = createdAt;
      ws.builds.push(build);
      this.builds.set(build.id, build);
      this.buildsByJob.set(build.job.id, build);
    }
    ws.nextStartAt = w.nextStartAt !== undefined ? w.nextStartAt : computeNextStart(ws, template, this.time);
    this.workspaces.set(ws.id, ws);
    this.liveNames.set(nameKey, ws.id);
    this.mutations++;
    return ws;
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
    requestMeta: RequestMeta,
  ): Promise<SimWorkspace> {
    const checked = this.checkCreate(caller, owner, org, input);
    if (this.createRaceWindowMs > 0) await sleep(this.createRaceWindowMs, undefined, { ref: false });
    else await new Promise<void>((resolve) => setImmediate(resolve));
    return this.insertWorkspace(caller, owner, checked, requestMeta);
  }

  /**
   * The same create with no gap between the check and the insert: for simulated people, whose
   * arrival is an event that must queue its job at the time it happens.
   */
  createWorkspaceNow(
    caller: SimUser,
    owner: SimUser,
    input: CreateWorkspaceInput,
    requestMeta: RequestMeta,
  ): SimWorkspace {
    return this.insertWorkspace(
      caller,
      owner,
      this.checkCreate(caller, owner, undefined, input),
      requestMeta,
    );
  }

  private checkCreate(
    caller: SimUser,
    owner: SimUser,
    org: SimOrganization | undefined,
    input: CreateWorkspaceInput,
  ) {
    const name = typeof input.name === 'string' ? input.name : '';
    if (name === '') throw validationFailed([{ field: 'name', detail: tagDetail('required', '') }]);
    if (workspaceNameProblem(name) !== undefined) {
      throw validationFailed([{ field: 'name', detail: tagDetail('workspace_name', name) }]);
    }
    const template = this.templateForCreate(caller, input);
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
    const autostartSchedule = validateSchedule(input.autostart_schedule);
    const ttlMs = validateTtl(input.ttl_ms, template);
    const automaticUpdates = input.automatic_updates === 'always' ? 'always' : 'never';
    const parameters = resolveParameters(
      template.parameters,
      undefined,
      parseParameterValues(input.rich_parameter_values),
    );

    const nameKey = liveNameKey(owner.id, name);
    if (this.liveNames.has(nameKey)) throw nameTaken(name);
    // Stamped when the request arrived.
    const now = isoNow(this.time);
    return { name, nameKey, now, template, parameters, automaticUpdates, autostartSchedule, ttlMs } as const;
  }

  private insertWorkspace(
    caller: SimUser,
    owner: SimUser,
    checked: ReturnType<WorkspaceStore['checkCreate']>,
    requestMeta: RequestMeta,
  ): SimWorkspace {
    const { name, nameKey, now, template, parameters, automaticUpdates, autostartSchedule, ttlMs } = checked;
    if (this.liveNames.has(nameKey)) {
      throw new CoderApiError(500, 'Internal error creating workspace.', {
        detail:
          'insert workspace: pq: duplicate key value violates unique constraint "workspaces_owner_id_lower_idx"',
      });
    }

    const ws = newWorkspace(name, owner, template, now, { automaticUpdates, autostartSchedule, ttlMs });
    ws.nextStartAt = computeNextStart(ws, template, this.time);
    const build = newBuild(
      ws,
      'start',
      template.activeVersionId,
      caller,
      'initiator',
      parameters,
      now,
      template.provisionerTags,
    );
    ws.builds.push(build);
    this.builds.set(build.id, build);
    this.buildsByJob.set(build.job.id, build);
    this.workspaces.set(ws.id, ws);
    this.liveNames.set(nameKey, ws.id);
    this.mutations++;
    this.jobs.enqueue(ws, build);
    this.audit.write({
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

  /** Exactly one of template_id and template_version_id names the template, which the caller must see. */
  private templateForCreate(caller: SimUser, input: CreateWorkspaceInput): SimTemplate {
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
      template = this.catalog.templates.get(templateId);
      if (template === undefined) {
        throw new CoderApiError(400, `Template "${templateId}" doesn't exist.`, {
          validations: [{ field: 'template_id', detail: 'template not found' }],
        });
      }
    } else if (versionId !== undefined) {
      template = this.catalog.templateByVersion(versionId);
      if (template === undefined) {
        throw new CoderApiError(400, `Template version "${versionId}" doesn't exist.`, {
          validations: [{ field: 'template_version_id', detail: 'template not found' }],
        });
      }
    }
    if (template === undefined) throw new Error('unreachable: template resolved above');
    if (!canSeeOrg(caller, template.orgId)) {
      throw new CoderApiError(400, `Template "${template.id}" doesn't exist.`, {
        validations: [{ field: 'template_id', detail: 'template not found' }],
      });
    }
    return template;
  }

  // ---- builds --------------------------------------------------------------------------------

  /** POST /workspaces/{workspace}/builds. */
  createBuild(
    caller: SimUser,
    ws: SimWorkspace,
    input: CreateBuildInput,
    requestMeta: RequestMeta,
  ): SimBuild {
    const transition = input.transition;
    if (transition !== 'start' && transition !== 'stop' && transition !== 'delete') {
      throw validationFailed([{ field: 'transition', detail: tagDetail('oneof', String(transition ?? '')) }]);
    }
    if (input.orphan === true && transition !== 'delete') {
      throw new CoderApiError(400, 'Orphan is only permitted when deleting a workspace.');
    }
    const template = this.catalog.templateOf(ws.templateId);
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
      if (requested === undefined || this.catalog.templateByVersion(requested)?.id !== template.id) {
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
    const reason = buildReason(input.reason);
    const given = transition === 'start' ? parseParameterValues(input.rich_parameter_values) : [];
    const parameters = resolveParameters(template.parameters, previous.parameters, given);
    const now = isoNow(this.time);
    const build = newBuild(
      ws,
      transition,
      versionId,
      caller,
      reason,
      parameters,
      now,
      template.provisionerTags,
    );
    ws.builds.push(build);
    ws.updatedAt = now;
    this.builds.set(build.id, build);
    this.buildsByJob.set(build.job.id, build);
    this.mutations++;
    this.jobs.enqueue(ws, build, requestMeta);
    // coderd/workspacebuilds.go `postWorkspaceBuilds`: only a build that names a template version
    // other than the previous build's is a manual update; a parameter change alone is not.
    if (
      input.template_version_id !== undefined &&
      input.template_version_id !== '' &&
      versionId !== previous.templateVersionId
    ) {
      this.events.workspaceManuallyUpdated(ws, caller);
    }
    return build;
  }

  /** What a succeeded build does to its workspace: deadline, next autostart, deletion, audit row. */
  private buildSucceeded(ws: SimWorkspace, build: SimBuild, now: Date, requestMeta?: RequestMeta): void {
    ws.updatedAt = now.toISOString();
    if (build.transition === 'start' && ws.ttlMs !== undefined) {
      build.deadline = new Date(now.getTime() + ws.ttlMs).toISOString();
    }
    const template = this.catalog.templateOf(ws.templateId);
    ws.nextStartAt = computeNextStart(ws, template, this.time);
    const initiator = this.directory.userOf(build.initiatorId);
    this.mutations++;
    if (build.transition === 'delete' && !ws.deleted) {
      ws.deleted = true;
      const nameKey = liveNameKey(ws.ownerId, ws.name);
      if (this.liveNames.get(nameKey) === ws.id) this.liveNames.delete(nameKey);
      // Coder does not tell owners about deleting their own workspace.
      if (initiator.id !== ws.ownerId) this.events.workspaceDeleted(ws, initiator);
    }
    const owner = this.directory.userOf(ws.ownerId);
    this.audit.write({
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

  /** Changes whenever a listing of workspaces could come out differently. */
  listVersion(): { mutations: number; jobs: number } {
    return { mutations: this.mutations, jobs: this.jobs.version };
  }

  /** Finish every in-flight job now. */
  advanceBuilds(): void {
    for (const ws of this.workspaces.values()) {
      const build = ws.builds[ws.builds.length - 1];
      if (build !== undefined && ACTIVE_JOB_STATUSES.has(build.job.status)) this.jobs.complete(ws, build);
    }
  }

  close(): void {
    this.jobs.close();
  }
}

function newWorkspace(
  name: string,
  owner: SimUser,
  template: SimTemplate,
  at: string,
  settings: Pick<SimWorkspace, 'automaticUpdates' | 'autostartSchedule' | 'ttlMs'>,
): SimWorkspace {
  const ws: SimWorkspace = {
    id: newId(),
    name,
    ownerId: owner.id,
    orgId: template.orgId,
    templateId: template.id,
    createdAt: at,
    updatedAt: at,
    lastUsedAt: at,
    nextStartAt: null,
    automaticUpdates: settings.automaticUpdates,
    deleted: false,
    builds: [],
  };
  if (settings.autostartSchedule !== undefined) ws.autostartSchedule = settings.autostartSchedule;
  if (settings.ttlMs !== undefined) ws.ttlMs = settings.ttlMs;
  return ws;
}

function newBuild(
  ws: SimWorkspace,
  transition: WorkspaceTransition,
  versionId: string,
  initiator: SimUser,
  reason: string,
  parameters: BuildParameter[],
  now: string,
  tags: Record<string, string>,
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
    job: {
      id: newId(),
      status: 'pending',
      createdAt: now,
      fileId: newId(),
      orgId: ws.orgId,
      initiatorId: initiator.id,
      // wsbuilder `getProvisionerTags`: the template version job's tags, mutated for the owner.
      // Workspace tags (`coder_workspace_tags`) are not simulated.
      tags: mutateTags(ws.ownerId, tags),
    },
    createdAt: now,
    updatedAt: now,
    deadline: null,
  };
}
