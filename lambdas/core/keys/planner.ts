import { isManagedKeyName } from './key-names.js';
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
  /** Only keys named `<prefix>-…` were created by the controller; no other key is ever deleted. */
  readonly managedPrefix: string;
  /** The previous key goes once no daemon has used it for this long. */
  readonly previousKeyGraceMs: number;
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
 * Decides, for every key Coder lists, whether it stays or goes, and why. The rules, in order:
 * the current key and keys of a rotation in progress stay; keys the controller did not create stay;
 * a key any daemon is connected with stays; the previous key stays until no daemon has used it for
 * the grace period (always, at finishSecret); any other managed key is deleted.
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
    if (!isManagedKeyName(policy.managedPrefix, keyName)) {
      return {
        kind: 'keep',
        keyName,
        role: 'unmanaged',
        reason: isPrevious
          ? `it is the previous key but the controller did not create it (no "${policy.managedPrefix}-" prefix); delete it yourself once its daemons have moved`
          : `the controller did not create it (no "${policy.managedPrefix}-" prefix)`,
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
      if (idleMs < policy.previousKeyGraceMs) {
        return {
          kind: 'keep',
          keyName,
          role: 'previous',
          reason: `it is the previous key and has been unused for ${hours(idleMs)}, less than the ${hours(policy.previousKeyGraceMs)} grace period`,
        };
      }
      return {
        kind: 'delete',
        keyName,
        reason: `it is the previous key and no daemon has used it for ${Number.isFinite(idleMs) ? hours(idleMs) : 'ever'} (grace ${hours(policy.previousKeyGraceMs)})`,
      };
    }
    return {
      kind: 'delete',
      keyName,
      reason:
        'the controller created it and it is neither current, previous nor pending, and no daemon uses it',
    };
  });
