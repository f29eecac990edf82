/**
 * The simulated Coder deployment: its records and the operations the API performs on them.
 * One façade over the per-entity stores in state/; the rules each entity follows live beside them
 * (state/*-rules.ts, state/parameters.ts, state/roles.ts).
 */
import type {
  SimAuditRow,
  SimBuild,
  SimJob,
  SimOrganization,
  SimProvisionerDaemon,
  SimProvisionerKey,
  SimTemplate,
  SimUser,
  SimWorkspace,
} from './model.js';
import { jobDurationSampler } from './provisioning/durations.js';
import { ProvisionerQueue } from './provisioning/queue.js';
import type { JobRunner, QueuePosition } from './provisioning/runner.js';
import type { EventScheduler } from './provisioning/scheduler.js';
import { TimerJobs } from './provisioning/timer-jobs.js';
import { AuditLog } from './state/audit.js';
import { Directory } from './state/directory.js';
import { ProvisionerRegistry } from './state/provisioners.js';
import { canSeeOrg, canSeeWorkspace } from './state/roles.js';
import { TemplateCatalog } from './state/templates.js';
import { type StateEvents, WorkspaceStore } from './state/workspaces.js';
import type { ProvisionerQueueOptions, SimulatorSeeder } from './types.js';

export type { RequestMeta } from './state/audit.js';
export { resolveParameters } from './state/parameters.js';
export { isOwner, isTemplateAdmin } from './state/roles.js';
export { isUuid } from './state/uuid.js';
export { workspaceNameProblem } from './state/workspace-rules.js';
export type { CreateBuildInput, CreateWorkspaceInput, StateEvents } from './state/workspaces.js';

export interface SimStateOptions {
  readonly events: StateEvents;
  /** The time source of every record, and the event loop of the provisioner queue. */
  readonly scheduler: EventScheduler;
  /** Real ms per build when jobs run on timers. */
  readonly buildDurationMs: number;
  readonly createRaceWindowMs: number;
  /** Run jobs through the provisioner queue instead of timers. */
  readonly provisioners?: ProvisionerQueueOptions;
}

export class SimState {
  private readonly directory: Directory;
  private readonly catalog: TemplateCatalog;
  private readonly auditLog: AuditLog;
  private readonly provisioners: ProvisionerRegistry;
  private readonly workspaceStore: WorkspaceStore;
  private readonly jobs: JobRunner;
  /** The provisioner queue, when the simulator runs one. */
  readonly queue: ProvisionerQueue | undefined;
  readonly scheduler: EventScheduler;

  readonly users: ReadonlyMap<string, SimUser>;
  readonly orgs: ReadonlyMap<string, SimOrganization>;
  readonly templates: ReadonlyMap<string, SimTemplate>;
  readonly keys: ReadonlyMap<string, SimProvisionerKey>;
  readonly daemons: ReadonlyMap<string, SimProvisionerDaemon>;
  readonly audit: readonly SimAuditRow[];
  readonly workspaces: ReadonlyMap<string, SimWorkspace>;
  readonly builds: ReadonlyMap<string, SimBuild>;

  constructor(options: SimStateOptions) {
    const time = options.scheduler;
    this.scheduler = options.scheduler;
    this.directory = new Directory(time);
    this.catalog = new TemplateCatalog(this.directory, time);
    this.auditLog = new AuditLog(this.directory, time);
    this.provisioners = new ProvisionerRegistry(this.directory, time);
    this.users = this.directory.users;
    this.orgs = this.directory.orgs;
    this.templates = this.catalog.templates;
    this.keys = this.provisioners.keys;
    this.daemons = this.provisioners.daemons;
    this.audit = this.auditLog.rows;
    let queue: ProvisionerQueue | undefined;
    const queueOptions = options.provisioners;
    this.workspaceStore = new WorkspaceStore(
      this.directory,
      this.catalog,
      this.auditLog,
      options.events,
      time,
      {
        createRaceWindowMs: options.createRaceWindowMs,
        jobs: (succeeded) => {
          if (queueOptions === undefined) return new TimerJobs(options.buildDurationMs, time, succeeded);
          queue = new ProvisionerQueue(
            options.scheduler,
            this.provisioners,
            jobDurationSampler(
              queueOptions.jobDuration ?? { kind: 'fixed', ms: 60_000 },
              queueOptions.seed ?? 1,
            ),
            succeeded,
          );
          return queue;
        },
      },
    );
    this.jobs = this.workspaceStore.jobs;
    this.queue = queue;
    this.workspaces = this.workspaceStore.workspaces;
    this.builds = this.workspaceStore.builds;
  }

  /** Processes whatever the clock says has happened (job completions, arrivals). */
  catchUp(): void {
    this.scheduler.catchUp();
  }

  /** Changes whenever a workspace listing could come out differently (see routes/workspaces.ts). */
  listVersion(): { mutations: number; jobs: number } {
    return this.workspaceStore.listVersion();
  }

  /** A job by id, with its build and workspace. */
  jobById(jobId: string): { ws: SimWorkspace; build: SimBuild } | undefined {
    const build = this.workspaceStore.buildsByJob.get(jobId);
    const ws = build === undefined ? undefined : this.workspaceStore.workspaces.get(build.workspaceId);
    return build === undefined || ws === undefined ? undefined : { ws, build };
  }

