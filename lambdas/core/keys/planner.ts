import { isManagedKeyName, LEGACY_MANAGED_PREFIX } from './key-names.js';
import type { ProvisionerDaemonRecord, ProvisionerKeyRecord } from './ports.js';

/** Which key plays which part, read from the secret's versions. Names compare case-insensitively, as Coder's do. */
export interface KeyRoles {
  /** AWSCURRENT's key and when it was created (≈ when the previous key stopped being current); undefined before the first rotation. */
  readonly current: { readonly keyName: string; readonly createdAt: Date } | undefined;
  /** AWSPREVIOUS's key, when that version holds one. */
  readonly previous: string | undefined;
  /** Keys of rotations in progress (AWSPENDING on a version that is not AWSCURRENT), created or about to be. */
  readonly pending: readonly string[];
}

export interface PrunePolicy {
  /**
   * This deployment's prefix: only keys named `<prefix>-…` were created by it (and its previous
   * key under the legacy shared prefix, from before the upgrade); no other key is ever deleted.
   */
  readonly managedPrefix: string;
  /**
   * No key is deleted that a daemon used (`last_seen_at`, offline daemons included where the
   * release lists them) within this long; the previous key counts from when it stopped being
   * current too. Infinity keeps every key any daemon was ever seen with.
   */
  readonly lastSeenGraceMs: number;
  /**
   * finishSecret keeps the previous key whatever its daemons: they have had no chance to move yet.
   * The daily health check passes false.
   */
  readonly keepPrevious: boolean;
}

export type KeepRole = 'current' | 'pending' | 'previous' | 'unmanaged' | 'in_use';

export type PruneAction =
  | { readonly kind: 'delete'; readonly keyName: string; readonly reason: string }
  | { readonly kind: 'keep'; readonly keyName: string; readonly role: KeepRole; readonly reason: string };

const same = (a: string | undefined, b: string): boolean =>
  a !== undefined && a.toLowerCase() === b.toLowerCase();

const HOUR_MS = 3_600_000;
const hours = (ms: number): string => `${(ms / HOUR_MS).toFixed(1)}h`;

/** Daemons that connected with `keyName`, and the latest time any of them was seen. */
export const keyUsage = (
  keyName: string,
  daemons: readonly ProvisionerDaemonRecord[],
): { connected: number; lastSeenAt: Date | undefined } => {
  let connected = 0;
  let lastSeenAt: Date | undefined;
  for (const daemon of daemons) {
    if (!same(daemon.keyName, keyName)) continue;
    if (daemon.connected) connected += 1;
    if (daemon.lastSeenAt && (!lastSeenAt || daemon.lastSeenAt > lastSeenAt)) lastSeenAt = daemon.lastSeenAt;
  }
  return { connected, lastSeenAt };
};

/**
 * Whether this deployment created the key: it carries the deployment's prefix, or it is the
 * secret's own previous key under the legacy shared prefix (created by this deployment's rotation
 * before the default prefix became per deployment). Any other `cfc-rot-…` key may be another
 * deployment's, and is never deleted.
 */
const createdHere = (keyName: string, isPrevious: boolean, prefix: string): boolean =>
  isManagedKeyName(prefix, keyName) || (isPrevious && isManagedKeyName(LEGACY_MANAGED_PREFIX, keyName));

const notCreatedHere = (keyName: string, isPrevious: boolean, prefix: string): string => {
  if (isPrevious) {
    return `it is the previous key but this deployment did not create it (no "${prefix}-" prefix); delete it yourself once its daemons have moved`;
  }
  if (isManagedKeyName(LEGACY_MANAGED_PREFIX, keyName)) {
    return `it has the old shared prefix "${LEGACY_MANAGED_PREFIX}-" and is not this deployment's previous key: another deployment in this organization may use it; delete it yourself if none does`;
  }
  return `this deployment did not create it (no "${prefix}-" prefix)`;
};

/**
 * Decides, for every key Coder lists, whether it stays or goes, and why. The rules, in order:
 * the current key and keys of a rotation in progress stay; keys this deployment did not create
 * stay; a key any daemon is connected with stays; a key any daemon used within the last-seen grace
 * stays (the previous key counts from when it was superseded too, and stays whatever its daemons
 * at finishSecret); any other key this deployment created is deleted.
 */
export const planKeyPrune = (
  keys: readonly ProvisionerKeyRecord[],
  daemons: readonly ProvisionerDaemonRecord[],
  roles: KeyRoles,
  now: Date,
  policy: PrunePolicy,
): PruneAction[] =>
  keys.map((key): PruneAction => {
    const keyName = key.name;
    if (same(roles.current?.keyName, keyName)) {
      return { kind: 'keep', keyName, role: 'current', reason: 'it is the current key (AWSCURRENT)' };
    }
    if (roles.pending.some((name) => same(name, keyName))) {
      return {
        kind: 'keep',
        keyName,
        role: 'pending',
        reason: 'a rotation in progress created it (AWSPENDING)',
      };
    }
    const isPrevious = same(roles.previous, keyName);
    if (!createdHere(keyName, isPrevious, policy.managedPrefix)) {
      return {
        kind: 'keep',
        keyName,
        role: 'unmanaged',
        reason: notCreatedHere(keyName, isPrevious, policy.managedPrefix),
      };
    }
    const usage = keyUsage(keyName, daemons);
    if (usage.connected > 0) {
      return {
        kind: 'keep',
        keyName,
        role: isPrevious ? 'previous' : 'in_use',
        reason: `${usage.connected} daemon(s) are still connected with it`,
      };
    }
    const grace = policy.lastSeenGraceMs;
    const graceText = Number.isFinite(grace) ? hours(grace) : 'until the daily check';
    if (isPrevious) {
      if (policy.keepPrevious) {
        return {
          kind: 'keep',
          keyName,
          role: 'previous',
          reason: 'it is the previous key (AWSPREVIOUS); daemons are still moving to the new one',
        };
      }
      const supersededAt = roles.current?.createdAt;
      const idleSince = [usage.lastSeenAt, supersededAt]
        .filter((d): d is Date => d !== undefined)
        .reduce<Date | undefined>((latest, d) => (!latest || d > latest ? d : latest), undefined);
      const idleMs = idleSince ? now.getTime() - idleSince.getTime() : Number.POSITIVE_INFINITY;
      if (idleMs < grace) {
        return {
          kind: 'keep',
          keyName,
          role: 'previous',
          reason: `it is the previous key and has been unused for ${hours(idleMs)}, less than the ${graceText} grace period`,
        };
      }
      return {
        kind: 'delete',
        keyName,
        reason: `it is the previous key and no daemon has used it for ${Number.isFinite(idleMs) ? hours(idleMs) : 'ever'} (grace ${graceText})`,
      };
    }
    if (usage.lastSeenAt !== undefined) {
      const idleMs = now.getTime() - usage.lastSeenAt.getTime();
      if (idleMs < grace) {
        return {
          kind: 'keep',
          keyName,
          role: 'in_use',
          reason: `a daemon used it ${hours(Math.max(0, idleMs))} ago, within the ${graceText} last-seen grace (its pool may be scaled to 0)`,
        };
      }
    }
    return {
      kind: 'delete',
      keyName,
      reason:
        usage.lastSeenAt === undefined
          ? 'this deployment created it and it is neither current, previous nor pending, and no daemon has used it'
          : `this deployment created it and it is neither current, previous nor pending, and no daemon has used it for ${hours(now.getTime() - usage.lastSeenAt.getTime())} (grace ${graceText})`,
    };
  });
