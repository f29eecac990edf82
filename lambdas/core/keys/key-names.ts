import { createHash } from 'node:crypto';

/** Coder's limit on a provisioner key name (docs/coder-api.md §8). */
export const MAX_KEY_NAME_LENGTH = 64;
/** Names Coder reserves, compared case-insensitively. */
export const RESERVED_KEY_NAMES: readonly string[] = ['built-in', 'user-auth', 'psk'];

const SAFE_TOKEN = /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/;

/**
 * The Coder key name for a rotation: `<prefix>-<token>`, or `<prefix>-h<sha256 of token>` when the
 * token is too long or has characters we would rather not put in a name. Deterministic, so a
 * retried createSecret finds the key its crashed predecessor created; lower-cased, because Coder
 * compares names case-insensitively.
 */
export const managedKeyName = (prefix: string, clientRequestToken: string): string => {
  const plain = `${prefix}-${clientRequestToken}`.toLowerCase();
  if (SAFE_TOKEN.test(clientRequestToken) && plain.length <= MAX_KEY_NAME_LENGTH) return plain;
  const room = MAX_KEY_NAME_LENGTH - prefix.length - 2;
  const digest = createHash('sha256').update(clientRequestToken).digest('hex');
  return `${prefix}-h${digest.slice(0, Math.min(room, digest.length))}`;
};

/** True for a key this controller created: only those are ever deleted. */
export const isManagedKeyName = (prefix: string, name: string): boolean =>
  name.toLowerCase().startsWith(`${prefix.toLowerCase()}-`);

/**
 * The name of a rotation's `attempt`-th key: the managed name itself first, then `<name>-<n>`,
 * shortened to stay within Coder's limit. Still a managed name, so the prune can delete it.
 */
export const attemptKeyName = (keyName: string, attempt: number): string => {
  if (attempt <= 1) return keyName;
  const suffix = `-${attempt}`;
  return `${keyName.slice(0, MAX_KEY_NAME_LENGTH - suffix.length).replace(/-+$/, '')}${suffix}`;
};

/** Names tried for one rotation's key before giving up: the managed name, then `<name>-2` … */
export const MAX_KEY_NAME_ATTEMPTS = 5;

/** Every name a rotation with this token may have given its key, the managed name first. */
export const rotationKeyNames = (prefix: string, clientRequestToken: string): string[] => {
  const base = managedKeyName(prefix, clientRequestToken);
  return Array.from({ length: MAX_KEY_NAME_ATTEMPTS }, (_, i) => attemptKeyName(base, i + 1));
};
