import type { ChildRecord, FailureRecord, FamilyKey, LedgerState, ParentMissingRecord } from './model.js';
import type { FamilyLedger, FamilyLocks, RepeatingTask, Scheduler } from './ports.js';
import type { ProvisionerCapacitySource } from './provisioner-capacity.js';

const childKey = (owner: string, parent: string, index: number): string => `${owner}/${parent}#${index}`;
const famKey = (key: FamilyKey): string => `${key.owner}/${key.parent}`;

/** The ledger in memory, with the same conditional semantics as the DynamoDB one (tests, CLI demo). */
export class InMemoryFamilyLedger implements FamilyLedger {
  readonly children = new Map<string, ChildRecord>();
  readonly missing = new Map<string, ParentMissingRecord>();
  readonly failures = new Map<string, FailureRecord>();

  async loadAll(): Promise<LedgerState> {
    return {
      children: [...this.children.values()],
      missing: [...this.missing.values()],
      failures: [...this.failures.values()],
    };
  }

  async loadOwner(owner: string): Promise<LedgerState> {
    const all = await this.loadAll();
    const o = owner.toLowerCase();
    return {
      children: all.children.filter((c) => c.owner === o),
      missing: all.missing.filter((m) => m.owner === o),
      failures: all.failures.filter((f) => f.owner === o),
    };
  }

  async beginCreate(intent: ChildRecord, replacesChildId?: string): Promise<ChildRecord | undefined> {
    const key = childKey(intent.owner, intent.parent, intent.index);
    const existing = this.children.get(key);
    if (existing) {
      if (
        existing.state === 'intent' &&
        existing.childName.toLowerCase() === intent.childName.toLowerCase()
      ) {
        const kept = { ...intent, intentAt: existing.intentAt };
        this.children.set(key, kept);
        return kept;
      }
      if (
        !(
          existing.state === 'confirmed' &&
          replacesChildId !== undefined &&
          existing.childId === replacesChildId
        )
      ) {
        return undefined;
      }
    }
    this.children.set(key, { ...intent, state: 'intent', childId: undefined, createdAt: undefined });
    return this.children.get(key);
  }

  async confirmChild(key: FamilyKey, index: number, childId: string, at: number): Promise<void> {
    const k = childKey(key.owner, key.parent, index);
    const existing = this.children.get(k);
    if (!existing) throw new Error(`no ledger record for ${famKey(key)} child ${index}`);
    this.children.set(k, { ...existing, state: 'confirmed', childId, createdAt: at });
  }

  async forgetChild(key: FamilyKey, index: number, childId: string | undefined): Promise<void> {
    const k = childKey(key.owner, key.parent, index);
    const existing = this.children.get(k);
    if (!existing) return;
    const matches = childId === undefined ? existing.state === 'intent' : existing.childId === childId;
    if (matches) this.children.delete(k);
  }

  async setParentMissing(key: FamilyKey, since: number): Promise<void> {
    if (!this.missing.has(famKey(key))) this.missing.set(famKey(key), { ...key, since });
  }

  async clearParentMissing(key: FamilyKey): Promise<void> {
    this.missing.delete(famKey(key));
  }

  async recordFailure(
    key: FamilyKey,
    failure: { at: number; hard: boolean; parentBuildId: string | undefined; error: string },
  ): Promise<FailureRecord> {
    const previous = this.failures.get(famKey(key));
    const next: FailureRecord = {
      ...key,
      consecutive: (previous?.consecutive ?? 0) + 1,
      hard: (previous?.hard ?? 0) + (failure.hard ? 1 : 0),
      lastFailureAt: failure.at,
      parentBuildId: failure.parentBuildId,
      lastError: failure.error,
    };
    this.failures.set(famKey(key), next);
    return next;
  }

  async clearFailures(key: FamilyKey): Promise<void> {
    this.failures.delete(famKey(key));
  }
}

/** Family locks in memory: a lease per key with an owner token. */
export class InMemoryFamilyLocks implements FamilyLocks {
  private readonly leases = new Map<string, { holder: string; expiresAt: number }>();

  async tryAcquire(key: string, holder: string, leaseMs: number, now: number): Promise<boolean> {
    const lease = this.leases.get(key);
    if (lease && lease.holder !== holder && lease.expiresAt > now) return false;
    this.leases.set(key, { holder, expiresAt: now + leaseMs });
    return true;
  }

  async renew(key: string, holder: string, leaseMs: number, now: number): Promise<boolean> {
    const lease = this.leases.get(key);
    if (!lease || lease.holder !== holder) return false;
    this.leases.set(key, { holder, expiresAt: now + leaseMs });
    return true;
  }

  async release(key: string, holder: string): Promise<void> {
    if (this.leases.get(key)?.holder === holder) this.leases.delete(key);
  }

  async supersede(key: string, holder: string, leaseMs: number, now: number): Promise<void> {
    this.leases.set(key, { holder, expiresAt: now + leaseMs });
  }

  async isHeld(key: string, now: number): Promise<boolean> {
    const lease = this.leases.get(key);
    return lease !== undefined && lease.expiresAt > now;
  }

  /** The holder of `key`'s lease, if any (tests). */
  holderOf(key: string): string | undefined {
    return this.leases.get(key)?.holder;
  }
}

/**
 * Repeating tasks that run only when a test says so (`tick`), so lock renewal is deterministic.
 * `stop` waits for a task already running, as the real scheduler does.
 */
export class ManualScheduler implements Scheduler {
  private readonly tasks = new Set<{ task: () => Promise<void>; running?: Promise<void> }>();

  every(_intervalMs: number, task: () => Promise<void>): RepeatingTask {
    const entry: { task: () => Promise<void>; running?: Promise<void> } = { task };
    this.tasks.add(entry);
    return {
      stop: async () => {
        this.tasks.delete(entry);
        await entry.running;
      },
    };
  }

  /** Runs every live task once and waits for them. */
  async tick(): Promise<void> {
    await Promise.all(
      [...this.tasks].map((entry) => {
        entry.running = entry.task().finally(() => {
          entry.running = undefined;
        });
        return entry.running;
      }),
    );
  }

  get active(): number {
    return this.tasks.size;
  }
}

/**
 * Provisioners that never limit the controller (tests and the in-memory demo): many idle daemons
 * that take every template's jobs; the controller's own jobs are counted from the snapshot.
 */
export const ampleProvisioners = (daemons = 1_000_000): ProvisionerCapacitySource => ({
  read: async () => ({
    observedAt: 0,
    onlineDaemons: daemons,
    busyDaemons: 0,
    templates: [],
    controllerJobs: undefined,
    queued: 0,
    othersOldestPendingMs: undefined,
    oldestPendingMs: undefined,
    queueSampled: false,
  }),
});
