/**
 * The simulated Coder deployment: its records and the operations the API performs on them.
 * One façade over the per-entity stores in state/; the rules each entity follows live beside them
 * (state/*-rules.ts, state/parameters.ts, state/roles.ts).
 */
import type {
  SimAuditRow,
  SimBuild,
  SimOrganization,
  SimProvisionerDaemon,
  SimProvisionerKey,
  SimTemplate,
  SimUser,
  SimWorkspace,
} from './model.js';
import { AuditLog } from './state/audit.js';
import { Directory } from './state/directory.js';
import { ProvisionerRegistry } from './state/provisioners.js';
import { canSeeOrg, canSeeWorkspace } from './state/roles.js';
import { TemplateCatalog } from './state/templates.js';
import { type StateEvents, WorkspaceStore } from './state/workspaces.js';
import type { SimulatorSeeder } from './types.js';

export type { RequestMeta } from './state/audit.js';
export { resolveParameters } from './state/parameters.js';
export { isOwner, isTemplateAdmin } from './state/roles.js';
export { isUuid } from './state/uuid.js';
export { workspaceNameProblem } from './state/workspace-rules.js';
export type { CreateBuildInput, CreateWorkspaceInput, StateEvents } from './state/workspaces.js';

export class SimState {
  private readonly directory = new Directory();
  private readonly catalog = new TemplateCatalog(this.directory);
  private readonly auditLog = new AuditLog(this.directory);
  private readonly provisioners = new ProvisionerRegistry(this.directory);
  private readonly workspaceStore: WorkspaceStore;

  readonly users: ReadonlyMap<string, SimUser> = this.directory.users;
  readonly orgs: ReadonlyMap<string, SimOrganization> = this.directory.orgs;
  readonly templates: ReadonlyMap<string, SimTemplate> = this.catalog.templates;
  readonly keys: ReadonlyMap<string, SimProvisionerKey> = this.provisioners.keys;
  readonly daemons: ReadonlyMap<string, SimProvisionerDaemon> = this.provisioners.daemons;
  readonly audit: readonly SimAuditRow[] = this.auditLog.rows;
  readonly workspaces: ReadonlyMap<string, SimWorkspace>;
  readonly builds: ReadonlyMap<string, SimBuild>;

  constructor(buildDurationMs: number, createRaceWindowMs: number, events: StateEvents) {
    this.workspaceStore = new WorkspaceStore(this.directory, this.catalog, this.auditLog, events, {
      buildDurationMs,
      createRaceWindowMs,
    });
    this.workspaces = this.workspaceStore.workspaces;
    this.builds = this.workspaceStore.builds;
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

  close(): void {
    this.workspaceStore.close();
  }
}
