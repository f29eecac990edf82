/** Users and organizations. */
import { organizationJson, userJson } from '../serialize.js';
import { param, type Route, type RouteEnv, session } from './context.js';

export function userRoutes({ state }: RouteEnv): Route[] {
  return [
    session('GET', '/api/v2/users/{user}', (ctx, caller) => ({
      status: 200,
      body: userJson(state.resolveUser(param(ctx, 'user'), caller)),
    })),
    session('GET', '/api/v2/users/{user}/organizations', (ctx, caller) => {
      const user = state.resolveUser(param(ctx, 'user'), caller);
      return { status: 200, body: user.orgIds.map((id) => organizationJson(state.orgOf(id))) };
    }),
    session('GET', '/api/v2/organizations', (_ctx, caller) => ({
      status: 200,
      body: [...state.orgs.values()].filter((o) => state.canSeeOrg(caller, o.id)).map(organizationJson),
    })),
    session('GET', '/api/v2/organizations/{organization}', (ctx, caller) => ({
      status: 200,
      body: organizationJson(state.resolveOrg(param(ctx, 'organization'), caller)),
    })),
  ];
}
