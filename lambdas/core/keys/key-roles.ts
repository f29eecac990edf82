import { ownRotationKeyNames } from './key-names.js';
import type { KeyRoles } from './planner.js';
import { AWSCURRENT, AWSPREVIOUS, type SecretDescription, type SecretVersionStore } from './ports.js';
import { pendingVersionIds, RotationError } from './rotation-gate.js';
import { type CurrentSecret, parseCurrentSecret } from './secret.js';

export interface SecretKeyRoles {
  readonly organization: string;
  readonly current: CurrentSecret;
  readonly roles: KeyRoles;
}

/** Reads which key is current, previous and pending from the secret's versions. */
export const loadKeyRoles = async (
  secrets: SecretVersionStore,
  description: SecretDescription,
  managedPrefix: string,
): Promise<SecretKeyRoles> => {
  const secretId = description.arn;
  const currentRaw = await secrets.getValue(secretId, { stage: AWSCURRENT });
  if (currentRaw === undefined) {
    throw new RotationError(
      `Secret ${description.name} has no AWSCURRENT value; restore one before rotating.`,
    );
  }
  const current = parseCurrentSecret(currentRaw, `Secret ${description.name} (AWSCURRENT)`);
  const hasPrevious = Object.values(description.versionStages).some((s) => s.includes(AWSPREVIOUS));
  const previousRaw = hasPrevious ? await secrets.getValue(secretId, { stage: AWSPREVIOUS }) : undefined;
  const previous =
    previousRaw === undefined
      ? undefined
      : parseCurrentSecret(previousRaw, `Secret ${description.name} (AWSPREVIOUS)`);
  return {
    organization: current.value.organization,
    current,
    roles: {
      current:
        current.kind === 'key'
          ? { keyName: current.value.keyName, createdAt: new Date(current.value.createdAt) }
          : undefined,
      previous: previous?.kind === 'key' ? previous.value.keyName : undefined,
      pending: pendingVersionIds(description).flatMap((token) => ownRotationKeyNames(managedPrefix, token)),
    },
  };
};
