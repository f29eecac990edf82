/**
 * Typed client for the Coder REST API (swagger: vendor/coder/swagger.json), the only way the
 * controller talks to Coder. It paces itself per route, retries what is safe to retry, and turns
 * every failure into a typed CoderError whose message tells an operator what to do.
 *
 * The class is the public face: each method is one operation of a resource module
 * (operations-*.ts), sent through CoderTransport (transport.ts) to a route of routes.ts.
 */

import type { CoderCapabilityName, CoderRelease } from './capabilities.js';
import { LearnedCapabilities, type LearnedRefusal, refusesQueryParameter } from './learned-capabilities.js';
import type { ListAuditLogsOptions } from './operations-deployment.js';
import * as deployment from './operations-deployment.js';
import type { ListProvisionerDaemonsOptions, ListProvisionerJobsOptions } from './operations-provisioners.js';
import * as provisioners from './operations-provisioners.js';
import * as templates from './operations-templates.js';
import type {
  BuildOptions,
  GetWorkspaceOptions,
  ListWorkspacesOptions,
  WorkspaceList,
} from './operations-workspaces.js';
import * as workspaces from './operations-workspaces.js';
import { CoderReleaseCache, FirstContactTransport } from './release.js';
import { CODER_ROUTES } from './routes.js';
import type { CoderClientOptions, CoderClientStats, MutationOptions, ReadOptions } from './transport.js';
import type {
  AuditLogResponse,
  BuildInfo,
  CreateProvisionerKeyRequest,
  CreateProvisionerKeyResponse,
  CreateWorkspaceBuildRequest,
  CreateWorkspaceRequest,
  Organization,
  ProvisionerDaemon,
  ProvisionerJob,
  ProvisionerKey,
  ProvisionerKeyDaemons,
  Template,
  TemplateVersion,
  TemplateVersionParameter,
  User,
  Workspace,
  WorkspaceBuild,
  WorkspaceBuildParameter,
} from './types.js';

export { CoderDeadlineError, type DeadlineStep } from './deadline.js';
export type { LearnedRefusal } from './learned-capabilities.js';
export type { ListAuditLogsOptions } from './operations-deployment.js';
export type { ListProvisionerDaemonsOptions, ListProvisionerJobsOptions } from './operations-provisioners.js';
export type {
  BuildOptions,
  GetWorkspaceOptions,
  ListWorkspacesOptions,
  WorkspaceList,
} from './operations-workspaces.js';
export {
  CODER_ROUTES,
  type CoderRoute,
  expandPath,
  PROVISIONER_KEY_PATH_PLACEHOLDER,
} from './routes.js';
export {
  type CoderClientOptions,
  type CoderClientStats,
  type CoderRequestEvent,
  emptyCoderClientStats,
  type HttpMethod,
  type MutationOptions,
  type ReadOptions,
  type SharedRequestBudget,
} from './transport.js';

/** What the client does with the Coder release it talks to. */
export interface CoderReleaseOptions {
  /**
   * Called once, when the client learns the release. With it set, the client reads
   * `/api/v2/buildinfo` before its first other request (first contact), so an unsupported release
   * is reported once; without it, buildinfo is read only when an operation depends on the release.
   */
  onRelease?: (release: CoderRelease) => void;
  /**
   * Called once per capability when Coder refuses one the release table granted (the table's
   * release is a guess there): the client has retried without it and stops using it.
   */
  onCapabilityLearned?: (refusal: LearnedRefusal) => void;
}

export class CoderClient {
  private readonly transport: FirstContactTransport;
  private readonly releaseCache: CoderReleaseCache;
  /** What Coder refused although the release table granted it, for the client's (the container's) life. */
  private readonly learned: LearnedCapabilities;

  constructor(options: CoderClientOptions & CoderReleaseOptions) {
    const { onRelease, onCapabilityLearned, ...transportOptions } = options;
    this.learned = new LearnedCapabilities(onCapabilityLearned);
    this.releaseCache = new CoderReleaseCache(
      async (deadline) => (await deployment.buildInfo(this.transport, { deadline })).version,
      onRelease,
    );
    this.transport = new FirstContactTransport(
      transportOptions,
      onRelease ? (deadline) => this.releaseCache.get(deadline) : undefined,
    );
  }

  /** The release and what it supports, from buildinfo read once per client (a failed read is retried next time). */
  release(options: ReadOptions = {}): Promise<CoderRelease> {
    return this.releaseCache.get(options.deadline);
  }

