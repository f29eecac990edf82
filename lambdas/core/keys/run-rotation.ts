import type { LogSink } from '../contracts/log-sink.js';
import type { RotationEvent, RotationStep } from './events.js';
import { executePrune } from './executor.js';
import { managedKeyName } from './key-names.js';
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
  readonly managedPrefix: string;
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

  async run(event: RotationEvent): Promise<RotationStepReport> {
    const { secrets, log } = this.deps;
    const description = await secrets.describe(event.SecretId);
    const gate = checkRotationEvent(description, event.ClientRequestToken);
    if (gate.kind === 'already_current') {
      // A finishSecret that moved the stage and then died left its prune undone; finish it.
      if (event.Step === 'finishSecret') return this.prune(description, 'already_current', gate.reason);
      log.info('Nothing to do', { step: event.Step, reason: gate.reason });
      return { step: event.Step, outcome: 'already_current', reason: gate.reason };
    }
    switch (event.Step) {
      case 'createSecret':
        return this.createSecret(description, event.ClientRequestToken);
      case 'setSecret': {
        const reason =
          'a Coder provisioner key is live as soon as it is created; there is nothing to push to Coder';
        log.info('setSecret: nothing to set', { reason });
        return { step: 'setSecret', outcome: 'nothing_to_set', reason };
      }
      case 'testSecret':
        return this.testSecret(description, event.ClientRequestToken);
      case 'finishSecret':
        return this.finishSecret(description, event.ClientRequestToken, gate.currentVersionId);
      default: {
        const unreachable: never = event.Step;
        throw new RotationError(`unknown rotation step ${String(unreachable)}`);
      }
    }
  }

  private async createSecret(description: SecretDescription, token: string): Promise<RotationStepReport> {
    const { secrets, keys, log, now, managedPrefix } = this.deps;
    const secretId = description.arn;
    const keyName = managedKeyName(managedPrefix, token);
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

    let created = await keys.createKey(organization, { name: keyName, tags });
    if (created.outcome === 'name_taken') {
      // An earlier attempt created the key and died before storing it: its plaintext is lost.
      log.warn('createSecret: key exists from an earlier attempt whose plaintext was lost; recreating it', {
        keyName,
      });
      await keys.deleteKey(organization, keyName);
      created = await keys.createKey(organization, { name: keyName, tags });
      if (created.outcome === 'name_taken') {
        throw new RotationError(
          `Coder still reports provisioner key "${keyName}" as existing after deleting it; is another rotation running?`,
        );
      }
    }
    const value: ProvisionerKeySecret = {
      organization,
      keyName,
      key: created.key,
      tags: { ...tags },
      createdAt: now().toISOString(),
    };
    await secrets.putPending(secretId, token, serializeKeySecret(value));
    const reason = `created Coder provisioner key "${keyName}" and stored it as AWSPENDING`;
    log.info('createSecret: pending key stored', { keyName, organization, tags });
    return { step: 'createSecret', outcome: 'pending_created', reason, keyName };
  }

  private async testSecret(description: SecretDescription, token: string): Promise<RotationStepReport> {
    const { secrets, keys, log, managedPrefix } = this.deps;
    const raw = await secrets.getValue(description.arn, { versionId: token, stage: AWSPENDING });
    if (raw === undefined) {
      throw new RotationError(
        `Secret ${description.name} version ${token} has no pending value; run createSecret first.`,
      );
    }
    const pending = parseKeySecret(raw, `Secret ${description.name} version ${token}`);
    const expected = managedKeyName(managedPrefix, token);
    if (pending.keyName !== expected) {
      throw new RotationError(
        `Secret ${description.name} version ${token} names key "${pending.keyName}", expected "${expected}".`,
      );
    }
    const identity = await keys.identifyKey(pending.key);
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
    token: string,
    currentVersionId: string | undefined,
  ): Promise<RotationStepReport> {
    const { secrets, log } = this.deps;
    await secrets.promote(description.arn, token, currentVersionId);
    log.info('finishSecret: AWSCURRENT moved', { versionId: token, previousVersionId: currentVersionId });
    const moved = await secrets.describe(description.arn);
    return this.prune(moved, 'promoted', `version ${token} is now AWSCURRENT`);
  }

  private async prune(
    description: SecretDescription,
    outcome: 'promoted' | 'already_current',
    why: string,
  ): Promise<RotationStepReport> {
    const { secrets, keys, log, now, managedPrefix } = this.deps;
    const { organization, roles } = await loadKeyRoles(secrets, description, managedPrefix);
    const [keyList, daemons] = await Promise.all([
      keys.listKeys(organization),
      keys.listDaemons(organization),
    ]);
    const actions = planKeyPrune(keyList, daemons, roles, now(), {
      managedPrefix,
      previousKeyGraceMs: 0,
      keepPrevious: true,
    });
    await executePrune(keys, organization, actions, log);
    return {
      step: 'finishSecret',
      outcome: outcome === 'promoted' ? 'promoted' : 'pruned',
      reason: `${why}; pruned old keys`,
      ...(roles.current ? { keyName: roles.current.keyName } : {}),
      prune: actions,
    };
  }
}
