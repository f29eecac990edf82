import type { RunCall } from '../contracts/deadline.js';
import type { ScalingOverride } from './calendar.js';
import type { NodeGroupRef, Sizes } from './planner.js';

/**
 * The ports the scaler talks through. Adapters implement them over AWS and Coder; tests and the
 * CLI use the in-memory implementations in `in-memory.ts`.
 */

/** Reads and changes node group sizes (EKS managed node groups or Auto Scaling groups). */
export interface NodeGroupPort {
  /** Throws NodeGroupNotFoundError when the group does not exist. */
  describe(ref: NodeGroupRef): Promise<{ status: string; sizes: Sizes }>;
  /**
   * Sets min/desired/max. `requestToken` is the EKS clientRequestToken: the same token for the
   * same target within a time window, so a redelivered or retried update is idempotent.
   */
  update(ref: NodeGroupRef, target: Sizes, requestToken: string): Promise<NodeGroupUpdateResult>;
}

/**
 * What an update call did. EKS keeps a `clientRequestToken` for 15 minutes: a second call with the
 * same token returns the first call's update and changes nothing, so a caller that got `replayed`
 * must not report the group as updated.
 */
export type NodeGroupUpdateResult =
  | { readonly outcome: 'applied' }
  | { readonly outcome: 'replayed'; readonly updateId: string; readonly createdAt?: Date };

/**
 * What Coder says about the workspaces that need nodes. Template names match as Coder matches them:
 * case-insensitively (templates.ts). Every read carries the run's deadline, and one out of time
 * throws an error with `kind: 'deadline'` (isDeadlineStop).
 */
export interface WorkspaceDemandReader {
  /**
   * Workspaces whose latest build is running; `templates` limits to those template names. Never
   * fewer than were running throughout the read, however the list moved while it was read: a
   * short count would lower the floor under running workspaces.
   */
  countRunning(templates: readonly string[] | undefined, call: RunCall): Promise<number>;
  /** Stopped, non-dormant workspaces whose next autostart falls in [from, to]. */
  countAutostartingBetween(
    from: Date,
    to: Date,
    templates: readonly string[] | undefined,
    call: RunCall,
  ): Promise<number>;
  /**
   * The name of every template Coder has (every organization the token can read; deprecated ones
   * included), to tell "no running workspaces" from "no such template". One request.
   */
  listTemplateNames(call: RunCall): Promise<readonly string[]>;
}

export interface StoredOverride {
  readonly override: ScalingOverride;
  /** Optimistic-lock version: a put or clear based on a stale read fails. */
  readonly version: number;
}

/** Where operator overrides are kept (DynamoDB in Lambda, with a TTL attribute). */
export interface OverrideStore {
  /** The stored override, if any and not yet expired at `now`. */
  get(now: Date): Promise<StoredOverride | undefined>;
  /**
   * Stores an override. `expectedVersion` is the version read before (undefined when none was
   * there); throws OverrideConflictError when someone else changed it in between.
   */
  put(override: ScalingOverride, expectedVersion: number | undefined): Promise<StoredOverride>;
  /** Removes the override; true when there was one. */
  clear(): Promise<boolean>;
}

export class NodeGroupNotFoundError extends Error {
  override readonly name = 'NodeGroupNotFoundError';
  constructor(readonly ref: NodeGroupRef) {
    super(
      ref.kind === 'eks-managed'
        ? `EKS managed node group "${ref.nodegroupName}" not found in cluster "${ref.clusterName}"; check the scaling config and the cluster`
        : `Auto Scaling group "${ref.autoScalingGroupName}" not found; check the scaling config and the region`,
    );
  }
}

/** An update that kept failing with a retryable error (update in progress, throttling). */
export class NodeGroupUpdateError extends Error {
  override readonly name = 'NodeGroupUpdateError';
  constructor(
    readonly ref: NodeGroupRef,
    readonly attempts: number,
    readonly causeName: string,
    message: string,
  ) {
    super(message);
  }
}

export class OverrideConflictError extends Error {
  override readonly name = 'OverrideConflictError';
}