  /** Whether to use a capability: the release has it (buildinfo, read once) and Coder has not refused it. */
  async capability(name: CoderCapabilityName, options: ReadOptions = {}): Promise<boolean> {
    if (this.learned.refused(name)) return false;
    return (await this.release(options)).capabilities[name];
  }

  /** The capabilities Coder refused although the release table granted them, oldest first. */
  learnedRefusals(): LearnedRefusal[] {
    return this.learned.all();
  }

  /** Counts since construction; a copy, safe to keep. */
  stats(): CoderClientStats {
    return this.transport.stats();
  }

  buildInfo(options: ReadOptions = {}): Promise<BuildInfo> {
    return deployment.buildInfo(this.transport, options);
  }

  /** The user the session token belongs to. */
  me(options: ReadOptions = {}): Promise<User> {
    return deployment.me(this.transport, options);
  }

  organizations(options: ReadOptions = {}): Promise<Organization[]> {
    return deployment.organizations(this.transport, options);
  }

  /** By UUID, name, or the literal `default`. */
  organization(idOrName: string, options: ReadOptions = {}): Promise<Organization> {
    return deployment.organization(this.transport, idOrName, options);
  }

  /**
   * Every workspace matching `q`, across all pages, re-read while the list moves underneath; a
   * result with `complete: false` may miss a workspace (see WorkspaceList).
   */
  listWorkspaces(options: ListWorkspacesOptions = {}): Promise<WorkspaceList> {
    return workspaces.listWorkspaces(this.transport, options);
  }

  /** Case-insensitive on the name; undefined when there is no such workspace. */
  getWorkspaceByOwnerAndName(
    owner: string,
    name: string,
    options: GetWorkspaceOptions = {},
  ): Promise<Workspace | undefined> {
    return workspaces.getWorkspaceByOwnerAndName(this.transport, owner, name, options);
  }

  /** Throws kind `gone` for a deleted workspace unless `includeDeleted`. */
  getWorkspace(id: string, options: GetWorkspaceOptions = {}): Promise<Workspace> {
    return workspaces.getWorkspace(this.transport, id, options);
  }

  /** The full resolved parameter set of one build; every value is a string. */
  getBuildParameters(buildId: string, options: ReadOptions = {}): Promise<WorkspaceBuildParameter[]> {
    return workspaces.getBuildParameters(this.transport, buildId, options);
  }

  /**
   * Creates a workspace owned by `user` from the request's template, with
   * `POST /users/{user}/workspaces` (coder/coder#14048, in every supported release; the
   * organization route is deprecated). `organization` only names the workspace in errors. Not retried on an ambiguous failure
   * unless marked idempotent: a 5xx may have created it. A taken name (409, or the 500 a create
   * race produces) throws kind `already_exists`.
   */
  createWorkspace(
    organization: string,
    user: string,
    request: CreateWorkspaceRequest,
    options: MutationOptions = {},
  ): Promise<Workspace> {
    return workspaces.createWorkspace(this.transport, organization, user, request, options);
  }

  /** Queues a build. A build already in progress throws kind `build_active`. */
  createBuild(
    workspaceId: string,
    request: CreateWorkspaceBuildRequest,
    options: MutationOptions = {},
  ): Promise<WorkspaceBuild> {
    return workspaces.createBuild(this.transport, workspaceId, request, options);
  }

  startWorkspace(workspaceId: string, options: BuildOptions = {}): Promise<WorkspaceBuild> {
    return workspaces.transition(this.transport, workspaceId, 'start', options);
  }

  stopWorkspace(workspaceId: string, options: BuildOptions = {}): Promise<WorkspaceBuild> {
    return workspaces.transition(this.transport, workspaceId, 'stop', options);
  }

  deleteWorkspace(workspaceId: string, options: BuildOptions = {}): Promise<WorkspaceBuild> {
    return workspaces.transition(this.transport, workspaceId, 'delete', options);
  }

  getTemplateByName(organization: string, name: string, options: ReadOptions = {}): Promise<Template> {
    return templates.getTemplateByName(this.transport, organization, name, options);
  }

  /** One organization's templates, or all visible ones when `organization` is omitted. */
  listTemplates(organization?: string, options: ReadOptions = {}): Promise<Template[]> {
    return templates.listTemplates(this.transport, organization, options);
  }

  getTemplate(id: string, options: ReadOptions = {}): Promise<Template> {
    return templates.getTemplate(this.transport, id, options);
  }

  /** A template version with its import job (the `tags` its builds inherit). */
  getTemplateVersion(versionId: string, options: ReadOptions = {}): Promise<TemplateVersion> {
    return templates.getTemplateVersion(this.transport, versionId, options);
  }

