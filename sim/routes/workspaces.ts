/** Workspaces and their builds. */
import { CoderApiError, notFound } from '../errors.js';
import { latestStatus, type SimWorkspace } from '../model.js';
import { workspaceFilter } from '../search.js';
import { buildJson, workspaceJson } from '../serialize.js';
import type { CreateBuildInput, CreateWorkspaceInput, SimState } from '../state.js';
import {
  asObject,
  param,
  queryInt,
  type Reply,
  type Route,
  type RouteEnv,
  requestMeta,
  session,
} from './context.js';

/** By owner username, then name: Coder's list order after "running first". */
function sortByOwnerAndName(state: SimState, list: SimWorkspace[]): SimWorkspace[] {
  const owners = new Map<string, string>();
  const ownerKey = (id: string): string => {
    let key = owners.get(id);
    if (key === undefined) {
      key = state.userOf(id).username.toLowerCase();
      owners.set(id, key);
    }
    return key;
  };
  const keyed = list.map((ws) => ({ ws, owner: ownerKey(ws.ownerId), name: ws.name.toLowerCase() }));
  keyed.sort((a, b) =>
    a.owner !== b.owner ? (a.owner < b.owner ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  return keyed.map((k) => k.ws);
}

/**
 * Coder's list order (coderd/database/queries/workspaces.sql, `GetWorkspaces`): `ORDER BY` the
 * latest build being a successful start DESC, `LOWER(users.username)`, `LOWER(workspaces.name)`,
 * here as a stable partition of the list sorted by owner and name. Newer releases put the
 * requester's own favorites first (coderd/workspaces.go passes `RequesterID`); the controller
 * favorites nothing, so that key never reorders its lists. The order is what makes offset paging
 * race: a stop or start moves a row across a page boundary.
 */
function runningFirst(byOwnerAndName: readonly SimWorkspace[]): SimWorkspace[] {
  const running: SimWorkspace[] = [];
  const rest: SimWorkspace[] = [];
  for (const ws of byOwnerAndName) (latestStatus(ws) === 'running' ? running : rest).push(ws);
  return running.concat(rest);
}

/**
 * Listings kept while nothing that could change them has changed: a page walk over 30,000
 * workspaces would otherwise filter and sort them all once per page. The matches sorted by owner
 * and name last until a workspace or build is added (or, for a query on status, until a job
 * moves); "running first" is redone when a job moves. Each answer is what a fresh query would
 * give, so paging is still not a snapshot.
 */
class ListingCache {
  private readonly entries = new Map<
    string,
    { base: string; sorted: SimWorkspace[]; full: string; listed: SimWorkspace[] }
  >();

  get(key: string, base: string, full: string, compute: () => SimWorkspace[]): SimWorkspace[] {
    let entry = this.entries.get(key);
    if (entry?.base !== base) {
      if (this.entries.size >= 32) this.entries.clear();
      const sorted = compute();
      entry = { base, sorted, full: '', listed: [] };
      this.entries.set(key, entry);
    }
    if (entry.full !== full) {
      entry.listed = runningFirst(entry.sorted);
      entry.full = full;
    }
    return entry.listed;
  }
}

export function workspaceRoutes({ state, allowWorkspaceRenames }: RouteEnv): Route[] {
  const listings = new ListingCache();
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
    session('GET', '/api/v2/workspaces', (ctx, caller) => {
      const q = ctx.url.searchParams.get('q') ?? '';
      const matches = workspaceFilter(state, caller, q);
      const limit = queryInt(ctx.url, 'limit', 0);
      const offset = queryInt(ctx.url, 'offset', 0);
      // What the matches depend on: workspaces and builds added, the caller's roles, and for some
      // terms the jobs' progress (status) or the clock (last used).
      const version = state.listVersion();
      const byJobs = /status:|healthy:|has-agent:/i.test(q) ? version.jobs : '';
      const byClock = /last_used/i.test(q) ? Date.now() : '';
      const base = `${version.mutations}:${byJobs}:${byClock}:${caller.roles.join(',')}`;
      const sorted = listings.get(`${caller.id}|${q}`, base, `${base}:${version.jobs}`, () => {
        const visible: SimWorkspace[] = [];
        for (const ws of state.workspaces.values()) {
          if (!ws.deleted && state.canSeeWorkspace(caller, ws) && matches(ws)) visible.push(ws);
        }
        return sortByOwnerAndName(state, visible);
      });
      // limit=0 means no limit for workspaces.
      const page = sorted.slice(offset, limit === 0 ? undefined : offset + limit);
      return {
        status: 200,
        body: { workspaces: page.map((ws) => workspaceJson(state, ws)), count: sorted.length },
      };
    }),
    session('GET', '/api/v2/users/{user}/workspace/{workspacename}', (ctx, caller) => {
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
    }),
    session('GET', '/api/v2/workspaces/{workspace}', (ctx, caller) =>
      workspaceReply(
        state.workspaceForCaller(param(ctx, 'workspace'), caller),
        ctx.url.searchParams.get('include_deleted') === 'true',
      ),
    ),
    session('PATCH', '/api/v2/workspaces/{workspace}', (ctx, caller) => {
      const ws = state.workspaceForCaller(param(ctx, 'workspace'), caller);
      state.renameWorkspace(ws, asObject(ctx.json()).name, allowWorkspaceRenames);
      return { status: 204 };
    }),
    session('GET', '/api/v2/workspaces/{workspace}/builds', (ctx, caller) => {
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
    }),
    session('POST', '/api/v2/workspaces/{workspace}/builds', (ctx, caller) => {
      const ws = state.workspaceForCaller(param(ctx, 'workspace'), caller);
      const body = ctx.json();
      const build = state.createBuild(caller, ws, asObject(body) as CreateBuildInput, requestMeta(ctx));
      return { status: 201, body: buildJson(state, ws, build) };
    }),
    session('GET', '/api/v2/workspacebuilds/{workspacebuild}', (ctx, caller) => {
      const build = state.buildForCaller(param(ctx, 'workspacebuild'), caller);
      const ws = state.workspaces.get(build.workspaceId);
      if (ws === undefined) throw notFound();
      return { status: 200, body: buildJson(state, ws, build) };
    }),
    session('GET', '/api/v2/workspacebuilds/{workspacebuild}/parameters', (ctx, caller) => {
      const build = state.buildForCaller(param(ctx, 'workspacebuild'), caller);
      return { status: 200, body: build.parameters.map((p) => ({ name: p.name, value: p.value })) };
    }),
    session('POST', '/api/v2/organizations/{organization}/members/{user}/workspaces', async (ctx, caller) => {
      const org = state.resolveOrg(param(ctx, 'organization'), caller);
      const owner = state.resolveUser(param(ctx, 'user'), caller);
      const body = asObject(ctx.json()) as CreateWorkspaceInput;
      const ws = await state.createWorkspace(caller, owner, org, body, requestMeta(ctx));
      return { status: 201, body: workspaceJson(state, ws) };
    }),
    session('POST', '/api/v2/users/{user}/workspaces', async (ctx, caller) => {
      const owner = state.resolveUser(param(ctx, 'user'), caller);
      const body = asObject(ctx.json()) as CreateWorkspaceInput;
      const ws = await state.createWorkspace(caller, owner, undefined, body, requestMeta(ctx));
      return { status: 201, body: workspaceJson(state, ws) };
    }),
  ];
}
