/**
 * Typed client for the Coder REST API (swagger: shared/coder-api/swagger.json), the only way the
 * controller talks to Coder. It paces itself per route, retries what is safe to retry, and turns
 * every failure into a typed CoderError whose message tells an operator what to do.
 */
import type { z } from 'zod';
import { redactThenTruncate } from '../../core/contracts/redact.js';
import {
  CoderApiError,
  CoderNetworkError,
  CoderResponseShapeError,
  CoderTimeoutError,
  type CoderValidation,
  classifyStatus,
  describeApiError,
  type ErrorSubject,
  redact,
} from './errors.js';
import { RouteRateLimiter } from './rate-limiter.js';
import {
  type AttemptFailure,
  DEFAULT_RETRY,
  decideRetry,
  parseRetryAfterMs,
  type RetryOptions,
} from './retry.js';
import {
  type AuditLogResponse,
  auditLogResponseSchema,
  type BuildInfo,
  buildInfoSchema,
  type CreateProvisionerKeyRequest,
  type CreateProvisionerKeyResponse,
  type CreateWorkspaceBuildRequest,
  type CreateWorkspaceRequest,
  coderErrorBodySchema,
  createProvisionerKeyResponseSchema,
  type Organization,
  organizationSchema,
  type ProvisionerDaemon,
  type ProvisionerKey,
  type ProvisionerKeyDaemons,
  provisionerDaemonSchema,
  provisionerKeyDaemonsSchema,
  provisionerKeySchema,
  type Template,
  type TemplateVersionParameter,
  templateSchema,
  templateVersionParameterSchema,
  type User,
  userSchema,
  type Workspace,
  type WorkspaceBuild,
  type WorkspaceBuildParameter,
  workspaceBuildParameterSchema,
  workspaceBuildSchema,
  workspaceSchema,
  workspacesResponseSchema,
} from './types.js';

/** Swagger path templates of every operation the client uses. */
export const CODER_ROUTES = {
  buildInfo: '/api/v2/buildinfo',
  user: '/api/v2/users/{user}',
  organizations: '/api/v2/organizations',
  organization: '/api/v2/organizations/{organization}',
  workspaces: '/api/v2/workspaces',
  workspace: '/api/v2/workspaces/{workspace}',
  workspaceByOwnerAndName: '/api/v2/users/{user}/workspace/{workspacename}',
  memberWorkspaces: '/api/v2/organizations/{organization}/members/{user}/workspaces',
  workspaceBuilds: '/api/v2/workspaces/{workspace}/builds',
  buildParameters: '/api/v2/workspacebuilds/{workspacebuild}/parameters',
  templates: '/api/v2/templates',
  template: '/api/v2/templates/{template}',
  organizationTemplates: '/api/v2/organizations/{organization}/templates',
  organizationTemplate: '/api/v2/organizations/{organization}/templates/{templatename}',
  richParameters: '/api/v2/templateversions/{templateversion}/rich-parameters',
  provisionerKeys: '/api/v2/organizations/{organization}/provisionerkeys',
  provisionerKey: '/api/v2/organizations/{organization}/provisionerkeys/{provisionerkey}',
  provisionerKeyDaemons: '/api/v2/organizations/{organization}/provisionerkeys/daemons',
  provisionerKeyDetails: '/api/v2/provisionerkeys/{provisionerkey}',
  provisionerDaemons: '/api/v2/organizations/{organization}/provisionerdaemons',
  audit: '/api/v2/audit',
} as const;

export type CoderRoute = (typeof CODER_ROUTES)[keyof typeof CODER_ROUTES];

/**
 * Coder ignores the path segment of the key-details route and authenticates the
 * `Coder-Provisioner-Daemon-Key` header; a fixed placeholder keeps the secret out of URLs and
 * access logs (the official Go client puts the key in the path).
 */
