/**
 * What the rotation needs from Coder and from Secrets Manager, in its own words, so the core
 * depends on neither client. Adapters: `lambdas/adapters/coder/provisioner-keys.ts` and
 * `lambdas/adapters/aws/secret-versions.ts`.
 */
import type { RunCall } from '../contracts/deadline.js';

/** A provisioner key as Coder lists it: never with its secret. */
export interface ProvisionerKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly tags: Readonly<Record<string, string>>;
}

/** A provisioner daemon and the key it authenticated with. */
export interface ProvisionerDaemonRecord {
  readonly id: string;
  readonly name: string;
  /** Name of the key the daemon connected with; `user-auth` for user-token daemons, undefined for PSK ones. */
  readonly keyName: string | undefined;
  readonly lastSeenAt: Date | undefined;
  /** Listed by `/provisionerkeys/daemons`: seen within Coder's last 3 heartbeats. */
  readonly connected: boolean;
}

export type CreateKeyResult =
  | { readonly outcome: 'created'; readonly key: string }
  /** A key with that name already exists (Coder answers 409). */
  | { readonly outcome: 'name_taken' };

/**
 * Coder's provisioner keys and daemons. Every call carries the run's deadline; one out of time
 * throws an error with `kind: 'deadline'` (isDeadlineStop) instead of waiting past it.
 */
export interface ProvisionerKeyDirectory {
  listKeys(organization: string, call: RunCall): Promise<ProvisionerKeyRecord[]>;
  /** Every daemon of the organization, including offline ones (for their `last_seen_at`). */
  listDaemons(organization: string, call: RunCall): Promise<ProvisionerDaemonRecord[]>;
  createKey(
    organization: string,
    request: { name: string; tags: Readonly<Record<string, string>> },
    call: RunCall,
  ): Promise<CreateKeyResult>;
  deleteKey(organization: string, name: string, call: RunCall): Promise<'deleted' | 'not_found'>;
  /** The key Coder authenticates `key` as (sent in a header), or undefined when Coder does not know it. */
  identifyKey(
    key: string,
    call: RunCall,
  ): Promise<{ readonly id: string; readonly name: string } | undefined>;
}

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export interface SecretDescription {
  readonly arn: string;
  readonly name: string;
  readonly rotationEnabled: boolean;
  /** Version id → its staging labels, as DescribeSecret's `VersionIdsToStages`. */
  readonly versionStages: Readonly<Record<string, readonly string[]>>;
}

export type SecretVersionSelector =
  | { readonly stage: string }
  | { readonly versionId: string; readonly stage?: string };

export interface SecretVersionStore {
  describe(secretId: string): Promise<SecretDescription>;
  /** The version's SecretString, or undefined when that version (or stage on it) has no value. */
  getValue(secretId: string, selector: SecretVersionSelector): Promise<string | undefined>;
  /** PutSecretValue with `VersionStages: ['AWSPENDING']` and the rotation's token as ClientRequestToken. */
  putPending(secretId: string, clientRequestToken: string, secretString: string): Promise<void>;
  /** Moves AWSCURRENT to `toVersionId`; Secrets Manager moves AWSPREVIOUS to `fromVersionId` by itself. */
  promote(secretId: string, toVersionId: string, fromVersionId: string | undefined): Promise<void>;
}
