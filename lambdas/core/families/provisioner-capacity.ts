/**
 * What Coder's provisioners can take on for the managed templates, read once per run, for pacing
 * the controller's own builds by the queue (issue 22; coder/coder#19937 did the same for prebuilds:
 * cap the pending actions, derive the cap from the active provisioners). The adapter that answers
 * it is lambdas/adapters/coder/provisioner-capacity.ts; the engine only sees this shape.
 */

import type { RunCall } from './ports.js';

/** A managed template and the daemons that can take its build jobs. */
export interface TemplateProvisioners {
  readonly template: string;
  /**
   * The tags its build jobs carry: the active version's import job tags after MutateTags. Tags a
   * template adds per build (`coder_workspace_tags`) are not known without building, so a template
   * that uses them may need more than these.
   */
  readonly tags: Readonly<Record<string, string>>;
  /** Online daemons (seen within coderd's 90 s stale interval) whose tags contain those tags. */
  readonly onlineDaemons: number;
  /** Of those, the ones running a job now. */
  readonly busyDaemons: number;
  /**
   * False for a user-scoped template (`scope=user`): its jobs need a daemon of each owner, which
   * this cannot count; `onlineDaemons` then counts user-scoped daemons with the other tags.
   */
  readonly tagsExact: boolean;
}

/** The controller's own jobs (initiated by its Coder user) still in the queue or running. */
export interface ControllerJobs {
  readonly pending: number;
  readonly running: number;
  /** False when the read hit its page limit: the counts are then lower bounds. */
  readonly complete: boolean;
}

export interface ProvisionerCapacity {
  /** When Coder was read, epoch ms. */
  readonly observedAt: number;
  /** Online daemons that can take the build jobs of at least one managed template. */
  readonly onlineDaemons: number;
  /** Of those, the ones running a job now. */
  readonly busyDaemons: number;
  /** One entry per managed template found in Coder (a template Coder does not know is left out). */
  readonly templates: readonly TemplateProvisioners[];
  /**
   * The controller's pending and running jobs; undefined when this Coder cannot say whose a job is
   * (no `initiator` filter, coder/coder#20137, and no `initiator_id` on jobs).
   */
  readonly controllerJobs: ControllerJobs | undefined;
  /** Jobs waiting in the queue now, everyone's (coderd's `queue_size`). */
  readonly queued: number;
  /**
   * How long the oldest pending job not initiated by the controller has waited, ms: what people
   * see. Undefined when none waits (or whose a job is cannot be told). A lower bound when
   * `queueSampled`.
   */
  readonly othersOldestPendingMs: number | undefined;
  /** How long the oldest pending job of anyone has waited, ms; undefined when none waits. */
  readonly oldestPendingMs: number | undefined;
  /** True when only the newest pending jobs were read (more were waiting than one page holds). */
  readonly queueSampled: boolean;
}

/** The port the engine reads capacity through, once per run. Failures throw (the adapter's typed errors). */
export interface ProvisionerCapacitySource {
  read(call: RunCall): Promise<ProvisionerCapacity>;
}