export const PROVISIONER_KEY_PATH_PLACEHOLDER = 'current';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface CoderRequestEvent {
  method: string;
  /** The swagger path template, never the concrete URL. */
  route: string;
  status: number | 'network-error' | 'timeout';
  durationMs: number;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface CoderClientStats {
  /** HTTP attempts made, including retries. */
  requests: number;
  retries: number;
  /** 429 answers received (including ones later retried successfully). */
  rateLimited: number;
  timeouts: number;
  networkErrors: number;
  /** Sum of every attempt's duration, for the average latency per run. */
  durationMsTotal: number;
  /** Attempts per `"<METHOD> <route template>"`. */
  byRoute: Record<string, number>;
}

/** Counters of a client that has sent nothing yet. */
export const emptyCoderClientStats = (): CoderClientStats => ({
  requests: 0,
  retries: 0,
  rateLimited: 0,
  timeouts: 0,
  networkErrors: 0,
  durationMsTotal: 0,
  byRoute: {},
});

export interface CoderClientOptions {
  /** Coder's access URL, e.g. `https://coder.example.com`. */
  baseUrl: string;
  /** The session token, or a provider (e.g. a cached Secrets Manager read) called once per request. */
  token: string | (() => Promise<string>);
  /** Per-attempt timeout covering the whole answer, body included. @default 10000 */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /**
   * Client-side budget per route template per window; `false` disables pacing.
   * @default 480 (a little below Coder's 512 per user per path per minute)
   */
  rateLimitPerMinute?: number | false;
  /** The limiter's window; only tests shorten it. @default 60000 */
  rateLimitWindowMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Called after every HTTP attempt, for metrics. Exceptions it throws are ignored. */
  onRequest?: (event: CoderRequestEvent) => void;
  /** Sent as User-Agent. @default 'coder-fleet-controller' */
  userAgent?: string;
}

/** Options every mutating call accepts. */
export interface MutationOptions {
  /**
   * The caller knows repeating this request is harmless (it will reconcile a duplicate effect),
   * so network errors, timeouts and 5xx may be retried like a GET.
   */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface ReadOptions {
  signal?: AbortSignal;
}

export interface ListWorkspacesOptions extends ReadOptions {
  /** Coder workspace search query, e.g. `owner:alice template:dev param:family=web`. */
  q?: string;
  /** Workspaces per page. @default 100 */
  pageSize?: number;
}

export interface GetWorkspaceOptions extends ReadOptions {
  includeDeleted?: boolean;
}

export type BuildOptions = Omit<CreateWorkspaceBuildRequest, 'transition'> & MutationOptions;

export interface ListProvisionerDaemonsOptions extends ReadOptions {
  /** Include daemons not seen in the last 90 seconds (Coder returns only online ones by default). */
  offline?: boolean;
  limit?: number;
}

export interface ListAuditLogsOptions extends ReadOptions {
  q?: string;
  /** @default 100 (the spec marks limit required; Coder turns 0 into 100) */
  limit?: number;
  offset?: number;
}

interface RequestSpec<T> {
  method: HttpMethod;
  route: CoderRoute;
  params?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Undefined when the answer has no body worth reading (204). */
  schema?: z.ZodType<T>;
  /** Repeating after an ambiguous failure cannot double an effect. GET is always safe. */
  safeToRepeat?: boolean;
  /** Creates a named resource, so a conflict means "already exists". */
  isCreate?: boolean;
  wording?: ErrorSubject;
  /** Authenticate with this header instead of the session token. */
  authHeader?: { name: string; value: string };
  signal?: AbortSignal | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RATE_LIMIT = 480;
const DEFAULT_PAGE_SIZE = 100;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type RawAnswer = { status: number; headers: Headers; text: string };

export class CoderClient {
  private readonly baseUrl: string;
  private readonly origin: string;
  private readonly token: string | (() => Promise<string>);
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly limiter: RouteRateLimiter | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onRequest: ((event: CoderRequestEvent) => void) | undefined;
  private readonly userAgent: string;
  private readonly counters: Omit<CoderClientStats, 'byRoute'> = emptyCoderClientStats();
  private readonly routeCounts = new Map<string, number>();

  constructor(options: CoderClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.username || url.password || url.search || url.hash) {
      throw new TypeError('Coder baseUrl must be a plain URL without credentials, query or fragment');
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.origin = url.origin;
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.onRequest = options.onRequest;
    this.userAgent = options.userAgent ?? 'coder-fleet-controller';
    const perWindow = options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT;
    this.limiter =
      perWindow === false
        ? undefined
        : new RouteRateLimiter({
            limit: perWindow,
            windowMs: options.rateLimitWindowMs ?? 60_000,
            now: this.now,
            sleep: this.sleep,
          });
  }

  /** Counts since construction; a copy, safe to keep. */
  stats(): CoderClientStats {
    return { ...this.counters, byRoute: Object.fromEntries(this.routeCounts) };
  }

  // --- deployment and identity ---------------------------------------------------------------

  buildInfo(options: ReadOptions = {}): Promise<BuildInfo> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.buildInfo,
      schema: buildInfoSchema,
      signal: options.signal,
    });
  }

  /** The user the session token belongs to. */
  me(options: ReadOptions = {}): Promise<User> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.user,
      params: { user: 'me' },
      schema: userSchema,
      signal: options.signal,
    });
  }

  organizations(options: ReadOptions = {}): Promise<Organization[]> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.organizations,
      schema: organizationSchema.array(),
      signal: options.signal,
    });
  }

  /** By UUID, name, or the literal `default`. */
  organization(idOrName: string, options: ReadOptions = {}): Promise<Organization> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.organization,
      params: { organization: idOrName },
      schema: organizationSchema,
      wording: { notFound: `organization "${idOrName}" not found (or not visible to the token's user)` },
      signal: options.signal,
    });
  }

  // --- workspaces ----------------------------------------------------------------------------

  /**
   * Every workspace matching `q`, across all pages. Offset paging over a list that changes
   * underneath can repeat or skip an entry; repeats are dropped by id, and a skipped one shows up
   * on the next reconcile.
   */
  async listWorkspaces(options: ListWorkspacesOptions = {}): Promise<Workspace[]> {
    const all: Workspace[] = [];
    for await (const workspace of this.iterateWorkspaces(options)) all.push(workspace);
    return all;
  }

  /** Like listWorkspaces, one page at a time, yielding each workspace once. */
  async *iterateWorkspaces(options: ListWorkspacesOptions = {}): AsyncGenerator<Workspace, void, undefined> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
    }
    const seen = new Set<string>();
    let offset = 0;
    for (;;) {
      const page = await this.call({
        method: 'GET',
        route: CODER_ROUTES.workspaces,
        query: { q: options.q || undefined, limit: pageSize, offset },
        schema: workspacesResponseSchema,
        wording: { subject: `workspace search query ${JSON.stringify(options.q ?? '')}` },
        signal: options.signal,
      });
      for (const workspace of page.workspaces) {
        if (seen.has(workspace.id)) continue;
        seen.add(workspace.id);
        yield workspace;
      }
      offset += page.workspaces.length;
      if (page.workspaces.length < pageSize || offset >= page.count) return;
    }
  }

  /** Case-insensitive on the name; undefined when there is no such workspace. */
  async getWorkspaceByOwnerAndName(
    owner: string,
    name: string,
    options: GetWorkspaceOptions = {},
  ): Promise<Workspace | undefined> {
    try {
      return await this.call({
        method: 'GET',
        route: CODER_ROUTES.workspaceByOwnerAndName,
        params: { user: owner, workspacename: name },
        query: { include_deleted: options.includeDeleted ? true : undefined },
        schema: workspaceSchema,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof CoderApiError && error.kind === 'not_found') return undefined;
      throw error;
    }
  }

  /** Throws kind `gone` for a deleted workspace unless `includeDeleted`. */
  getWorkspace(id: string, options: GetWorkspaceOptions = {}): Promise<Workspace> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.workspace,
      params: { workspace: id },
      query: { include_deleted: options.includeDeleted ? true : undefined },
      schema: workspaceSchema,
      wording: {
        notFound: `workspace ${id} not found (or not visible to the token's user)`,
        gone: `workspace ${id} has been deleted; pass includeDeleted to read it`,
      },
      signal: options.signal,
    });
  }

  /** The full resolved parameter set of one build; every value is a string. */
  getBuildParameters(buildId: string, options: ReadOptions = {}): Promise<WorkspaceBuildParameter[]> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.buildParameters,
      params: { workspacebuild: buildId },
      schema: workspaceBuildParameterSchema.array(),
      wording: { notFound: `workspace build ${buildId} not found` },
      signal: options.signal,
    });
  }

  /**
   * Creates a workspace owned by `user` in `organization`. Not retried on an ambiguous failure
   * unless marked idempotent: a 5xx may have created it. A taken name (409, or the 500 a create
   * race produces) throws kind `already_exists`.
   */
  createWorkspace(
    organization: string,
    user: string,
    request: CreateWorkspaceRequest,
    options: MutationOptions = {},
  ): Promise<Workspace> {
    const whole = `workspace "${request.name}" for user "${user}" in organization "${organization}"`;
    return this.call({
      method: 'POST',
      route: CODER_ROUTES.memberWorkspaces,
      params: { organization, user },
      body: request,
      schema: workspaceSchema,
      isCreate: true,
      safeToRepeat: options.idempotent,
      wording: {
        subject: (validations) =>
          validations.length > 0 && validations.every((v) => v.field === 'name')
            ? `workspace name "${request.name}"`
            : whole,
        notFound: `cannot create ${whole}: the organization, user or template was not found`,
      },
      signal: options.signal,
    });
  }

  /** Queues a build. A build already in progress throws kind `build_active`. */
  createBuild(
    workspaceId: string,
    request: CreateWorkspaceBuildRequest,
    options: MutationOptions = {},
  ): Promise<WorkspaceBuild> {
    return this.call({
      method: 'POST',
      route: CODER_ROUTES.workspaceBuilds,
      params: { workspace: workspaceId },
      body: request,
      schema: workspaceBuildSchema,
      safeToRepeat: options.idempotent,
      wording: {
        subject: `${request.transition} build for workspace ${workspaceId}`,
        notFound: `workspace ${workspaceId} not found (or not visible to the token's user)`,
        gone: `workspace ${workspaceId} has been deleted`,
      },
      signal: options.signal,
    });
  }

  startWorkspace(workspaceId: string, options: BuildOptions = {}): Promise<WorkspaceBuild> {
    return this.transition(workspaceId, 'start', options);
  }

  stopWorkspace(workspaceId: string, options: BuildOptions = {}): Promise<WorkspaceBuild> {
    return this.transition(workspaceId, 'stop', options);
  }

  deleteWorkspace(workspaceId: string, options: BuildOptions = {}): Promise<WorkspaceBuild> {
    return this.transition(workspaceId, 'delete', options);
  }

  // --- templates -----------------------------------------------------------------------------

  getTemplateByName(organization: string, name: string, options: ReadOptions = {}): Promise<Template> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.organizationTemplate,
      params: { organization, templatename: name },
      schema: templateSchema,
      wording: { notFound: `template "${name}" not found in organization "${organization}"` },
      signal: options.signal,
    });
  }

  /** One organization's templates, or all visible ones when `organization` is omitted. */
  listTemplates(organization?: string, options: ReadOptions = {}): Promise<Template[]> {
    return organization === undefined
      ? this.call({
          method: 'GET',
          route: CODER_ROUTES.templates,
          schema: templateSchema.array(),
          signal: options.signal,
        })
      : this.call({
          method: 'GET',
          route: CODER_ROUTES.organizationTemplates,
          params: { organization },
          schema: templateSchema.array(),
          wording: {
            notFound: `organization "${organization}" not found (or not visible to the token's user)`,
          },
          signal: options.signal,
        });
  }

  getTemplate(id: string, options: ReadOptions = {}): Promise<Template> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.template,
      params: { template: id },
      schema: templateSchema,
      wording: { notFound: `template ${id} not found` },
      signal: options.signal,
    });
  }

  getTemplateVersionRichParameters(
    versionId: string,
    options: ReadOptions = {},
  ): Promise<TemplateVersionParameter[]> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.richParameters,
      params: { templateversion: versionId },
      schema: templateVersionParameterSchema.array(),
      wording: { notFound: `template version ${versionId} not found` },
      signal: options.signal,
    });
  }

  // --- provisioner keys and daemons ----------------------------------------------------------

  /** Keys of an organization, without secrets and without the reserved built-in keys. */
  listProvisionerKeys(organization: string, options: ReadOptions = {}): Promise<ProvisionerKey[]> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.provisionerKeys,
      params: { organization },
      schema: provisionerKeySchema.array(),
      signal: options.signal,
    });
  }

  /** Returns the plaintext key: the only time Coder shows it. A taken name throws `already_exists`. */
  createProvisionerKey(
    organization: string,
    request: CreateProvisionerKeyRequest,
    options: MutationOptions = {},
  ): Promise<CreateProvisionerKeyResponse> {
    return this.call({
      method: 'POST',
      route: CODER_ROUTES.provisionerKeys,
      params: { organization },
      body: { name: request.name, tags: request.tags ?? {} },
      schema: createProvisionerKeyResponseSchema,
      isCreate: true,
      safeToRepeat: options.idempotent,
      wording: { subject: `provisioner key "${request.name}" in organization "${organization}"` },
      signal: options.signal,
    });
  }

  /**
   * Deletes a key by name (Coder cuts off daemons using it). Safe to retry; a retry after an
   * ambiguous failure may find it gone and throw `not_found`, which means it is deleted.
   */
  async deleteProvisionerKey(organization: string, name: string, options: ReadOptions = {}): Promise<void> {
    await this.call({
      method: 'DELETE',
      route: CODER_ROUTES.provisionerKey,
      params: { organization, provisionerkey: name },
      safeToRepeat: true,
      wording: {
        subject: `provisioner key "${name}" in organization "${organization}"`,
        notFound: `provisioner key "${name}" not found in organization "${organization}"`,
      },
      signal: options.signal,
    });
  }

  /** Each key (plus the `user-auth` pseudo-key) with the daemons seen on it in the last 3 minutes. */
  listProvisionerKeyDaemons(
    organization: string,
    options: ReadOptions = {},
  ): Promise<ProvisionerKeyDaemons[]> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.provisionerKeyDaemons,
      params: { organization },
      schema: provisionerKeyDaemonsSchema.array(),
      signal: options.signal,
    });
  }

  /**
   * What Coder knows about a plaintext key. The key goes only in the `Coder-Provisioner-Daemon-Key`
   * header (the session token is not sent); an unknown key throws `unauthorized`.
   */
  getProvisionerKeyDetails(key: string, options: ReadOptions = {}): Promise<ProvisionerKey> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.provisionerKeyDetails,
      params: { provisionerkey: PROVISIONER_KEY_PATH_PLACEHOLDER },
      schema: provisionerKeySchema,
      authHeader: { name: 'Coder-Provisioner-Daemon-Key', value: key },
      wording: {
        subject: 'the provisioner key',
        unauthorized: 'Coder does not recognise this provisioner key: it was deleted or never existed',
      },
      signal: options.signal,
    });
  }

  /** Daemons of an organization; only online ones unless `offline`. */
  listProvisionerDaemons(
    organization: string,
    options: ListProvisionerDaemonsOptions = {},
  ): Promise<ProvisionerDaemon[]> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.provisionerDaemons,
      params: { organization },
      query: { offline: options.offline ? true : undefined, limit: options.limit },
      schema: provisionerDaemonSchema.array(),
      signal: options.signal,
    });
  }

  // --- audit ---------------------------------------------------------------------------------

  /** One page of audit logs, newest first. `count` stops at `count_cap` (2000). */
  listAuditLogs(options: ListAuditLogsOptions = {}): Promise<AuditLogResponse> {
    return this.call({
      method: 'GET',
      route: CODER_ROUTES.audit,
      query: { q: options.q || undefined, limit: options.limit ?? 100, offset: options.offset },
      schema: auditLogResponseSchema,
      wording: { subject: `audit log query ${JSON.stringify(options.q ?? '')}` },
      signal: options.signal,
    });
  }

  // --- core ----------------------------------------------------------------------------------

  private transition(
    workspaceId: string,
    transition: CreateWorkspaceBuildRequest['transition'],
    options: BuildOptions,
  ): Promise<WorkspaceBuild> {
    const { idempotent, signal, ...rest } = options;
    return this.createBuild(workspaceId, { transition, ...rest }, { idempotent, signal });
  }

  private call<T>(spec: RequestSpec<T> & { schema: z.ZodType<T> }): Promise<T>;
  private call(spec: RequestSpec<undefined>): Promise<undefined>;
  private async call<T>(spec: RequestSpec<T>): Promise<T | undefined> {
    const secret = spec.authHeader
      ? spec.authHeader.value
      : typeof this.token === 'string'
        ? this.token
        : await this.token();
    const secrets = [secret];
    const path = expandPath(spec.route, spec.params ?? {});
    const url = `${this.baseUrl}${path}${queryString(spec.query)}`;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.userAgent };
    if (spec.authHeader) headers[spec.authHeader.name] = secret;
    else headers['Coder-Session-Token'] = secret;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['Content-Type'] = 'application/json';
    }
    const safeToRepeat = spec.method === 'GET' || spec.safeToRepeat === true;
    const routeKey = `${spec.method} ${spec.route}`;

    for (let attempt = 1; ; attempt++) {
      if (this.limiter) await this.limiter.acquire(spec.route);
      const outcome = await this.attempt(spec, url, headers, body, attempt, routeKey);

      let failure: AttemptFailure;
      let toThrow: Error;
      if (outcome.type === 'answer') {
        const answer = outcome.answer;
        if (answer.status >= 200 && answer.status < 300) return this.parse(spec, answer, attempt, secrets);
        const error = this.apiError(spec, answer, attempt, secrets);
        toThrow = error;
        if (error.kind === 'rate_limited') {
          const retryAfterMs = parseRetryAfterMs(answer.headers.get('retry-after'), this.now());
          if (retryAfterMs !== undefined) this.limiter?.blockUntil(spec.route, this.now() + retryAfterMs);
          failure = { type: 'rate_limited', retryAfterMs };
        } else if (error.kind === 'server') {
          failure = { type: 'ambiguous' };
        } else {
          failure = { type: 'final' };
        }
      } else {
        toThrow = this.transportError(spec, outcome, attempt, secrets);
        failure = { type: 'ambiguous' };
      }

      const decision = decideRetry({
        failure,
        attempt,
        safeToRepeat,
        options: this.retry,
        random: this.random,
      });
      if (!decision.retry) throw toThrow;
      this.counters.retries++;
      if (decision.delayMs > 0) await this.sleep(decision.delayMs);
    }
  }

  private async attempt(
    spec: RequestSpec<unknown>,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    attempt: number,
    routeKey: string,
  ): Promise<
    | { type: 'answer'; answer: RawAnswer }
    | { type: 'timeout' }
    | { type: 'network'; code: string | undefined; message: string }
  > {
    this.counters.requests++;
    this.routeCounts.set(routeKey, (this.routeCounts.get(routeKey) ?? 0) + 1);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = spec.signal ? AbortSignal.any([timeout, spec.signal]) : timeout;
    const started = this.now();
    const emit = (status: CoderRequestEvent['status']) =>
      this.emit({
        method: spec.method,
        route: spec.route,
        status,
        durationMs: this.now() - started,
        attempt,
      });
    // Racing the signal as well guards against a fetch (or body stream) that ignores it.
    let stopListening = () => {};
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      stopListening = () => signal.removeEventListener('abort', onAbort);
    });
    try {
      const response = await Promise.race([
        this.fetchImpl(url, { method: spec.method, headers, body, signal, redirect: 'error' }),
        aborted,
      ]);
      // Reading the body stays under the same signal, so a stalled body also times out.
      const text = await Promise.race([response.text(), aborted]);
      if (response.status === 429) this.counters.rateLimited++;
      emit(response.status);
      return { type: 'answer', answer: { status: response.status, headers: response.headers, text } };
    } catch (error) {
      if (spec.signal?.aborted && !timeout.aborted) throw spec.signal.reason;
      if (timeout.aborted) {
        this.counters.timeouts++;
        emit('timeout');
        return { type: 'timeout' };
      }
      this.counters.networkErrors++;
      emit('network-error');
      return { type: 'network', ...describeNetworkFailure(error) };
    } finally {
      stopListening();
    }
  }

  private emit(event: CoderRequestEvent): void {
    this.counters.durationMsTotal += event.durationMs;
    try {
      this.onRequest?.(event);
    } catch {
      // Metrics must never break a Coder call.
    }
  }

  private parse<T>(
    spec: RequestSpec<T>,
    answer: RawAnswer,
    attempts: number,
    secrets: string[],
  ): T | undefined {
    if (!spec.schema) return undefined;
    const shapeError = (problems: string[]) =>
      new CoderResponseShapeError(
        redact(
          `Coder answered ${spec.method} ${spec.route} (${answer.status}) with a body that is not the documented shape: ${problems.slice(0, 5).join('; ')}; check that baseUrl points at a Coder v2 deployment`,
          secrets,
        ),
        { method: spec.method, route: spec.route, attempts, status: answer.status, problems },
      );
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw shapeError(['the body is not JSON']);
    }
    const result = spec.schema.safeParse(json);
    if (!result.success) {
      throw shapeError(
        result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
      );
    }
    return result.data;
  }

  private apiError(
    spec: RequestSpec<unknown>,
    answer: RawAnswer,
    attempts: number,
    secrets: string[],
  ): CoderApiError {
    let coderMessage: string | undefined;
    let detail: string | undefined;
    let validations: CoderValidation[] = [];
    try {
      const parsed = coderErrorBodySchema.safeParse(JSON.parse(answer.text));
      if (parsed.success) {
        coderMessage = parsed.data.message;
        detail = parsed.data.detail;
        validations = (parsed.data.validations ?? []).map((v) => ({ field: v.field, detail: v.detail }));
      }
    } catch {
      // Not JSON (a proxy's HTML page, say): keep a short excerpt so the operator sees what answered.
      const excerpt = redactThenTruncate(answer.text.trim(), secrets, 200);
      if (excerpt) detail = excerpt;
    }
    coderMessage = coderMessage === undefined ? undefined : redact(coderMessage, secrets);
    detail = detail === undefined ? undefined : redact(detail, secrets);
    validations = validations.map((v) => ({
      field: redact(v.field, secrets),
      detail: redact(v.detail, secrets),
    }));
    const isCreate = spec.isCreate === true;
    const kind = classifyStatus({ status: answer.status, isCreate, coderMessage, detail });
    const facts = {
      kind,
      status: answer.status,
      method: spec.method,
      route: spec.route,
      attempts,
      isCreate,
      coderMessage,
      detail,
      validations,
    };
    const message = describeApiError(facts, spec.wording ?? {});
    return new CoderApiError(redact(message, secrets), facts);
  }

  private transportError(
    spec: RequestSpec<unknown>,
    outcome: { type: 'timeout' } | { type: 'network'; code: string | undefined; message: string },
    attempts: number,
    secrets: string[],
  ): Error {
    const base = { method: spec.method, route: spec.route, attempts };
    const call = `${spec.method} ${spec.route}`;
    if (outcome.type === 'timeout') {
      const effect =
        spec.isCreate || spec.method !== 'GET'
          ? ' it may still have taken effect, so read back before repeating it;'
          : '';
      return new CoderTimeoutError(
        `Coder did not answer ${call} within ${this.timeoutMs} ms (attempt ${attempts});${effect} check Coder's health or raise timeoutMs`,
        { ...base, timeoutMs: this.timeoutMs },
      );
    }
    const code = outcome.code ? ` (${outcome.code})` : '';
    return new CoderNetworkError(
      redact(
        `Could not reach Coder at ${this.origin} for ${call}: ${outcome.message}${code} after ${attempts} attempt(s); check the Coder URL and network access`,
        secrets,
      ),
      { ...base, code: outcome.code },
    );
  }
}

/** Fills `{name}` segments, URL-encoding each value; dot segments are encoded so they cannot climb. */
export const expandPath = (template: string, params: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === '') {
      throw new TypeError(`Coder path ${template} needs a non-empty "${name}"`);
    }
    const encoded = encodeURIComponent(value);
    return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
  });

const queryString = (query: RequestSpec<unknown>['query']): string => {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
};

/** undici reports "fetch failed" with the real reason in `cause`; keep only its code and text. */
const describeNetworkFailure = (error: unknown): { code: string | undefined; message: string } => {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  const message = cause instanceof Error ? cause.message : String(cause);
  return { code, message };
};
