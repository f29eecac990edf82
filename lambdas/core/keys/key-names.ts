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

/** True for a key named with `prefix`: a key this deployment created, when the prefix is its own. */
export const isManagedKeyName = (prefix: string, name: string): boolean =>
  name.toLowerCase().startsWith(`${prefix.toLowerCase()}-`);

/**
 * The prefix every deployment shared before prefixes were per deployment (issue 19). Two
 * deployments in one Coder organization each took the other's keys for their own and, at night
 * when the other pool had no connected daemon, deleted the other's current key.
 */
export const LEGACY_MANAGED_PREFIX = 'cfc-rot';

/**
 * A deployment's own prefix when the config sets none: `cfc-` and the first 8 hex digits of the
 * SHA-256 of the key secret's ARN. The ARN holds the secret's name with the random suffix Secrets
 * Manager adds, its account and its region, so no two deployments share it (staging and production
 * in one Coder organization included, whatever their stacks are called), and it never changes while
 * the secret lives. Lower-case and 12 characters, well within MAX_PREFIX_LENGTH.
 */
export const deploymentKeyPrefix = (secretArn: string): string =>
  `cfc-${createHash('sha256').update(secretArn).digest('hex').slice(0, 8)}`;

/** The prefix a deployment creates keys with: the configured one, else its own (deploymentKeyPrefix). */
export const resolveManagedPrefix = (configured: string | undefined, secretArn: string): string =>
  configured ?? deploymentKeyPrefix(secretArn);

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

/**
 * The names this deployment's rotation with this token may have created: under its prefix, and
 * under the legacy shared one for a rotation that began before an upgrade changed the default.
 * The token is this secret's own version id, so no other deployment's key has these names.
 */
export const ownRotationKeyNames = (prefix: string, clientRequestToken: string): string[] =>
  prefix === LEGACY_MANAGED_PREFIX
    ? rotationKeyNames(prefix, clientRequestToken)
    : [
        ...rotationKeyNames(prefix, clientRequestToken),
        ...rotationKeyNames(LEGACY_MANAGED_PREFIX, clientRequestToken),
      ];
