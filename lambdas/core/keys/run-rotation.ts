import { type Deadline, NO_DEADLINE, type RunCall } from '../contracts/deadline.js';
import type { LogSink } from '../contracts/log-sink.js';
import type { RotationEvent, RotationStep } from './events.js';
import { executePrune } from './executor.js';
import {
  attemptKeyName,
  MAX_KEY_NAME_ATTEMPTS,
  managedKeyName,
  ownRotationKeyNames,
  resolveManagedPrefix,
} from './key-names.js';
import { loadKeyRoles } from './key-roles.js';
import { type PruneAction, planKeyPrune } from './planner.js';
import {
  AWSCURRENT,
  AWSPENDING,
  type ProvisionerKeyDirectory,
  type SecretDescription,
  type SecretVersionStore,
} from './ports.js';
import { checkRotationEvent, RotationError } from './rotation-gate.js';
import {
  type ProvisionerKeySecret,
  parseCurrentSecret,
  parseKeySecret,
  serializeKeySecret,
} from './secret.js';

export interface RotationDeps {
  readonly secrets: SecretVersionStore;
  readonly keys: ProvisionerKeyDirectory;
  readonly log: LogSink;
  readonly now: () => Date;
  /** The configured prefix; undefined: the deployment's own, from the secret's ARN (deploymentKeyPrefix). */
  readonly managedPrefix: string | undefined;
}

export interface RotationStepReport {
  readonly step: RotationStep;
  readonly outcome:
    | 'already_current'
    | 'pending_exists'
    | 'pending_created'
    | 'nothing_to_set'
    | 'tested'
    | 'promoted'
    | 'pruned';
  readonly reason: string;
  readonly keyName?: string;
  readonly prune?: readonly PruneAction[];
}

/**
 * The four steps of a Secrets Manager rotation for a Coder provisioner key. Each step can run
 * again with the same token (Secrets Manager retries a failed rotation with it) and converges.
 */
export class ProvisionerKeyRotationSteps {
  constructor(private readonly deps: RotationDeps) {}

  /**
   * `deadline`: the time the step has (a Lambda's remaining time minus a margin). Every Coder call
   * stops at it and throws (`kind: 'deadline'`) rather than wait past it: the step fails and
   * Secrets Manager runs it again, which converges.
   */
  async run(
    event: RotationEvent,
    options: { deadline?: Deadline | undefined } = {},
  ): Promise<RotationStepReport> {
    const { secrets, log } = this.deps;
    const call: RunCall = { deadline: options.deadline ?? NO_DEADLINE };
    const description = await secrets.describe(event.SecretId);
    const prefix = resolveManagedPrefix(this.deps.managedPrefix, description.arn);
    const gate = checkRotationEvent(description, event.ClientRequestToken);
    if (gate.kind === 'already_current') {
      // A finishSecret that moved the stage and then died left its prune undone; finish it.
      if (event.Step === 'finishSecret')
        return this.prune(description, prefix, 'already_current', gate.reason, call);
      log.info('Nothing to do', { step: event.Step, reason: gate.reason });
      return { step: event.Step, outcome: 'already_current', reason: gate.reason };
    }
    switch (event.Step) {
      case 'createSecret':
        return this.createSecret(description, prefix, event.ClientRequestToken, call);
      case 'setSecret': {
        const reason =
          'a Coder provisioner key is live as soon as it is created; there is nothing to push to Coder';
        log.info('setSecret: nothing to set', { reason });
        return { step: 'setSecret', outcome: 'nothing_to_set', reason };
      }
      case 'testSecret':
        return this.testSecret(description, prefix, event.ClientRequestToken, call);
      case 'finishSecret':
        return this.finishSecret(description, prefix, event.ClientRequestToken, gate.currentVersionId, call);
      default: {
        const unreachable: never = event.Step;
        throw new RotationError(`unknown rotation step ${String(unreachable)}`);
      }
    }
  }

  private async createSecret(
    description: SecretDescription,
    prefix: string,
    token: string,
    call: RunCall,
  ): Promise<RotationStepReport> {
    const { secrets, keys, log, now } = this.deps;
    const secretId = description.arn;
    const keyName = managedKeyName(prefix, token);
    const existing = await secrets.getValue(secretId, { versionId: token, stage: AWSPENDING });
    if (existing !== undefined) {
      const reason = `version ${token} already holds a pending key`;
      log.info('createSecret: pending value exists', { keyName, reason });
      return { step: 'createSecret', outcome: 'pending_exists', reason, keyName };
    }
    const currentRaw = await secrets.getValue(secretId, { stage: AWSCURRENT });
    if (currentRaw === undefined) {
      throw new RotationError(
        `Secret ${description.name} has no AWSCURRENT value to copy organization and tags from.`,
      );
    }
    const current = parseCurrentSecret(currentRaw, `Secret ${description.name} (AWSCURRENT)`);
    const { organization, tags } = current.value;

    const created = await this.createUnusedKey(
      organization,
      keyName,
      tags,
      async () => secrets.getValue(secretId, { versionId: token, stage: AWSPENDING }),
      call,
    );
    if (created.outcome === 'pending_exists') {
      const reason = `version ${token} already holds a pending key (stored by a concurrent createSecret)`;
      log.info('createSecret: pending value exists', { keyName, reason });
      return { step: 'createSecret', outcome: 'pending_exists', reason, keyName };
    }
    const value: ProvisionerKeySecret = {
      organization,
      keyName: created.name,
      key: created.key,
      tags: { ...tags },
      createdAt: now().toISOString(),
    };
    const serialized = serializeKeySecret(value);
    try {
      await secrets.putPending(secretId, token, serialized);
    } catch (error) {
      // A concurrent createSecret stored its own key under this version first (Secrets Manager
      // refuses a second value for one ClientRequestToken): theirs stands, ours is deleted.
      const stored = await secrets.getValue(secretId, { versionId: token, stage: AWSPENDING });
      if (stored === undefined || stored === serialized) throw error;
      await keys.deleteKey(organization, created.name, call);
      const reason = `version ${token} already holds a pending key (stored by a concurrent createSecret); deleted the duplicate "${created.name}"`;
      log.info('createSecret: pending value exists', { keyName: created.name, reason });
      return { step: 'createSecret', outcome: 'pending_exists', reason, keyName: created.name };
    }
    const reason = `created Coder provisioner key "${created.name}" and stored it as AWSPENDING`;
    log.info('createSecret: pending key stored', { keyName: created.name, organization, tags });
    return { step: 'createSecret', outcome: 'pending_created', reason, keyName: created.name };
  }

