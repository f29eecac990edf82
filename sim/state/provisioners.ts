/** Provisioner keys and the daemons connected with them. */
import { CoderApiError, notFound } from '../errors.js';
import {
  isReservedKeyName,
  newId,
  newProvisionerKeySecret,
  RESERVED_KEYS,
  type SimOrganization,
  type SimProvisionerDaemon,
  type SimProvisionerKey,
} from '../model.js';
import type { SimulatorSeeder } from '../types.js';
import type { Directory } from './directory.js';
import { parseProvisionerKeyInput } from './provisioner-key-rules.js';

export class ProvisionerRegistry {
  readonly keys = new Map<string, SimProvisionerKey>();
  readonly daemons = new Map<string, SimProvisionerDaemon>();

  constructor(private readonly directory: Directory) {}

  /** Key names are unique per organization, case-insensitively. */
  private keyByName(orgId: string, name: string): SimProvisionerKey | undefined {
    const lower = name.toLowerCase();
    return [...this.keys.values()].find((k) => k.orgId === orgId && k.name.toLowerCase() === lower);
  }

  keyBySecret(secret: string): SimProvisionerKey | undefined {
    for (const k of this.keys.values()) if (k.secret === secret) return k;
    return undefined;
  }

  addProvisionerKey(orgRef: string | undefined, name: unknown, tags: unknown): SimProvisionerKey {
    return this.createProvisionerKey(this.directory.orgOrDefault(orgRef), { name, tags });
  }

  createProvisionerKey(org: SimOrganization, input: { name?: unknown; tags?: unknown }): SimProvisionerKey {
    const { name, tags } = parseProvisionerKeyInput(input);
    if (this.keyByName(org.id, name) !== undefined) {
      throw new CoderApiError(409, `Provisioner key with name '${name}' already exists in organization`);
    }
    const key: SimProvisionerKey = {
      id: newId(),
      orgId: org.id,
      name,
      tags,
      secret: newProvisionerKeySecret(),
      createdAt: new Date().toISOString(),
    };
    this.keys.set(key.id, key);
    return key;
  }

  /** Deleting a key cuts off the daemons connected with it (Coder publishes a pubsub event). */
  deleteProvisionerKey(org: SimOrganization, name: string): void {
    if (isReservedKeyName(name)) throw new CoderApiError(400, 'Cannot delete reserved keys.');
    const key = this.keyByName(org.id, name);
    if (key === undefined) throw notFound();
    this.keys.delete(key.id);
    for (const [id, d] of this.daemons) if (d.keyId === key.id) this.daemons.delete(id);
  }

  addProvisionerDaemon(d: Parameters<SimulatorSeeder['provisionerDaemon']>[0]): SimProvisionerDaemon {
    const org = this.directory.orgOrDefault(d.organization);
    const reserved = RESERVED_KEYS.find((k) => k.name === d.keyName.toLowerCase());
    const key = this.keyByName(org.id, d.keyName);
    if (reserved === undefined && key === undefined) throw new Error(`unknown provisioner key ${d.keyName}`);
    const now = new Date().toISOString();
    const daemon: SimProvisionerDaemon = {
      id: newId(),
      orgId: org.id,
      name: d.name,
      keyId: key?.id ?? reserved?.id ?? '',
      keyName: key?.name ?? reserved?.name ?? d.keyName,
      // A daemon that connects with a key gets the key's tags and cannot add its own.
      tags:
        key !== undefined && Object.keys(key.tags).length > 0
          ? { ...key.tags }
          : { scope: 'organization', owner: '' },
      createdAt: now,
      lastSeenAt: d.lastSeenAt ?? now,
      status: d.status ?? 'idle',
    };
    this.daemons.set(daemon.id, daemon);
    return daemon;
  }

  removeProvisionerDaemon(name: string): void {
    for (const [id, d] of this.daemons) if (d.name === name) this.daemons.delete(id);
  }
}
