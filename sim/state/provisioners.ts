/** Provisioner keys and the daemons connected with them. */
import { isoNow, type SimTime, WALL_TIME } from '../clock.js';
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
import { mutateTags, UNTAGGED } from '../provisioning/tags.js';
import type { DaemonPoolSpec, SimulatorSeeder } from '../types.js';
import type { Directory } from './directory.js';
import { parseProvisionerKeyInput } from './provisioner-key-rules.js';

export class ProvisionerRegistry {
  readonly keys = new Map<string, SimProvisionerKey>();
  readonly daemons = new Map<string, SimProvisionerDaemon>();

  /** Daemons started for each pool so far, to name the next one. */
  private readonly poolCounters = new Map<string, number>();

  constructor(
    private readonly directory: Directory,
    private readonly time: SimTime = WALL_TIME,
  ) {}

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
      createdAt: isoNow(this.time),
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
    const now = isoNow(this.time);
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

  /** Running daemons of a pool. */
  liveDaemons(pool?: string): SimProvisionerDaemon[] {
    return [...this.daemons.values()].filter(
      (d) => d.live === true && (pool === undefined || d.pool === pool),
    );
  }

  /**
   * Starts or stops daemons until `spec.count` of the pool run (a provisioner node group scaled up
   * or down). New daemons are new rows with new ids, as new pods are. A stopped daemon keeps its row
   * with its last heartbeat, so it is listed as offline once that is older than the stale interval.
   * A busy one is only marked draining: it finishes its job first (provisionerd's graceful
   * `Shutdown`), then stops. Returns the daemons started.
   */
  setPool(spec: DaemonPoolSpec): SimProvisionerDaemon[] {
    if (!Number.isInteger(spec.count) || spec.count < 0) {
      throw new Error(`pool ${spec.name}: count must be a whole number >= 0, got ${spec.count}`);
    }
    const running = this.liveDaemons(spec.name).filter((d) => d.draining !== true);
    const started: SimProvisionerDaemon[] = [];
    for (let n = running.length; n < spec.count; n++) started.push(this.startPoolDaemon(spec));
    // The newest go first, as a scale-down usually removes the youngest pods.
    for (const d of running.slice(spec.count).reverse()) {
      if (d.currentJobId === undefined) this.stopDaemon(d);
      else d.draining = true;
    }
    return started;
  }

  /**
   * coderd's built-in provisioner daemons: cli/server.go starts `CODER_PROVISIONER_DAEMONS` of them
   * (3 by default), each named `<hostname>-<i>` from 0 (the simulator's hostname is `coderd`),
   * untagged, under the reserved built-in key (codersdk/provisionerdaemons.go,
   * ProvisionerKeyIDBuiltIn), connected while coderd runs. In timer mode they stand for the
   * provisioners that run every build (however many are queued); they take no part in the queue
   * model (`provisioners` option), whose pools replace them.
   */
  startBuiltIn(orgId: string, count: number): void {
    const builtIn = RESERVED_KEYS.find((k) => k.name === 'built-in');
    if (builtIn === undefined) throw new Error('the reserved built-in provisioner key is missing');
    const now = isoNow(this.time);
    for (let i = 0; i < count; i++) {
      const id = `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
      this.daemons.set(id, {
        id,
        orgId,
        name: `coderd-${i}`,
        keyId: builtIn.id,
        keyName: 'built-in',
        tags: { scope: 'organization', owner: '' },
        createdAt: now,
        lastSeenAt: now,
        status: 'idle',
        live: true,
      });
    }
  }

  /** A pool daemon stops: no more heartbeats, no more jobs. */
  stopDaemon(d: SimProvisionerDaemon): void {
    d.live = false;
    d.draining = false;
    d.lastSeenAt = isoNow(this.time);
  }

  /** Running daemons heartbeat; their `last_seen_at` is now. */
  heartbeat(): void {
    const now = isoNow(this.time);
    for (const d of this.daemons.values()) if (d.live === true) d.lastSeenAt = now;
  }

  private startPoolDaemon(spec: DaemonPoolSpec): SimProvisionerDaemon {
    const org = this.directory.orgOrDefault(spec.organization);
    const n = (this.poolCounters.get(spec.name) ?? 0) + 1;
    this.poolCounters.set(spec.name, n);
    const key = spec.keyName === undefined ? undefined : this.keyByName(org.id, spec.keyName);
    if (spec.keyName !== undefined && key === undefined) {
      throw new Error(`pool ${spec.name}: unknown provisioner key ${spec.keyName}`);
    }
    const psk = RESERVED_KEYS.find((k) => k.name === 'psk');
    const now = isoNow(this.time);
    // A daemon started with a key gets the key's tags; one started with the PSK sets its own
    // (`coder provisioner start --tag`), passed through MutateTags (enterprise/coderd/provisionerdaemons.go).
    const tags =
      key !== undefined
        ? Object.keys(key.tags).length > 0
          ? mutateTags('', key.tags)
          : { ...UNTAGGED }
        : mutateTags('', spec.tags ?? {});
    const daemon: SimProvisionerDaemon = {
      id: newId(),
      orgId: org.id,
      name: `${spec.name}-${n}`,
      keyId: key?.id ?? psk?.id ?? '',
      keyName: key?.name ?? psk?.name ?? 'psk',
      tags,
      createdAt: now,
      lastSeenAt: now,
      status: 'idle',
      pool: spec.name,
      live: true,
    };
    this.daemons.set(daemon.id, daemon);
    return daemon;
  }
}
