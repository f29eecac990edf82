/** What a route handler gets and returns, and the request parsing every resource shares. */
import type { IncomingHttpHeaders } from 'node:http';
import { CoderApiError } from '../errors.js';
import type { SimUser } from '../model.js';
import type { SimProfile } from '../profiles/index.js';
import type { RequestMeta, SimState } from '../state.js';

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

type SessionHandler = (ctx: RequestContext, caller: SimUser) => Reply | Promise<Reply>;

/** A route that answers only callers with a valid session token. */
export function session(method: string, template: string, handle: SessionHandler): Route {
  return { method, template, auth: 'session', handle };
}

export interface RouteEnv {
  state: SimState;
  url(): string;
  /** The Coder release the routes behave as. */
  profile: SimProfile;
  /** CODER_ALLOW_WORKSPACE_RENAMES: `PATCH /workspaces/{workspace}` may change a name. */
  allowWorkspaceRenames: boolean;
}

const INT32_MAX = 2_147_483_647;

/** A `{name}` segment of the route's template. */
export function param(ctx: RequestContext, name: string): string {
  const v = ctx.params[name];
  if (v === undefined) throw new Error(`route has no {${name}} segment`);
  return v;
}

export function requestMeta(ctx: RequestContext): RequestMeta {
  return { requestId: ctx.requestId, userAgent: String(ctx.headers['user-agent'] ?? '') };
}

/** Coder's pagination parameters must be non-negative int32. */
export function queryInt(url: URL, name: string, fallback: number): number {
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

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

export function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new CoderApiError(400, 'Request body must be valid JSON.', { detail: 'expected a JSON object' });
  }
  return body as Record<string, unknown>;
}