  /**
   * Creates the rotation's key under its name, or the next free attempt name (`<name>-2`, …) when
   * the name is taken. A taken name is never deleted here: it belongs either to a crashed attempt
   * (its plaintext lost; the prune in finishSecret deletes it as a managed key that is neither
   * current nor previous) or to a concurrent createSecret that may be storing it right now, and
   * deleting that would leave AWSPENDING holding a key Coder no longer accepts.
   */
  private async createUnusedKey(
    organization: string,
    keyName: string,
    tags: Readonly<Record<string, string>>,
    pending: () => Promise<string | undefined>,
    call: RunCall,
  ): Promise<{ outcome: 'created'; name: string; key: string } | { outcome: 'pending_exists' }> {
    const { keys, log } = this.deps;
    for (let attempt = 1; attempt <= MAX_KEY_NAME_ATTEMPTS; attempt += 1) {
      const name = attemptKeyName(keyName, attempt);
      const created = await keys.createKey(organization, { name, tags }, call);
      if (created.outcome === 'created') return { outcome: 'created', name, key: created.key };
      if ((await pending()) !== undefined) return { outcome: 'pending_exists' };
      log.warn('createSecret: key name taken by an earlier or concurrent attempt; trying the next name', {
        keyName: name,
      });
    }
    throw new RotationError(
      `Coder reports provisioner keys "${keyName}" to "${attemptKeyName(keyName, MAX_KEY_NAME_ATTEMPTS)}" as existing; is another rotation running?`,
    );
  }

  private async testSecret(
    description: SecretDescription,
    prefix: string,
    token: string,
    call: RunCall,
  ): Promise<RotationStepReport> {
    const { secrets, keys, log } = this.deps;
    const raw = await secrets.getValue(description.arn, { versionId: token, stage: AWSPENDING });
    if (raw === undefined) {
      throw new RotationError(
        `Secret ${description.name} version ${token} has no pending value; run createSecret first.`,
      );
    }
    const pending = parseKeySecret(raw, `Secret ${description.name} version ${token}`);
    const names = ownRotationKeyNames(prefix, token);
    const expected = pending.keyName;
    if (!names.includes(expected)) {
      throw new RotationError(
        `Secret ${description.name} version ${token} names key "${expected}", expected "${names[0]}" (or an attempt name such as "${names[1]}").`,
      );
    }
    const identity = await keys.identifyKey(pending.key, call);
    if (!identity) {
      throw new RotationError(
        `Coder does not accept the pending provisioner key "${expected}" (401); AWSCURRENT is unchanged. Was the key deleted in Coder?`,
      );
    }
    if (identity.name.toLowerCase() !== expected.toLowerCase()) {
      throw new RotationError(
        `The pending key authenticates as provisioner key "${identity.name}", expected "${expected}"; AWSCURRENT is unchanged.`,
      );
    }
    log.info('testSecret: pending key authenticates', { keyName: identity.name });
    return {
      step: 'testSecret',
      outcome: 'tested',
      reason: `Coder authenticates the pending key as "${identity.name}"`,
      keyName: identity.name,
    };
  }

  private async finishSecret(
    description: SecretDescription,
    prefix: string,
    token: string,
    currentVersionId: string | undefined,
    call: RunCall,
  ): Promise<RotationStepReport> {
    const { secrets, log } = this.deps;
    await secrets.promote(description.arn, token, currentVersionId);
    log.info('finishSecret: AWSCURRENT moved', { versionId: token, previousVersionId: currentVersionId });
    const moved = await secrets.describe(description.arn);
    return this.prune(moved, prefix, 'promoted', `version ${token} is now AWSCURRENT`, call);
  }

  private async prune(
    description: SecretDescription,
    prefix: string,
    outcome: 'promoted' | 'already_current',
    why: string,
    call: RunCall,
  ): Promise<RotationStepReport> {
    const { secrets, keys, log, now } = this.deps;
    const { organization, roles } = await loadKeyRoles(secrets, description, prefix);
    const [keyList, daemons] = await Promise.all([
      keys.listKeys(organization, call),
      keys.listDaemons(organization, call),
    ]);
    const actions = planKeyPrune(keyList, daemons, roles, now(), {
      managedPrefix: prefix,
      // Here only keys no daemon was ever seen with go (a crashed attempt's); the rest wait for the
      // daily check, which knows the configured grace.
      lastSeenGraceMs: Number.POSITIVE_INFINITY,
      keepPrevious: true,
    });
    await executePrune(keys, organization, actions, log, call);
    return {
      step: 'finishSecret',
      outcome: outcome === 'promoted' ? 'promoted' : 'pruned',
      reason: `${why}; pruned old keys`,
      ...(roles.current ? { keyName: roles.current.keyName } : {}),
      prune: actions,
    };
  }
}
