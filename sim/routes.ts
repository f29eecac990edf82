/** The API routes the simulator serves, keyed by the swagger path templates. */
import type { IncomingHttpHeaders } from 'node:http';
import { CoderApiError, notFound } from './errors.js';
import { latestStatus, RESERVED_KEYS, type SimUser, type SimWorkspace } from './model.js';
import { auditFilter, workspaceFilter } from './search.js';
import {
  auditJson,
  buildJson,
  daemonJson,
  daemonStatus,
  organizationJson,
  provisionerKeyJson,
  pseudoKeyJson,
  richParameterJson,
  templateJson,
  userJson,
  workspaceJson,
} from './serialize.js';
import { type CreateBuildInput, type CreateWorkspaceInput, isOwner, isUuid, type SimState } from './state.js';

export interface RequestContext {
  method: string;
  url: URL;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  requestId: string;
  /** The parsed JSON body; answers 400 for invalid JSON and 413 for an oversized body. */
  json(): unknown;
}

export interface Reply {
  status: number;
  /** JSON body; omitted for 204. */
  body?: unknown;
  /** Plain-text body (health check). */
  text?: string;
}

export type Route =
  | {
      method: string;
      template: string;
      auth: 'session';
      handle(ctx: RequestContext, caller: SimUser): Reply | Promise<Reply>;
    }
  | { method: string; template: string; auth: 'none'; handle(ctx: RequestContext): Reply | Promise<Reply> };

export interface RouteEnv {
  state: SimState;
  url(): string;
}

const AUDIT_COUNT_CAP = 2000;
/** Daemons listed per key must have been seen within three heartbeats. */
const KEY_DAEMONS_MAX_AGE_MS = 180_000;
const INT32_MAX = 2_147_483_647;

/** Coder's pagination parameters must be non-negative int32. */
function queryInt(url: URL, name: string, fallback: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n > INT32_MAX) {
    throw new CoderApiError(400, 'Query parameters have invalid values.', {
      validations: [
        { field: name, detail: `Query param "${name}" must be a valid positive integer (${raw})` },
      ],
    });
  }
  return n;
}

function canManageProvisioners(user: SimUser): boolean {
  return isOwner(user) || user.roles.includes('template-admin') || user.roles.includes('organization-admin');
}

function canReadAudit(user: SimUser): boolean {
  return isOwner(user) || user.roles.includes('auditor');
}

/** Coder's list order: running workspaces first, then owner username, then name. */
function sortWorkspaces(state: SimState, list: SimWorkspace[]): SimWorkspace[] {
  const keyed = list.map((ws) => ({
    ws,
    running: latestStatus(ws) === 'running' ? 0 : 1,
    owner: state.userOf(ws.ownerId).username.toLowerCase(),
    name: ws.name.toLowerCase(),
  }));
  keyed.sort((a, b) =>
    a.running !== b.running
      ? a.running - b.running
      : a.owner !== b.owner
        ? a.owner < b.owner
          ? -1
          : 1
        : a.name < b.name
          ? -1
          : a.name > b.name
            ? 1
            : 0,
  );
  return keyed.map((k) => k.ws);
}

