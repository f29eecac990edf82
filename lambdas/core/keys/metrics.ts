import { isManagedKeyName } from './key-names.js';
import { type KeyRoles, keyUsage } from './planner.js';
import type { ProvisionerDaemonRecord, ProvisionerKeyRecord } from './ports.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export type KeyRole = 'current' | 'previous' | 'pending' | 'other';

export interface KeyStatus {
  readonly name: string;
  readonly role: KeyRole;
  readonly managed: boolean;
  readonly createdAt: string;
  readonly ageDays: number;
  readonly connectedDaemons: readonly string[];
  readonly lastUsedAt: string | undefined;
}

export interface KeyHealthFigures {
  /** Age of AWSCURRENT's key in days; undefined before the first rotation. */
  readonly currentKeyAgeDays: number | undefined;
  /** Daemons connected with the previous key or another managed, non-current key. */
  readonly daemonsOnNonCurrentKey: number;
  /** Hours since the current key took over, while any daemon is still on a non-current key; else 0. */
  readonly oldKeyInUseHours: number;
  readonly managedKeyCount: number;
  /** The current key is not in Coder's list (deleted by hand?): provisioners using the secret will fail. */
  readonly currentKeyMissing: boolean;
  readonly keys: readonly KeyStatus[];
}

const round = (value: number): number => Math.round(value * 100) / 100;
const same = (a: string | undefined, b: string): boolean =>
  a !== undefined && a.toLowerCase() === b.toLowerCase();

/** The figures the daily check publishes and the status call returns; pure. */
export const summarizeKeyHealth = (
  keys: readonly ProvisionerKeyRecord[],
  daemons: readonly ProvisionerDaemonRecord[],
  roles: KeyRoles,
  now: Date,
  managedPrefix: string,
): KeyHealthFigures => {
  const roleOf = (name: string): KeyRole => {
    if (same(roles.current?.keyName, name)) return 'current';
    if (same(roles.previous, name)) return 'previous';
    if (roles.pending.some((p) => same(p, name))) return 'pending';
    return 'other';
  };
  const statuses = keys.map((key): KeyStatus => {
    const usage = keyUsage(key.name, daemons);
    return {
      name: key.name,
      role: roleOf(key.name),
      managed: isManagedKeyName(managedPrefix, key.name),
      createdAt: key.createdAt.toISOString(),
      ageDays: round((now.getTime() - key.createdAt.getTime()) / DAY_MS),
      connectedDaemons: daemons.filter((d) => d.connected && same(d.keyName, key.name)).map((d) => d.name),
      lastUsedAt: usage.lastSeenAt?.toISOString(),
    };
  });
  const onOldKey = statuses
    .filter((s) => s.role === 'previous' || (s.role === 'other' && s.managed))
    .reduce((sum, s) => sum + s.connectedDaemons.length, 0);
  const current = roles.current;
  return {
    currentKeyAgeDays: current ? round((now.getTime() - current.createdAt.getTime()) / DAY_MS) : undefined,
    daemonsOnNonCurrentKey: onOldKey,
    oldKeyInUseHours:
      onOldKey > 0 && current ? round(Math.max(0, now.getTime() - current.createdAt.getTime()) / HOUR_MS) : 0,
    managedKeyCount: statuses.filter((s) => s.managed).length,
    currentKeyMissing: current !== undefined && !statuses.some((s) => s.role === 'current'),
    keys: statuses,
  };
};

/** Names of the metrics the key-health check publishes (namespace `CoderFleetController`, dimension `service`). */
export const KEY_HEALTH_METRICS = {
  currentKeyAgeDays: 'ProvisionerKeyAgeDays',
  daemonsOnNonCurrentKey: 'DaemonsOnNonCurrentKey',
  oldKeyInUseHours: 'OldKeyInUseHours',
  managedKeyCount: 'ManagedProvisionerKeys',
  keysDeleted: 'ProvisionerKeysDeleted',
  currentKeyMissing: 'CurrentProvisionerKeyMissing',
} as const;