  getTemplateVersionRichParameters(
    versionId: string,
    options: ReadOptions = {},
  ): Promise<TemplateVersionParameter[]> {
    return templates.getTemplateVersionRichParameters(this.transport, versionId, options);
  }

  /** Keys of an organization, without secrets and without the reserved built-in keys. */
  listProvisionerKeys(organization: string, options: ReadOptions = {}): Promise<ProvisionerKey[]> {
    return provisioners.listProvisionerKeys(this.transport, organization, options);
  }

  /** Returns the plaintext key: the only time Coder shows it. A taken name throws `already_exists`. */
  createProvisionerKey(
    organization: string,
    request: CreateProvisionerKeyRequest,
    options: MutationOptions = {},
  ): Promise<CreateProvisionerKeyResponse> {
    return provisioners.createProvisionerKey(this.transport, organization, request, options);
  }

  /**
   * Deletes a key by name (Coder cuts off daemons using it). Safe to retry; a retry after an
   * ambiguous failure may find it gone and throw `not_found`, which means it is deleted.
   */
  deleteProvisionerKey(organization: string, name: string, options: ReadOptions = {}): Promise<void> {
    return provisioners.deleteProvisionerKey(this.transport, organization, name, options);
  }

  /** Each key (plus the `user-auth` pseudo-key) with the daemons seen on it in the last 3 minutes. */
  listProvisionerKeyDaemons(
    organization: string,
    options: ReadOptions = {},
  ): Promise<ProvisionerKeyDaemons[]> {
    return provisioners.listProvisionerKeyDaemons(this.transport, organization, options);
  }

  /**
   * What Coder knows about a plaintext key. The key goes only in the `Coder-Provisioner-Daemon-Key`
   * header (the session token is not sent); an unknown key throws `unauthorized`.
   */
  getProvisionerKeyDetails(key: string, options: ReadOptions = {}): Promise<ProvisionerKey> {
    return provisioners.getProvisionerKeyDetails(this.transport, key, options);
  }

  /**
   * Daemons of an organization; only online ones unless `offline`. Releases before
   * coder/coder#19378 reject `offline` and list offline daemons anyway, so it is only sent to
   * releases that have it (which costs one buildinfo read per client). Which release first has it
   * is a guess: a 400 "Invalid query parameters." for `offline` is retried once without it, and
   * this client never sends it again.
   */
  async listProvisionerDaemons(
    organization: string,
    options: ListProvisionerDaemonsOptions = {},
  ): Promise<ProvisionerDaemon[]> {
    const capability = 'provisionerDaemonsOfflineFilter';
    const filter = options.offline ? await this.capability(capability, options) : false;
    try {
      return await provisioners.listProvisionerDaemons(this.transport, organization, options, filter);
    } catch (error) {
      if (!filter || !refusesQueryParameter(error, 'offline')) throw error;
      this.learned.refuse({
        capability,
        reported: (await this.release(options)).reported,
        route: CODER_ROUTES.provisionerDaemons,
        answer: '400 "Invalid query parameters." for offline',
      });
      return provisioners.listProvisionerDaemons(this.transport, organization, options, false);
    }
  }

  /**
   * An organization's provisioner jobs, newest first, at most `limit` (Coder's default 50). Needs
   * provisioner-job read permission (owner, organization admin, template admin); otherwise
   * `not_found`. `initiator` needs coder/coder#20137 (`capabilities.provisionerJobsInitiatorFilter`).
   */
  async listProvisionerJobs(
    organization: string,
    options: ListProvisionerJobsOptions = {},
  ): Promise<ProvisionerJob[]> {
    if (options.initiator === undefined)
      return provisioners.listProvisionerJobs(this.transport, organization, options);
    const capability = 'provisionerJobsInitiatorFilter';
    try {
      return await provisioners.listProvisionerJobs(this.transport, organization, options);
    } catch (error) {
      if (!refusesQueryParameter(error, 'initiator')) throw error;
      this.learned.refuse({
        capability,
        reported: (await this.release(options)).reported,
        route: CODER_ROUTES.provisionerJobs,
        answer: '400 "Invalid query parameters." for initiator',
      });
      const { initiator: _refused, ...rest } = options;
      return provisioners.listProvisionerJobs(this.transport, organization, rest);
    }
  }

  /** One page of audit logs, newest first. `count` stops at `count_cap` (2000). */
  listAuditLogs(options: ListAuditLogsOptions = {}): Promise<AuditLogResponse> {
    return deployment.listAuditLogs(this.transport, options);
  }
}
