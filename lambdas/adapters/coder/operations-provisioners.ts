/** Provisioner keys and the daemons using them, for CoderClient. */
import { CODER_ROUTES, PROVISIONER_KEY_PATH_PLACEHOLDER } from './routes.js';
import type { CoderTransport, MutationOptions, ReadOptions } from './transport.js';
import {
  type CreateProvisionerKeyRequest,
  type CreateProvisionerKeyResponse,
  createProvisionerKeyResponseSchema,
  type ProvisionerDaemon,
  type ProvisionerJob,
  type ProvisionerJobStatus,
  type ProvisionerKey,
  type ProvisionerKeyDaemons,
  provisionerDaemonSchema,
  provisionerJobSchema,
  provisionerKeyDaemonsSchema,
  provisionerKeySchema,
} from './types.js';

export interface ListProvisionerDaemonsOptions extends ReadOptions {
  /**
   * Include daemons not seen in the last 90 seconds. Since coder/coder#19378 Coder returns only
   * online ones by default; before it, offline ones always, and `offline` is a 400.
   */
  offline?: boolean;
  limit?: number;
}

export interface ListProvisionerJobsOptions extends ReadOptions {
  /** Any of these statuses (Coder: `status=a,b`). @default every status */
  status?: readonly ProvisionerJobStatus[];
  /** Coder's default is 50; newest first. */
  limit?: number;
  ids?: readonly string[];
  /** Jobs whose tags include all of these. */
  tags?: Readonly<Record<string, string>>;
  /**
   * Only jobs this user (id) initiated. Releases before coder/coder#20137 answer 400 to it: check
   * `capabilities.provisionerJobsInitiatorFilter` first (the client does not drop it silently,
   * because without it the answer means something else).
   */
  initiator?: string;
}

export const listProvisionerKeys = (
  transport: CoderTransport,
  organization: string,
  options: ReadOptions,
): Promise<ProvisionerKey[]> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.provisionerKeys,
    params: { organization },
    schema: provisionerKeySchema.array(),
    signal: options.signal,
    deadline: options.deadline,
  });

export const createProvisionerKey = (
  transport: CoderTransport,
  organization: string,
  request: CreateProvisionerKeyRequest,
  options: MutationOptions,
): Promise<CreateProvisionerKeyResponse> =>
  transport.call({
    method: 'POST',
    route: CODER_ROUTES.provisionerKeys,
    params: { organization },
    body: { name: request.name, tags: request.tags ?? {} },
    schema: createProvisionerKeyResponseSchema,
    isCreate: true,
    safeToRepeat: options.idempotent,
    wording: { subject: `provisioner key "${request.name}" in organization "${organization}"` },
    signal: options.signal,
    deadline: options.deadline,
  });

export const deleteProvisionerKey = async (
  transport: CoderTransport,
  organization: string,
  name: string,
  options: ReadOptions,
): Promise<void> => {
  await transport.call({
    method: 'DELETE',
    route: CODER_ROUTES.provisionerKey,
    params: { organization, provisionerkey: name },
    safeToRepeat: true,
    wording: {
      subject: `provisioner key "${name}" in organization "${organization}"`,
      notFound: `provisioner key "${name}" not found in organization "${organization}"`,
    },
    signal: options.signal,
    deadline: options.deadline,
  });
};

export const listProvisionerKeyDaemons = (
  transport: CoderTransport,
  organization: string,
  options: ReadOptions,
): Promise<ProvisionerKeyDaemons[]> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.provisionerKeyDaemons,
    params: { organization },
    schema: provisionerKeyDaemonsSchema.array(),
    signal: options.signal,
    deadline: options.deadline,
  });

export const getProvisionerKeyDetails = (
  transport: CoderTransport,
  key: string,
  options: ReadOptions,
): Promise<ProvisionerKey> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.provisionerKeyDetails,
    params: { provisionerkey: PROVISIONER_KEY_PATH_PLACEHOLDER },
    schema: provisionerKeySchema,
    // The key authenticates instead of the session token, which is not sent.
    authHeader: { name: 'Coder-Provisioner-Daemon-Key', value: key },
    wording: {
      subject: 'the provisioner key',
      unauthorized: 'Coder does not recognise this provisioner key: it was deleted or never existed',
    },
    signal: options.signal,
    deadline: options.deadline,
  });

/** `offlineFilter`: the release knows `offline` (coder/coder#19378); see capabilities.ts. */
export const listProvisionerDaemons = (
  transport: CoderTransport,
  organization: string,
  options: ListProvisionerDaemonsOptions,
  offlineFilter: boolean,
): Promise<ProvisionerDaemon[]> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.provisionerDaemons,
    params: { organization },
    query: { offline: options.offline && offlineFilter ? true : undefined, limit: options.limit },
    schema: provisionerDaemonSchema.array(),
    signal: options.signal,
    deadline: options.deadline,
  });

/** GET /organizations/{organization}/provisionerjobs: newest first, with each job's queue position. */
export const listProvisionerJobs = (
  transport: CoderTransport,
  organization: string,
  options: ListProvisionerJobsOptions,
): Promise<ProvisionerJob[]> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.provisionerJobs,
    params: { organization },
    query: {
      status: options.status && options.status.length > 0 ? options.status.join(',') : undefined,
      limit: options.limit,
      ids: options.ids && options.ids.length > 0 ? options.ids.join(',') : undefined,
      tags: options.tags ? JSON.stringify(options.tags) : undefined,
      initiator: options.initiator,
    },
    schema: provisionerJobSchema.array(),
    wording: {
      notFound: `organization "${organization}" not found, or the token's user may not read its provisioner jobs (owner, organization admin or template admin)`,
    },
    signal: options.signal,
    deadline: options.deadline,
  });
