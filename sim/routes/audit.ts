/** The audit log. */
import { auditFilter } from '../search.js';
import { auditJson } from '../serialize.js';
import { canReadAudit } from '../state/roles.js';
import { queryInt, type Route, type RouteEnv, session } from './context.js';

const AUDIT_COUNT_CAP = 2000;

export function auditRoutes({ state }: RouteEnv): Route[] {
  return [
    session('GET', '/api/v2/audit', (ctx, caller) => {
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
    }),
  ];
}
