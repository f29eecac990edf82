import { createHash } from 'node:crypto';
import type { NodeGroupRef, Sizes } from './planner.js';

/**
 * The EKS clientRequestToken for an update: a hash of the group, the target and the time window
 * `now` falls in. A retry or a redelivered event in the same window sends the same token, so EKS
 * treats it as the same request; a later window may set the same target again (after someone
 * changed the group by hand, for example).
 */
export const updateRequestToken = (
  ref: NodeGroupRef,
  target: Sizes,
  now: Date,
  windowMinutes: number,
): string => {
  const windowMs = windowMinutes * 60_000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs).toISOString();
  const group =
    ref.kind === 'eks-managed'
      ? `eks/${ref.clusterName}/${ref.nodegroupName}`
      : `asg/${ref.autoScalingGroupName}`;
  const digest = createHash('sha256')
    .update(`${group}|${target.minSize}/${target.desiredSize}/${target.maxSize}|${windowStart}`)
    .digest('hex');
  return `cfc-scale-${digest.slice(0, 40)}`;
};
