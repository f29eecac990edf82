/**
 * Pacing the controller's provisioner jobs by Coder's queue (issue 22; coder/coder#19937 did the
 * same for the prebuilds reconciler): every create, start, stop and delete is a provisioner job
 * that people's own builds queue behind, so the controller keeps its own pending and running jobs
 * under a cap derived from the daemons that can take them, re-read every run. Removals and stops
 * go first (they free capacity); when the cap is reached the run stops queueing and says so, and
 * the next run carries on. Nothing waits inside a Lambda.
 */

import { isDeadlineStop } from '../contracts/deadline.js';
import { isDestructive } from './action-kinds.js';
import type { FamiliesConfig } from './config.js';
import type { FamilyWorkspace, PlannedAction } from './model.js';
import type { ProvisionerCapacity } from './provisioner-capacity.js';

/** The kinds that queue a provisioner job. */
export const queuesJob = (action: Pick<PlannedAction, 'kind'>): boolean =>
  action.kind === 'create-child' ||
  action.kind === 'start-child' ||
  action.kind === 'stop-child' ||
  action.kind === 'delete-child';

/** What this run may queue, and why. */
export interface JobAllowance {
  /** Jobs the run may queue: the cap less the controller's jobs already pending or running. */
  readonly allowed: number;
  /** The cap on the controller's pending + running jobs; undefined when Coder could not be read. */
  readonly cap: number | undefined;
  /** The controller's jobs pending or running when the run started. */
  readonly active: number;
  /** Online daemons that can take the managed templates' jobs; undefined when unknown. */
  readonly daemons: number | undefined;
  /** Why the allowance is what it is, for the report. */
  readonly reason: string;
  /** No daemon can take the jobs: nothing is queued that no daemon would take. */
  readonly noProvisioner: boolean;
}

/**
 * The controller's own jobs still in flight as the snapshot shows them: builds it initiated whose
 * job is pending, running or canceling. Free to count, and on every release; the capacity read
 * (by Coder's `initiator` filter) may see more, and the larger of the two is used.
 */
export const controllerJobsInSnapshot = (
  workspaces: readonly FamilyWorkspace[],
  controllerUserId: string | undefined,
): number =>
  controllerUserId === undefined
    ? 0
    : workspaces.filter((w) => w.latestBuild.jobActive && w.latestBuild.initiatorId === controllerUserId)
        .length;

/**
 * The run's allowance from what Coder's provisioners can take (`capacity`, undefined when it could
 * not be read) and the controller's own jobs in flight. Pure.
 */
export const planJobAllowance = (
  config: Pick<FamiliesConfig, 'pacing' | 'createConcurrency'>,
  capacity: ProvisionerCapacity | undefined,
  activeInSnapshot: number,
): JobAllowance => {
  const counted = capacity?.controllerJobs;
  const active = Math.max(activeInSnapshot, counted ? counted.pending + counted.running : 0);
  if (capacity === undefined) {
    // Coder's provisioners could not be read: queue no more than one run's worth of mutations.
    const cap = config.pacing.maxJobs ?? config.createConcurrency;
    return {
      allowed: Math.max(0, cap - active),
      cap,
      active,
      daemons: undefined,
      reason: `Coder's provisioners could not be read this run; at most ${cap} jobs of the controller's own in flight`,
      noProvisioner: false,
    };
  }
  const daemons = capacity.onlineDaemons;
  if (daemons === 0) {
    return {
      allowed: 0,
      cap: 0,
      active,
      daemons,
      reason:
        "no online provisioner daemon can take the managed templates' jobs (a provisioner group scaled to 0, or tags that match no daemon); nothing is queued",
      noProvisioner: true,
    };
  }
  const cap = config.pacing.maxJobs ?? Math.max(1, Math.floor(daemons * config.pacing.daemonShare));
  const why =
    config.pacing.maxJobs !== undefined
      ? `pacing.maxJobs is ${cap}`
      : `${Math.round(config.pacing.daemonShare * 100)}% of the ${daemons} online daemons that can take these templates' jobs`;
  return {
    allowed: Math.max(0, cap - active),
    cap,
    active,
    daemons,
    reason: `the controller may have ${cap} jobs pending or running (${why}); ${active} are`,
    noProvisioner: false,
  };
};

/**
 * The allowance as the run spends it, shared by every family: a removal or stop may take any slot;
 * a create or start only a slot no planned removal is still waiting for, so removals go first
 * whichever family they are in.
 */
export class JobBudget {
  private left: number;
  private reservedForRemovals: number;
  private refused = 0;

  constructor(
    readonly allowance: JobAllowance,
    plannedRemovals: number,
  ) {
    this.left = allowance.allowed;
    this.reservedForRemovals = Math.min(plannedRemovals, allowance.allowed);
  }

  /** Takes a slot for `action`, or false when the run may queue no more of its kind. */
  take(action: Pick<PlannedAction, 'kind'>): boolean {
    if (!queuesJob(action)) return true;
    const removal = isDestructive(action.kind);
    const free = removal ? this.left : this.left - this.reservedForRemovals;
    if (free <= 0) {
      this.refused++;
      return false;
    }
    this.left--;
    if (removal && this.reservedForRemovals > 0) this.reservedForRemovals--;
    return true;
  }

