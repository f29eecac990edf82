/** Deployment-wide reads (build info, the token's user, organizations, the audit log), for CoderClient. */
import { CODER_ROUTES } from './routes.js';
import type { CoderTransport, ReadOptions } from './transport.js';
import {
  type AuditLogResponse,
  auditLogResponseSchema,
  type BuildInfo,
  buildInfoSchema,
  type Organization,
  organizationSchema,
  type User,
  userSchema,
} from './types.js';

export interface ListAuditLogsOptions extends ReadOptions {
  q?: string;
  /** @default 100 (the spec marks limit required; Coder turns 0 into 100) */
  limit?: number;
  offset?: number;
}

export const buildInfo = (transport: CoderTransport, options: ReadOptions): Promise<BuildInfo> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.buildInfo,
    schema: buildInfoSchema,
    signal: options.signal,
    deadline: options.deadline,
  });

export const me = (transport: CoderTransport, options: ReadOptions): Promise<User> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.user,
    params: { user: 'me' },
    schema: userSchema,
    signal: options.signal,
    deadline: options.deadline,
  });

export const organizations = (transport: CoderTransport, options: ReadOptions): Promise<Organization[]> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.organizations,
    schema: organizationSchema.array(),
    signal: options.signal,
    deadline: options.deadline,
  });

export const organization = (
  transport: CoderTransport,
  idOrName: string,
  options: ReadOptions,
): Promise<Organization> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.organization,
    params: { organization: idOrName },
    schema: organizationSchema,
    wording: { notFound: `organization "${idOrName}" not found (or not visible to the token's user)` },
    signal: options.signal,
    deadline: options.deadline,
  });

export const listAuditLogs = (
  transport: CoderTransport,
  options: ListAuditLogsOptions,
): Promise<AuditLogResponse> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.audit,
    query: { q: options.q || undefined, limit: options.limit ?? 100, offset: options.offset },
    schema: auditLogResponseSchema,
    wording: { subject: `audit log query ${JSON.stringify(options.q ?? '')}` },
    signal: options.signal,
    deadline: options.deadline,
  });
