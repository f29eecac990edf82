import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeNodegroupCommand, type EKSClient, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { type LogSink, silentLog } from '../../core/contracts/log-sink.js';
import type { NodeGroupRef, Sizes } from '../../core/scaling/planner.js';
import {
  NodeGroupNotFoundError,
  type NodeGroupPort,
  NodeGroupUpdateError,
  type NodeGroupUpdateResult,
} from '../../core/scaling/ports.js';

/**
 * Node group sizes through EKS (managed node groups) and EC2 Auto Scaling (self-managed groups).
 * Errors that mean "try again shortly" (another update in progress, throttling, a 5xx) are retried
 * with exponential backoff within the run, then surface as NodeGroupUpdateError; a missing group
 * is a NodeGroupNotFoundError naming it.
 */

/** Error names worth retrying within a run. */
const RETRYABLE = new Set([
  // EKS: an update is already running on the node group.
  'ResourceInUseException',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServerException',
  'ServiceUnavailableException',
  // Auto Scaling.
  'ScalingActivityInProgressFault',
  'ResourceContentionFault',
  'Throttling',
]);

const errorName = (error: unknown): string =>
  error instanceof Error
    ? error.name
    : typeof error === 'object' && error !== null && 'name' in error
      ? String(error.name)
      : 'Error';

const isRetryable = (error: unknown): boolean => {
  if (RETRYABLE.has(errorName(error))) return true;
  const retryable = (error as { $retryable?: { throttling?: boolean } } | undefined)?.$retryable;
  return retryable?.throttling === true;
};

const describeRef = (ref: NodeGroupRef): string =>
  ref.kind === 'eks-managed'
    ? `node group ${ref.clusterName}/${ref.nodegroupName}`
    : `Auto Scaling group ${ref.autoScalingGroupName}`;

export interface AwsNodeGroupsOptions {
  readonly eks: EKSClient;
  readonly autoScaling: AutoScalingClient;
  /** Attempts per call, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** @default 2000 */
  readonly baseDelayMs?: number;
  /** @default 15000 */
  readonly maxDelayMs?: number;
  /** Injected so tests don't wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  readonly random?: () => number;
  readonly log?: LogSink;
  /** @default the system clock */
  readonly now?: () => Date;
}

/** How far EKS's clock and ours may disagree before an update counts as older than the call. */
const CLOCK_SKEW_MS = 5_000;

export class AwsNodeGroups implements NodeGroupPort {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: LogSink;
  private readonly now: () => Date;

  constructor(private readonly options: AwsNodeGroupsOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 2000;
    this.maxDelayMs = options.maxDelayMs ?? 15_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLog;
    this.now = options.now ?? (() => new Date());
  }

  async describe(ref: NodeGroupRef): Promise<{ status: string; sizes: Sizes }> {
    if (ref.kind === 'eks-managed') {
      const { nodegroup } = await this.withRetry(ref, 'DescribeNodegroup', () =>
        this.options.eks.send(
          new DescribeNodegroupCommand({ clusterName: ref.clusterName, nodegroupName: ref.nodegroupName }),
        ),
      );
      const scaling = nodegroup?.scalingConfig;
      if (
        !nodegroup ||
        scaling?.minSize === undefined ||
        scaling.maxSize === undefined ||
        scaling.desiredSize === undefined
      ) {
        throw new Error(`DescribeNodegroup returned no scalingConfig for ${describeRef(ref)}`);
      }
      return {
        status: nodegroup.status ?? 'UNKNOWN',
        sizes: { minSize: scaling.minSize, desiredSize: scaling.desiredSize, maxSize: scaling.maxSize },
      };
    }
    const { AutoScalingGroups } = await this.withRetry(ref, 'DescribeAutoScalingGroups', () =>
      this.options.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ref.autoScalingGroupName] }),
      ),
    );
    const group = AutoScalingGroups?.find((g) => g.AutoScalingGroupName === ref.autoScalingGroupName);
    if (group === undefined) throw new NodeGroupNotFoundError(ref);
    if (group.MinSize === undefined || group.MaxSize === undefined || group.DesiredCapacity === undefined) {
      throw new Error(`DescribeAutoScalingGroups returned no sizes for ${describeRef(ref)}`);
    }
    return {
      // An Auto Scaling group has no ACTIVE status; Status is set only while it is being deleted.
      status: group.Status ?? 'ACTIVE',
      sizes: { minSize: group.MinSize, desiredSize: group.DesiredCapacity, maxSize: group.MaxSize },
    };
  }

  async update(ref: NodeGroupRef, target: Sizes, requestToken: string): Promise<NodeGroupUpdateResult> {
    // EKS answers InvalidParameterException for these; refuse before calling.
    if (
      !(
        target.minSize >= 0 &&
        target.minSize <= target.desiredSize &&
        target.desiredSize <= target.maxSize &&
        target.maxSize >= 1
      )
    ) {
      throw new Error(
        `Refusing to set ${describeRef(ref)} to min ${target.minSize} / desired ${target.desiredSize} / max ${target.maxSize}`,
      );
    }
    if (ref.kind === 'eks-managed') {
      const calledAt = this.now().getTime();
      const { update } = await this.withRetry(ref, 'UpdateNodegroupConfig', () =>
        this.options.eks.send(
          new UpdateNodegroupConfigCommand({
            clusterName: ref.clusterName,
            nodegroupName: ref.nodegroupName,
            scalingConfig: {
              minSize: target.minSize,
              desiredSize: target.desiredSize,
              maxSize: target.maxSize,
            },
            clientRequestToken: requestToken,
          }),
        ),
      );
      // An update created before this call began is an earlier call's, returned for the same
      // token (EKS keeps tokens 15 minutes): nothing changed. Retries within this call create
      // nothing older than `calledAt`, so they still count as applied.
      const createdAt = update?.createdAt;
      if (update?.id && createdAt && createdAt.getTime() < calledAt - CLOCK_SKEW_MS) {
        return { outcome: 'replayed', updateId: update.id, createdAt };
      }
      return { outcome: 'applied' };
    }
    await this.withRetry(ref, 'UpdateAutoScalingGroup', () =>
      this.options.autoScaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: ref.autoScalingGroupName,
          MinSize: target.minSize,
          DesiredCapacity: target.desiredSize,
          MaxSize: target.maxSize,
        }),
      ),
    );
    return { outcome: 'applied' };
  }

  private async withRetry<T>(ref: NodeGroupRef, operation: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const name = errorName(error);
        if (ref.kind === 'eks-managed' && name === 'ResourceNotFoundException')
          throw new NodeGroupNotFoundError(ref);
        if (!isRetryable(error)) throw error;
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= this.maxAttempts) {
          throw new NodeGroupUpdateError(
            ref,
            attempt,
            name,
            `${operation} on ${describeRef(ref)} still failing after ${attempt} attempts: ${name}: ${message}`,
          );
        }
        const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        const delay = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
        this.log.warn('retrying node group call', {
          operation,
          group: describeRef(ref),
          error: name,
          attempt,
          delayMs: delay,
        });
        await this.sleep(delay);
      }
    }
  }
}