  /** Counts job actions turned away without asking for each (a family passed over whole). */
  turnAway(count: number): void {
    this.refused += count;
  }

  /** True when no create or start could take a slot now (removals may still). */
  get createsExhausted(): boolean {
    return this.left - this.reservedForRemovals <= 0;
  }

  /** A planned removal that will not queue a job after all (it was busy, or the run stopped). */
  releaseRemoval(): void {
    if (this.reservedForRemovals > 0) this.reservedForRemovals--;
  }

  /** Job actions the budget turned away this run. */
  get turnedAway(): number {
    return this.refused;
  }
}

/** What the report says of the run's pacing. */
export interface PacingReport {
  /** The cap on the controller's pending + running jobs; undefined when Coder could not be read. */
  readonly cap: number | undefined;
  /** The controller's jobs pending or running when the run started. */
  readonly active: number;
  /** Online daemons that can take the managed templates' jobs; undefined when unknown. */
  readonly daemons: number | undefined;
  /** Jobs the run was allowed to queue. */
  readonly allowed: number;
  /** Job actions it did not queue because the allowance was spent (the next run does them). */
  readonly turnedAway: number;
  readonly noProvisioner: boolean;
  readonly reason: string;
  /** Jobs waiting in Coder's queue, everyone's. */
  readonly queued: number | undefined;
  /** How long the oldest pending job not the controller's has waited, seconds: people's wait. */
  readonly othersOldestPendingSeconds: number | undefined;
}

/**
 * A run's pacing: Coder's provisioners are read once, and only when some family is about to queue
 * a job (a steady-state run reads nothing); the budget is then shared by every family of the run.
 */
export class RunPacing {
  private reading: Promise<void> | undefined;
  private capacity: ProvisionerCapacity | undefined;
  private budget: JobBudget | undefined;

  constructor(
    private readonly parts: {
      readonly config: Pick<FamiliesConfig, 'pacing' | 'createConcurrency'>;
      /** Reads the provisioners; throws when Coder cannot say (the run then paces conservatively). */
      readonly read: () => Promise<ProvisionerCapacity>;
      /** Told why the read failed, when it did (a deadline is rethrown instead). */
      readonly readFailed: (error: unknown) => void;
      /** Removals and stops the run has planned (they go first). */
      readonly plannedRemovals: () => number;
      /** The controller's jobs in flight as the snapshot shows them. */
      readonly activeInSnapshot: () => number;
    },
  ) {}

  /** True once the provisioners are read and no create or start can take a slot this run. */
  get createsExhausted(): boolean {
    return this.budget?.createsExhausted ?? false;
  }

  /** Reads the provisioners before the first job of the run; a no-op for actions that queue none. */
  async ready(actions: readonly PlannedAction[]): Promise<void> {
    if (!actions.some(queuesJob)) return;
    this.reading ??= this.read();
    await this.reading;
  }

  private async read(): Promise<void> {
    try {
      this.capacity = await this.parts.read();
    } catch (error) {
      if (isDeadlineStop(error)) {
        this.reading = undefined;
        throw error;
      }
      this.parts.readFailed(error);
    }
    const allowance = planJobAllowance(this.parts.config, this.capacity, this.parts.activeInSnapshot());
    this.budget = new JobBudget(allowance, this.parts.plannedRemovals());
  }

  /**
   * Why the run would queue none of these actions, when it already knows: the budget is read, no
   * create or start can take a slot, and every mutation is a create or start (nothing else to do).
   * Such a family is passed over without its lock; the run's continuation carries it.
   */
  refusesAll(
    actions: readonly PlannedAction[],
    isMutation: (a: PlannedAction) => boolean,
  ): { cause: 'provisioner-cap' | 'no-provisioner'; detail: string } | undefined {
    if (this.budget === undefined || !this.budget.createsExhausted) return undefined;
    const mutations = actions.filter(isMutation);
    if (mutations.length === 0 || !mutations.every((a) => queuesJob(a) && !isDestructive(a.kind)))
      return undefined;
    this.budget.turnAway(mutations.length);
    return this.refusal(this.budget.allowance);
  }

  /** Whether `action` may queue its job now (taking a slot if so); why not, otherwise. */
  mayQueue(
    action: PlannedAction,
  ): { cause: 'provisioner-cap' | 'no-provisioner'; detail: string } | undefined {
    if (!queuesJob(action) || this.budget === undefined || this.budget.take(action)) return undefined;
    return this.refusal(this.budget.allowance);
  }

  private refusal(allowance: JobAllowance): { cause: 'provisioner-cap' | 'no-provisioner'; detail: string } {
    return {
      cause: allowance.noProvisioner ? 'no-provisioner' : 'provisioner-cap',
      detail: `not queued: ${allowance.reason}; the next run queues it`,
    };
  }

  report(): PacingReport | undefined {
    if (this.budget === undefined) return undefined;
    const { allowance } = this.budget;
    const wait = this.capacity?.othersOldestPendingMs;
    return {
      cap: allowance.cap,
      active: allowance.active,
      daemons: allowance.daemons,
      allowed: allowance.allowed,
      turnedAway: this.budget.turnedAway,
      noProvisioner: allowance.noProvisioner,
      reason: allowance.reason,
      queued: this.capacity?.queued,
      othersOldestPendingSeconds: wait === undefined ? undefined : Math.round(wait / 1000),
    };
  }
}
