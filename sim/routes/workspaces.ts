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

/**
 * Coder's list order (coderd/database/queries/workspaces.sql, `GetWorkspaces`): `ORDER BY` the
 * latest build being a successful start DESC, `LOWER(users.username)`, `LOWER(workspaces.name)`.
 * Newer releases put the requester's own favorites first (coderd/workspaces.go passes
 * `RequesterID`); the controller favorites nothing, so that key never reorders its lists. The
 * order is what makes offset paging race: a stop or start moves a row across a page boundary.
 */
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

export function workspaceRoutes({ state, allowWorkspaceRenames }: RouteEnv): Route[] {
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
