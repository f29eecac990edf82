/** Provisioner keys and the daemons using them, for CoderClient. */
import { CODER_ROUTES, PROVISIONER_KEY_PATH_PLACEHOLDER } from './routes.js';
import type { CoderTransport, MutationOptions, ReadOptions } from './transport.js';
import {
  type CreateProvisionerKeyRequest,
  type CreateProvisionerKeyResponse,
  createProvisionerKeyResponseSchema,
  type ProvisionerDaemon,
  type ProvisionerKey,
  type ProvisionerKeyDaemons,
  provisionerDaemonSchema,
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