export function buildRoutes(env: RouteEnv): Route[] {
  const { state } = env;
  const param = (ctx: RequestContext, name: string): string => {
    const v = ctx.params[name];
    if (v === undefined) throw new Error(`route has no {${name}} segment`);
    return v;
  };
  const meta = (ctx: RequestContext) => ({
    requestId: ctx.requestId,
    userAgent: String(ctx.headers['user-agent'] ?? ''),
  });

  const workspaceReply = (ws: SimWorkspace, includeDeleted: boolean): Reply => {
    if (ws.deleted && !includeDeleted) {
      throw new CoderApiError(
        410,
        `Workspace "${ws.id}" was deleted, you can view this workspace by specifying '?include_deleted=true' and trying again.`,
      );
    }
    return { status: 200, body: workspaceJson(state, ws) };
  };

  return [
    { method: 'GET', template: '/healthz', auth: 'none', handle: () => ({ status: 200, text: 'OK' }) },
    {
      method: 'GET',
      template: '/api/v2/buildinfo',
      auth: 'none',
      handle: () => ({
        status: 200,
        body: {
          version: 'v2.37.0-devel+sim',
          external_url: 'https://github.com/coder/coder',
          dashboard_url: env.url(),
          deployment_id: 'coder-simulator',
          agent_api_version: '2.6',
          provisioner_api_version: '1.9',
          upgrade_message: '',
          workspace_proxy: false,
          telemetry: false,
          webpush_public_key: '',
        },
      }),
    },
    {
      method: 'GET',
      template: '/api/v2/users/{user}',
      auth: 'session',
      handle: (ctx, caller) => ({
        status: 200,
        body: userJson(state.resolveUser(param(ctx, 'user'), caller)),
      }),
    },
    {
      method: 'GET',
      template: '/api/v2/users/{user}/organizations',
      auth: 'session',
      handle: (ctx, caller) => {
        const user = state.resolveUser(param(ctx, 'user'), caller);
        return { status: 200, body: user.orgIds.map((id) => organizationJson(state.orgOf(id))) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/organizations',
      auth: 'session',
      handle: (_ctx, caller) => ({
        status: 200,
        body: [...state.orgs.values()].filter((o) => state.canSeeOrg(caller, o.id)).map(organizationJson),
      }),
    },
    {
      method: 'GET',
      template: '/api/v2/organizations/{organization}',
      auth: 'session',
      handle: (ctx, caller) => ({
        status: 200,
        body: organizationJson(state.resolveOrg(param(ctx, 'organization'), caller)),
      }),
    },
    {
      method: 'GET',
      template: '/api/v2/workspaces',
      auth: 'session',
      handle: (ctx, caller) => {
        const matches = workspaceFilter(state, caller, ctx.url.searchParams.get('q') ?? '');
        const limit = queryInt(ctx.url, 'limit', 0);
        const offset = queryInt(ctx.url, 'offset', 0);
        const visible: SimWorkspace[] = [];
        for (const ws of state.workspaces.values()) {
          if (!ws.deleted && state.canSeeWorkspace(caller, ws) && matches(ws)) visible.push(ws);
        }
        const sorted = sortWorkspaces(state, visible);
        // limit=0 means no limit for workspaces.
        const page = sorted.slice(offset, limit === 0 ? undefined : offset + limit);
        return {
          status: 200,
          body: { workspaces: page.map((ws) => workspaceJson(state, ws)), count: sorted.length },
        };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/users/{user}/workspace/{workspacename}',
      auth: 'session',
      handle: (ctx, caller) => {
        const owner = state.resolveUser(param(ctx, 'user'), caller);
        const name = param(ctx, 'workspacename').toLowerCase();
        const includeDeleted = ctx.url.searchParams.get('include_deleted') === 'true';
        let found: SimWorkspace | undefined;
        for (const ws of state.workspaces.values()) {
          if (ws.ownerId !== owner.id || ws.name.toLowerCase() !== name) continue;
          if (!ws.deleted) {
            found = ws;
            break;
          }
          // With include_deleted the most recently created deleted one is returned.
          if (includeDeleted && (found === undefined || found.createdAt <= ws.createdAt)) found = ws;
        }
        if (found === undefined || !state.canSeeWorkspace(caller, found)) throw notFound();
        return { status: 200, body: workspaceJson(state, found) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/workspaces/{workspace}',
      auth: 'session',
      handle: (ctx, caller) =>
        workspaceReply(
          state.workspaceForCaller(param(ctx, 'workspace'), caller),
          ctx.url.searchParams.get('include_deleted') === 'true',
        ),
    },
    {
      method: 'GET',
      template: '/api/v2/workspaces/{workspace}/builds',
      auth: 'session',
      handle: (ctx, caller) => {
        const ws = state.workspaceForCaller(param(ctx, 'workspace'), caller);
        const limit = queryInt(ctx.url, 'limit', 0);
        const offset = queryInt(ctx.url, 'offset', 0);
        const since = ctx.url.searchParams.get('since');
        const afterId = ctx.url.searchParams.get('after_id');
        let builds = [...ws.builds].reverse();
        if (since !== null && since !== '')
          builds = builds.filter((b) => Date.parse(b.createdAt) >= Date.parse(since));
        if (afterId !== null && afterId !== '') {
          const idx = builds.findIndex((b) => b.id === afterId);
          if (idx < 0) {
            throw new CoderApiError(400, `Record at "after_id" (${afterId}) does not exist.`);
          }
          builds = builds.slice(idx + 1);
        }
        const page = builds.slice(offset, limit === 0 ? undefined : offset + limit);
        return { status: 200, body: page.map((b) => buildJson(state, ws, b)) };
      },
    },
    {
      method: 'POST',
      template: '/api/v2/workspaces/{workspace}/builds',
      auth: 'session',
      handle: (ctx, caller) => {
        const ws = state.workspaceForCaller(param(ctx, 'workspace'), caller);
        const body = ctx.json();
        const build = state.createBuild(caller, ws, asObject(body) as CreateBuildInput, meta(ctx));
        return { status: 201, body: buildJson(state, ws, build) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/workspacebuilds/{workspacebuild}',
      auth: 'session',
      handle: (ctx, caller) => {
        const build = state.buildForCaller(param(ctx, 'workspacebuild'), caller);
        const ws = state.workspaces.get(build.workspaceId);
        if (ws === undefined) throw notFound();
        return { status: 200, body: buildJson(state, ws, build) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/workspacebuilds/{workspacebuild}/parameters',
      auth: 'session',
      handle: (ctx, caller) => {
        const build = state.buildForCaller(param(ctx, 'workspacebuild'), caller);
        return { status: 200, body: build.parameters.map((p) => ({ name: p.name, value: p.value })) };
      },
    },
    {
      method: 'POST',
      template: '/api/v2/organizations/{organization}/members/{user}/workspaces',
      auth: 'session',
      handle: async (ctx, caller) => {
        const org = state.resolveOrg(param(ctx, 'organization'), caller);
        const owner = state.resolveUser(param(ctx, 'user'), caller);
        const body = asObject(ctx.json()) as CreateWorkspaceInput;
        const ws = await state.createWorkspace(caller, owner, org, body, meta(ctx));
        return { status: 201, body: workspaceJson(state, ws) };
      },
    },
    {
      method: 'POST',
      template: '/api/v2/users/{user}/workspaces',
      auth: 'session',
      handle: async (ctx, caller) => {
        const owner = state.resolveUser(param(ctx, 'user'), caller);
        const body = asObject(ctx.json()) as CreateWorkspaceInput;
        const ws = await state.createWorkspace(caller, owner, undefined, body, meta(ctx));
        return { status: 201, body: workspaceJson(state, ws) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/templates',
      auth: 'session',
      handle: (ctx, caller) => ({ status: 200, body: listTemplates(state, caller, undefined, ctx.url) }),
    },
    {
      method: 'GET',
      template: '/api/v2/organizations/{organization}/templates',
      auth: 'session',
      handle: (ctx, caller) => {
        const org = state.resolveOrg(param(ctx, 'organization'), caller);
        return { status: 200, body: listTemplates(state, caller, org.id, ctx.url) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/organizations/{organization}/templates/{templatename}',
      auth: 'session',
      handle: (ctx, caller) => {
        const org = state.resolveOrg(param(ctx, 'organization'), caller);
        const name = param(ctx, 'templatename').toLowerCase();
        const t = [...state.templates.values()].find((x) => x.orgId === org.id && x.name === name);
        if (t === undefined) throw notFound();
        return { status: 200, body: templateJson(state, t) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/templates/{template}',
      auth: 'session',
      handle: (ctx, caller) => {
        const ref = param(ctx, 'template');
        if (!isUuid(ref)) throw new CoderApiError(400, `Invalid UUID "${ref}".`);
        const t = state.templates.get(ref.toLowerCase());
        if (t === undefined || !state.canSeeOrg(caller, t.orgId)) throw notFound();
        return { status: 200, body: templateJson(state, t) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/templateversions/{templateversion}/rich-parameters',
      auth: 'session',
      handle: (ctx, caller) => {
        const ref = param(ctx, 'templateversion');
        if (!isUuid(ref)) throw new CoderApiError(400, `Invalid UUID "${ref}".`);
        const t = state.templateByVersion(ref.toLowerCase());
        if (t === undefined || !state.canSeeOrg(caller, t.orgId)) throw notFound();
        return { status: 200, body: t.parameters.map(richParameterJson) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/organizations/{organization}/provisionerkeys',
      auth: 'session',
      handle: (ctx, caller) => {
        const org = state.resolveOrg(param(ctx, 'organization'), caller);
        if (!canManageProvisioners(caller)) throw notFound();
        const keys = [...state.keys.values()].filter((k) => k.orgId === org.id);
        return { status: 200, body: keys.map(provisionerKeyJson) };
      },
    },
    {
      method: 'POST',
      template: '/api/v2/organizations/{organization}/provisionerkeys',
      auth: 'session',
      handle: (ctx, caller) => {
        const org = state.resolveOrg(param(ctx, 'organization'), caller);
        if (!canManageProvisioners(caller)) throw notFound();
        const key = state.createProvisionerKey(org, asObject(ctx.json()));
        return { status: 201, body: { key: key.secret } };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/organizations/{organization}/provisionerkeys/daemons',
      auth: 'session',
      handle: (ctx, caller) => {
        const org = state.resolveOrg(param(ctx, 'organization'), caller);
        if (!canManageProvisioners(caller)) throw notFound();
        const now = Date.now();
        const recent = (keyId: string) =>
          [...state.daemons.values()]
            .filter(
              (d) =>
                d.orgId === org.id &&
                d.keyId === keyId &&
                now - Date.parse(d.lastSeenAt) <= KEY_DAEMONS_MAX_AGE_MS,
            )
            .map((d) => daemonJson(d, now));
        const userAuth = RESERVED_KEYS.find((k) => k.name === 'user-auth');
        const entries = [...state.keys.values()]
          .filter((k) => k.orgId === org.id)
          .map((k) => ({ key: provisionerKeyJson(k), daemons: recent(k.id) }));
        if (userAuth !== undefined)
          entries.push({ key: pseudoKeyJson(org, 'user-auth'), daemons: recent(userAuth.id) });
        return { status: 200, body: entries };
      },
    },
    {
      method: 'DELETE',
      template: '/api/v2/organizations/{organization}/provisionerkeys/{provisionerkey}',
      auth: 'session',
      handle: (ctx, caller) => {
        const org = state.resolveOrg(param(ctx, 'organization'), caller);
        if (!canManageProvisioners(caller)) throw notFound();
        state.deleteProvisionerKey(org, param(ctx, 'provisionerkey'));
        return { status: 204 };
      },
    },
    {
      // Authenticated only by the Coder-Provisioner-Daemon-Key header; the path segment is ignored.
      method: 'GET',
      template: '/api/v2/provisionerkeys/{provisionerkey}',
      auth: 'none',
      handle: (ctx) => {
        const key = headerValue(ctx.headers, 'coder-provisioner-daemon-key');
        const psk = headerValue(ctx.headers, 'coder-provisioner-daemon-psk');
        if (key !== undefined && psk !== undefined) {
          throw new CoderApiError(400, 'provisioner daemon key and psk provided, but only one is allowed');
        }
        if (key === undefined) throw new CoderApiError(401, 'provisioner daemon auth token required');
        if (key.length !== 43) {
          throw new CoderApiError(400, 'provisioner daemon key invalid', {
            detail: 'key must be 43 characters',
          });
        }
        const found = state.keyBySecret(key);
        if (found === undefined) throw new CoderApiError(401, 'provisioner daemon key invalid');
        return { status: 200, body: provisionerKeyJson(found) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/organizations/{organization}/provisionerdaemons',
      auth: 'session',
      handle: (ctx, caller) => {
        const org = state.resolveOrg(param(ctx, 'organization'), caller);
        if (!canManageProvisioners(caller)) throw notFound();
        return { status: 200, body: listDaemons(state, org.id, ctx.url) };
      },
    },
    {
      method: 'GET',
      template: '/api/v2/audit',
      auth: 'session',
      handle: (ctx, caller) => {
        const matches = auditFilter(state, caller, ctx.url.searchParams.get('q') ?? '');
        const limitParam = queryInt(ctx.url, 'limit', 0);
        const limit = limitParam === 0 ? 100 : limitParam;
        const offset = queryInt(ctx.url, 'offset', 0);
        const rows = canReadAudit(caller) ? [...state.audit].reverse().filter(matches) : [];
        return {
          status: 200,
          body: {
            audit_logs: rows.slice(offset, offset + limit).map((r) => auditJson(state, r)),
            count: Math.min(rows.length, AUDIT_COUNT_CAP),
            count_cap: AUDIT_COUNT_CAP,
          },
        };
      },
    },
  ];
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new CoderApiError(400, 'Request body must be valid JSON.', { detail: 'expected a JSON object' });
  }
  return body as Record<string, unknown>;
}

/** Templates visible to the caller; accepts the undocumented `q` keys the controller may use. */
function listTemplates(state: SimState, caller: SimUser, orgId: string | undefined, url: URL): unknown[] {
  const q = (url.searchParams.get('q') ?? '').toLowerCase().trim();
  const terms = new Map<string, string>();
  for (const part of q.split(/\s+/).filter((p) => p !== '')) {
    const idx = part.indexOf(':');
    if (idx < 0) terms.set('display_name', part);
    else terms.set(part.slice(0, idx), part.slice(idx + 1).replaceAll('"', ''));
  }
  const known = new Set([
    'exact_name',
    'name',
    'display_name',
    'exact_display_name',
    'organization',
    'deprecated',
    'deleted',
    'ids',
  ]);
  const unknown = [...terms.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new CoderApiError(400, 'Invalid template search query.', {
      validations: unknown.map((k) => ({
        field: k,
        detail: `Query param "${k}" is not a valid query param`,
      })),
    });
  }
  return [...state.templates.values()]
    .filter((t) => (orgId === undefined ? state.canSeeOrg(caller, t.orgId) : t.orgId === orgId))
    .filter((t) => {
      const org = state.orgOf(t.orgId);
      const exact = terms.get('exact_name');
      const fuzzy = terms.get('name');
      const display = terms.get('display_name');
      const exactDisplay = terms.get('exact_display_name');
      const organization = terms.get('organization');
      const ids = terms.get('ids');
      if (exact !== undefined && t.name !== exact) return false;
      if (fuzzy !== undefined && !t.name.includes(fuzzy)) return false;
      if (display !== undefined && !t.displayName.toLowerCase().includes(display)) return false;
      if (exactDisplay !== undefined && t.displayName.toLowerCase() !== exactDisplay) return false;
      if (organization !== undefined && org.name !== organization && org.id !== organization) return false;
      if (ids !== undefined && !ids.split(',').includes(t.id)) return false;
      // Simulated templates are never deprecated or deleted.
      if (terms.get('deprecated') === 'true' || terms.get('deleted') === 'true') return false;
      return true;
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((t) => templateJson(state, t));
}

/** Go duration strings such as `90s`, `5m`, `1h30m`. */
function parseGoDurationMs(raw: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of raw.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    total += n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
    consumed += m[0].length;
  }
  return consumed === raw.length && consumed > 0 ? total : undefined;
}

function listDaemons(state: SimState, orgId: string, url: URL): unknown[] {
  const now = Date.now();
  const limit = queryInt(url, 'limit', 50);
  const statuses = (url.searchParams.get('status') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const s of statuses) {
    if (s !== 'offline' && s !== 'idle' && s !== 'busy') {
      throw new CoderApiError(400, 'Invalid query parameters.', {
        validations: [{ field: 'status', detail: `"${s}" is not a valid provisioner daemon status` }],
      });
    }
  }
  const includeOffline = url.searchParams.get('offline') === 'true' || statuses.includes('offline');
  const ids = (url.searchParams.get('ids') ?? '').split(',').filter((s) => s !== '');
  let tags: Record<string, string> = {};
  const rawTags = url.searchParams.get('tags');
  if (rawTags !== null && rawTags !== '') {
    try {
      tags = JSON.parse(rawTags) as Record<string, string>;
    } catch {
      throw new CoderApiError(400, 'Invalid query parameters.', {
        validations: [{ field: 'tags', detail: 'tags must be a JSON object' }],
      });
    }
  }
  const maxAgeRaw = url.searchParams.get('max_age');
  const maxAge = maxAgeRaw === null || maxAgeRaw === '' ? undefined : parseGoDurationMs(maxAgeRaw);
  if (maxAgeRaw !== null && maxAgeRaw !== '' && maxAge === undefined) {
    throw new CoderApiError(400, 'Invalid query parameters.', {
      validations: [{ field: 'max_age', detail: `invalid duration "${maxAgeRaw}"` }],
    });
  }
  return [...state.daemons.values()]
    .filter((d) => d.orgId === orgId)
    .filter((d) => {
      const status = daemonStatus(d, now);
      if (statuses.length > 0 && !statuses.includes(status)) return false;
      if (!includeOffline && status === 'offline') return false;
      if (ids.length > 0 && !ids.includes(d.id)) return false;
      if (maxAge !== undefined && now - Date.parse(d.lastSeenAt) > maxAge) return false;
      return Object.entries(tags).every(([k, v]) => d.tags[k] === v);
    })
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
    .slice(0, limit === 0 ? undefined : limit)
    .map((d) => daemonJson(d, now));
}

interface CompiledRoute {
  route: Route;
  segments: string[];
  literals: number;
}

/** Matches a path to a route template; literal segments win over parameters. */
export class RouteTable {
  private readonly compiled: CompiledRoute[];

  constructor(routes: Route[]) {
    this.compiled = routes.map((route) => {
      const segments = route.template.split('/').filter((s) => s !== '');
      return { route, segments, literals: segments.filter((s) => !s.startsWith('{')).length };
    });
  }

  match(
    method: string,
    pathname: string,
  ): { route: Route; params: Record<string, string> } | { methodNotAllowed: string } | undefined {
    const parts = pathname.split('/').filter((s) => s !== '');
    let best: { c: CompiledRoute; params: Record<string, string> } | undefined;
    let templateForOtherMethod: string | undefined;
    for (const c of this.compiled) {
      if (c.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = c.segments[i] ?? '';
        const part = parts[i] ?? '';
        if (seg.startsWith('{')) params[seg.slice(1, -1)] = decodeURIComponent(part);
        else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (c.route.method !== method) {
        templateForOtherMethod ??= c.route.template;
        continue;
      }
      if (best === undefined || c.literals > best.c.literals) best = { c, params };
    }
    if (best !== undefined) return { route: best.c.route, params: best.params };
    if (templateForOtherMethod !== undefined) return { methodNotAllowed: templateForOtherMethod };
    return undefined;
  }
}
