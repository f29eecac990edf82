import { AWSCURRENT, AWSPENDING, type SecretDescription } from './ports.js';

/** A rotation that cannot go on; the message says which secret and version, never a value. */
export class RotationError extends Error {
  override readonly name = 'RotationError';
}

export type RotationGate =
  | { readonly kind: 'proceed'; readonly currentVersionId: string | undefined; readonly reason: string }
  | { readonly kind: 'already_current'; readonly reason: string };

/**
 * The checks AWS's rotation template makes before every step: rotation is enabled, the token is a
 * version of this secret, and that version is AWSPENDING; a version that is already AWSCURRENT
 * means an earlier attempt finished, so there is nothing to rotate.
 */
export const checkRotationEvent = (secret: SecretDescription, token: string): RotationGate => {
  if (!secret.rotationEnabled) {
    throw new RotationError(
      `Secret ${secret.name} does not have rotation enabled; enable it before rotating.`,
    );
  }
  const stages = secret.versionStages[token];
  if (!stages) {
    throw new RotationError(`Secret ${secret.name} has no version ${token} to rotate to.`);
  }
  if (stages.includes(AWSCURRENT)) {
    return { kind: 'already_current', reason: `version ${token} is already AWSCURRENT` };
  }
  if (!stages.includes(AWSPENDING)) {
    throw new RotationError(
      `Secret ${secret.name} version ${token} is not AWSPENDING; it cannot be rotated to.`,
    );
  }
  const currentVersionId = Object.entries(secret.versionStages).find(([, s]) => s.includes(AWSCURRENT))?.[0];
  return { kind: 'proceed', currentVersionId, reason: `version ${token} is AWSPENDING` };
};

/** Versions of rotations in progress: AWSPENDING and not (yet) AWSCURRENT. */
export const pendingVersionIds = (secret: SecretDescription): string[] =>
  Object.entries(secret.versionStages)
    .filter(([, stages]) => stages.includes(AWSPENDING) && !stages.includes(AWSCURRENT))
    .map(([id]) => id);
