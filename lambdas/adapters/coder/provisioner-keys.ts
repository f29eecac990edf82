import type { RunCall } from '../../core/contracts/deadline.js';
import type {
  CreateKeyResult,
  ProvisionerDaemonRecord,
  ProvisionerKeyDirectory,
  ProvisionerKeyRecord,
} from '../../core/keys/ports.js';
import type { CoderClient } from './client.js';
import { isCoderErrorKind } from './errors.js';

/** Coder returns at most this many daemons per call; an organization with more is not one we expect. */
const DAEMON_PAGE_LIMIT = 1000;

type KeyClient = Pick<
  CoderClient,
  | 'listProvisionerKeys'
  | 'createProvisionerKey'
  | 'deleteProvisionerKey'
  | 'listProvisionerKeyDaemons'
  | 'getProvisionerKeyDetails'
  | 'listProvisionerDaemons'
>;

/** The rotation's view of Coder's provisioner keys and daemons, over the Coder client. */
export class CoderProvisionerKeyDirectory implements ProvisionerKeyDirectory {
  constructor(private readonly client: KeyClient) {}

  async listKeys(organization: string, call: RunCall): Promise<ProvisionerKeyRecord[]> {
    const keys = await this.client.listProvisionerKeys(organization, { deadline: call.deadline });
    return keys.map((key) => ({
      id: key.id,
      name: key.name,
      createdAt: key.created_at ? new Date(key.created_at) : new Date(0),
      tags: key.tags ?? {},
    }));
  }

  /**
   * Joins the two views Coder offers: `/provisionerkeys/daemons` says who is connected now (seen
   * in the last 3 heartbeats) and with which key; `/provisionerdaemons?offline=true` says when
   * every daemon, connected or not, was last seen.
   */
  async listDaemons(organization: string, call: RunCall): Promise<ProvisionerDaemonRecord[]> {
    const { deadline } = call;
    const [perKey, all] = await Promise.all([
      this.client.listProvisionerKeyDaemons(organization, { deadline }),
      this.client.listProvisionerDaemons(organization, { offline: true, limit: DAEMON_PAGE_LIMIT, deadline }),
    ]);
    const connected = new Map<string, string>();
    for (const entry of perKey) {
      for (const daemon of entry.daemons ?? []) connected.set(daemon.id, entry.key.name);
    }
    const records = new Map<string, ProvisionerDaemonRecord>();
    for (const daemon of all) {
      records.set(daemon.id, {
        id: daemon.id,
        name: daemon.name,
        keyName: connected.get(daemon.id) ?? daemon.key_name ?? undefined,
        lastSeenAt: daemon.last_seen_at ? new Date(daemon.last_seen_at) : undefined,
        connected: connected.has(daemon.id),
      });
    }
    for (const entry of perKey) {
      for (const daemon of entry.daemons ?? []) {
        if (records.has(daemon.id)) continue;
        records.set(daemon.id, {
          id: daemon.id,
          name: daemon.name,
          keyName: entry.key.name,
          lastSeenAt: daemon.last_seen_at ? new Date(daemon.last_seen_at) : undefined,
          connected: true,
        });
      }
    }
    return [...records.values()];
  }

  async createKey(
    organization: string,
    request: { name: string; tags: Readonly<Record<string, string>> },
    call: RunCall,
  ): Promise<CreateKeyResult> {
    try {
      // A retried create whose first attempt committed answers 409, which the rotation reconciles.
      const created = await this.client.createProvisionerKey(
        organization,
        { name: request.name, tags: { ...request.tags } },
        { idempotent: true, deadline: call.deadline },
      );
      return { outcome: 'created', key: created.key };
    } catch (error) {
      if (isCoderErrorKind(error, 'already_exists')) return { outcome: 'name_taken' };
      throw error;
    }
  }

  async deleteKey(organization: string, name: string, call: RunCall): Promise<'deleted' | 'not_found'> {
    try {
      await this.client.deleteProvisionerKey(organization, name, { deadline: call.deadline });
      return 'deleted';
    } catch (error) {
      if (isCoderErrorKind(error, 'not_found')) return 'not_found';
      throw error;
    }
  }

  async identifyKey(key: string, call: RunCall): Promise<{ id: string; name: string } | undefined> {
    try {
      const details = await this.client.getProvisionerKeyDetails(key, { deadline: call.deadline });
      return { id: details.id, name: details.name };
    } catch (error) {
      // 401: Coder does not know the key; 400: not a well-formed key. Either way it does not work.
      if (isCoderErrorKind(error, 'unauthorized', 'validation')) return undefined;
      throw error;
    }
  }
}
