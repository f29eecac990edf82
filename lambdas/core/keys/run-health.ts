import { type Deadline, NO_DEADLINE } from '../contracts/deadline.js';
import type { LogSink } from '../contracts/log-sink.js';
import type { KeyHealthRequest } from './events.js';
import { executePrune } from './executor.js';
import { resolveManagedPrefix } from './key-names.js';
import { loadKeyRoles } from './key-roles.js';
import { type KeyHealthFigures, summarizeKeyHealth } from './metrics.js';
import { type PruneAction, planKeyPrune } from './planner.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from './ports.js';

export interface KeyHealthReport {
  readonly action: 'check' | 'status';
  readonly dryRun: boolean;
  /** The time the check was made as of, when a dry run asked for another time than now. */
  readonly at?: string;
  readonly secret: string;
  readonly organization: string;
  /** The prefix of the keys this deployment creates and may delete (configured, or its own). */
  readonly managedPrefix: string;
  readonly figures: KeyHealthFigures;
  /** Connected daemons per key name, including keys Coder does not list (e.g. `user-auth`). */
  readonly daemonsPerKey: Readonly<Record<string, readonly string[]>>;
  /** What the prune decided for each key, with its reason. */
  readonly plan: readonly PruneAction[];
  /** Keys deleted by this run (none for status and dry runs). */
  readonly deleted: readonly string[];
}

export interface KeyHealthDeps {
  readonly secrets: SecretVersionStore;
  readonly keys: ProvisionerKeyDirectory;
  readonly log: LogSink;
  readonly now: () => Date;
  readonly secretId: string;
  /** The configured prefix; undefined: the deployment's own, from the secret's ARN (deploymentKeyPrefix). */
  readonly managedPrefix: string | undefined;
  /**
   * `oldKeyGraceHours`: the previous key, and any other key this deployment created, is deleted
   * only once no daemon has used it for this long.
   */
  readonly previousKeyGraceMs: number;
}

/**
 * The daily key-health check. Whether the previous key has been idle long enough is computed from
 * the daemons' `last_seen_at` (listed with `offline=true`) and the time the current key took over,
 * not tracked in state of our own: Coder already records when each daemon was last seen, so there
 * is nothing to keep consistent, and a lost run changes nothing.
 */
export class ProvisionerKeyHealthCheck {
  constructor(private readonly deps: KeyHealthDeps) {}

  /** `deadline`: the time the check has; every Coder call stops at it (a Lambda's remaining time). */
  async run(
    request: KeyHealthRequest,
    options: { deadline?: Deadline | undefined } = {},
  ): Promise<KeyHealthReport> {
    const { secrets, keys, log, now, secretId, previousKeyGraceMs } = this.deps;
    const call = { deadline: options.deadline ?? NO_DEADLINE };
    const description = await secrets.describe(secretId);
    const managedPrefix = resolveManagedPrefix(this.deps.managedPrefix, description.arn);
    const { organization, roles } = await loadKeyRoles(secrets, description, managedPrefix);
    const [keyList, daemons] = await Promise.all([
      keys.listKeys(organization, call),
      keys.listDaemons(organization, call),
    ]);
    const at = request.at ? new Date(request.at) : now();
    const plan = planKeyPrune(keyList, daemons, roles, at, {
      managedPrefix,
      lastSeenGraceMs: previousKeyGraceMs,
      keepPrevious: false,
    });
    const execute = request.action === 'check' && !request.dryRun;
    const toDelete = plan.filter((a) => a.kind === 'delete');
    if (execute) await executePrune(keys, organization, plan, log, call);
    else if (toDelete.length > 0)
      log.info('Would delete provisioner keys', { keys: toDelete.map((a) => a.keyName) });
    const deleted = execute ? toDelete.map((a) => a.keyName) : [];
    const remaining = keyList.filter((k) => !deleted.includes(k.name));
    const daemonsPerKey: Record<string, string[]> = {};
    for (const daemon of daemons) {
      if (!daemon.connected) continue;
      const key = daemon.keyName ?? '(psk)';
      daemonsPerKey[key] = [...(daemonsPerKey[key] ?? []), daemon.name];
    }
    return {
      action: request.action,
      dryRun: request.dryRun,
      ...(request.at ? { at: at.toISOString() } : {}),
      secret: description.name,
      organization,
      managedPrefix,
      figures: summarizeKeyHealth(remaining, daemons, roles, at, managedPrefix),
      daemonsPerKey,
      plan,
      deleted,
    };
  }
}
