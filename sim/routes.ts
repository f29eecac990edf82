/** The API routes the simulator serves, keyed by the swagger path templates; one table per resource. */
import { auditRoutes } from './routes/audit.js';
import type { Route, RouteEnv } from './routes/context.js';
import { metaRoutes } from './routes/meta.js';
import { provisionerJobRoutes } from './routes/provisioner-jobs.js';
import { provisionerRoutes } from './routes/provisioners.js';
import { templateRoutes } from './routes/templates.js';
import { userRoutes } from './routes/users.js';
import { workspaceRoutes } from './routes/workspaces.js';

export type { Reply, RequestContext, Route, RouteEnv } from './routes/context.js';
export { RouteTable } from './routes/table.js';

/** Every route, in the order RouteTable breaks ties and reports 405s by. */
export function buildRoutes(env: RouteEnv): Route[] {
  return [
    ...metaRoutes(env),
    ...userRoutes(env),
    ...workspaceRoutes(env),
    ...templateRoutes(env),
    ...provisionerRoutes(env),
    ...provisionerJobRoutes(env),
    ...auditRoutes(env),
  ];
}