  /** `job.queue_position` / `queue_size` on a build. */
  buildQueuePosition(job: SimJob): QueuePosition {
    return this.jobs.buildQueuePosition(job);
  }

  // ---- users and organizations ---------------------------------------------------------------

  userByToken(token: string): SimUser | undefined {
    return this.directory.userByToken(token);
  }

  defaultOrg(): SimOrganization {
    return this.directory.defaultOrg();
  }

  resolveUser(ref: string, caller: SimUser): SimUser {
    return this.directory.resolveUser(ref, caller);
  }

  resolveOrg(ref: string, caller: SimUser | undefined): SimOrganization {
    return this.directory.resolveOrg(ref, caller);
  }

  orgOf(id: string): SimOrganization {
    return this.directory.orgOf(id);
  }

  userOf(id: string): SimUser {
    return this.directory.userOf(id);
  }

  canSeeOrg(caller: SimUser, orgId: string): boolean {
    return canSeeOrg(caller, orgId);
  }

  addOrganization(o: Parameters<Directory['addOrganization']>[0]): SimOrganization {
    return this.directory.addOrganization(o);
  }

  addUser(u: Parameters<Directory['addUser']>[0]): SimUser {
    return this.directory.addUser(u);
  }

  // ---- templates -----------------------------------------------------------------------------

  templateOf(id: string): SimTemplate {
    return this.catalog.templateOf(id);
  }

  templateByVersion(versionId: string): SimTemplate | undefined {
    return this.catalog.templateByVersion(versionId);
  }

  addTemplate(t: Parameters<SimulatorSeeder['template']>[0], createdBy: SimUser): SimTemplate {
    return this.catalog.addTemplate(t, createdBy);
  }

  findTemplate(name: string, orgRef: string | undefined): SimTemplate {
    return this.catalog.findTemplate(name, orgRef);
  }

  renameTemplate(template: SimTemplate, name: unknown): void {
    this.catalog.renameTemplate(template, name);
    // `template:` searches now match the new name.
    this.workspaceStore.invalidateListings();
  }

  // ---- workspaces and builds -----------------------------------------------------------------

  canSeeWorkspace(caller: SimUser, ws: SimWorkspace): boolean {
    return canSeeWorkspace(caller, ws);
  }

  workspaceForCaller(ref: string, caller: SimUser): SimWorkspace {
    return this.workspaceStore.workspaceForCaller(ref, caller);
  }

  buildForCaller(ref: string, caller: SimUser): SimBuild {
    return this.workspaceStore.buildForCaller(ref, caller);
  }

  seedWorkspace(w: Parameters<SimulatorSeeder['workspace']>[0]): SimWorkspace {
    return this.workspaceStore.seedWorkspace(w);
  }

  renameWorkspace(ws: SimWorkspace, name: unknown, allowRenames: boolean): void {
    this.workspaceStore.renameWorkspace(ws, name, allowRenames);
  }

  createWorkspace(...args: Parameters<WorkspaceStore['createWorkspace']>): Promise<SimWorkspace> {
    return this.workspaceStore.createWorkspace(...args);
  }

  createWorkspaceNow(...args: Parameters<WorkspaceStore['createWorkspaceNow']>): SimWorkspace {
    return this.workspaceStore.createWorkspaceNow(...args);
  }

  createBuild(...args: Parameters<WorkspaceStore['createBuild']>): SimBuild {
    return this.workspaceStore.createBuild(...args);
  }

  /** Finish every in-flight job now. */
  advanceBuilds(): void {
    this.workspaceStore.advanceBuilds();
  }

  // ---- provisioner keys and daemons ----------------------------------------------------------

  keyBySecret(secret: string): SimProvisionerKey | undefined {
    return this.provisioners.keyBySecret(secret);
  }

  addProvisionerKey(orgRef: string | undefined, name: unknown, tags: unknown): SimProvisionerKey {
    return this.provisioners.addProvisionerKey(orgRef, name, tags);
  }

  createProvisionerKey(org: SimOrganization, input: { name?: unknown; tags?: unknown }): SimProvisionerKey {
    return this.provisioners.createProvisionerKey(org, input);
  }

  deleteProvisionerKey(org: SimOrganization, name: string): void {
    this.provisioners.deleteProvisionerKey(org, name);
  }

  addProvisionerDaemon(d: Parameters<SimulatorSeeder['provisionerDaemon']>[0]): SimProvisionerDaemon {
    return this.provisioners.addProvisionerDaemon(d);
  }

  removeProvisionerDaemon(name: string): void {
    this.provisioners.removeProvisionerDaemon(name);
  }

  /** Running pool daemons heartbeat: their `last_seen_at` is now. */
  heartbeat(): void {
    this.provisioners.heartbeat();
  }

  /** coderd's built-in provisioner daemons in the default organization (timer mode). */
  startBuiltInProvisioners(count: number): void {
    this.provisioners.startBuiltIn(this.directory.defaultOrg().id, count);
  }

  close(): void {
    this.workspaceStore.close();
    this.scheduler.close();
  }
}
