import {
  activeProfileAt,
  type ProfileDecision,
  type ScalingOverride,
  type TransitionOccurrence,
  upcomingChange,
} from './calendar.js';
import type { GroupSizes, NodeGroupConfig, ScalingConfig } from './config.js';

/**
 * The scaling decision: one pure function of (snapshot, now) returning, per managed group, the
 * action and its reason. Side effects live in the executor.
 *
 * Safety rules, in order:
 *  - min ≤ desired ≤ max and max ≥ 1, always (EKS answers InvalidParameterException otherwise);
 *  - desired is never below the running floor ceil(running / workspacesPerNode);
 *  - scale-down lowers min and max only: desired is left to Cluster Autoscaler (which removes empty
 *    nodes) unless it is above the new max, and then it is clamped to max, which is never below the
 *    floor because max is raised to the floor first.
 */

export interface Sizes {
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
}

/** Where a group lives in AWS. */
export type NodeGroupRef =
  | { readonly kind: 'eks-managed'; readonly clusterName: string; readonly nodegroupName: string }
  | { readonly kind: 'auto-scaling-group'; readonly autoScalingGroupName: string };

/** What the adapter read for one group. `status` is EKS's (ACTIVE, UPDATING, …); ASGs map to ACTIVE or their Status. */
export type LiveGroup =
  | { readonly kind: 'found'; readonly status: string; readonly sizes: Sizes }
  | { readonly kind: 'unreadable'; readonly error: string };

/** The Coder demand on a workspace group. */
export type GroupDemand =
  | {
      readonly kind: 'known';
      readonly running: number;
      /** Read only while pre-warming: stopped, not dormant, next_start_at within the horizon. */
      readonly autostartingSoon?: number;
    }
  | { readonly kind: 'unknown'; readonly error: string };

export interface ScalingSnapshot {
  readonly config: ScalingConfig;
  readonly override?: ScalingOverride;
  /** Live state per managed group, by config group name. */
  readonly groups: Readonly<Record<string, LiveGroup>>;
  /** Coder demand per workspace group, by config group name. */
  readonly demand: Readonly<Record<string, GroupDemand>>;
}

interface ActionBase {
  readonly group: string;
  readonly ref: NodeGroupRef;
  readonly reason: string;
}

export type ScalingAction =
  | (ActionBase & { readonly kind: 'update'; readonly current: Sizes; readonly target: Sizes })
  | (ActionBase & { readonly kind: 'none'; readonly current: Sizes })
  | (ActionBase & { readonly kind: 'skip'; readonly current?: Sizes; readonly status?: string })
  | (ActionBase & { readonly kind: 'fail' });

export interface ScalingPlan {
  readonly at: string;
  readonly profile: ProfileDecision;
  /** The transition being pre-warmed for, when within the lead window. */
  readonly preWarmFor?: TransitionOccurrence;
  readonly actions: readonly ScalingAction[];
}

export const refOf = (config: ScalingConfig, group: NodeGroupConfig): NodeGroupRef =>
  group.kind === 'eks-managed'
    ? { kind: 'eks-managed', clusterName: config.clusterName, nodegroupName: group.nodegroupName }
    : { kind: 'auto-scaling-group', autoScalingGroupName: group.autoScalingGroupName };

export const formatSizes = (s: Sizes): string =>
  `min ${s.minSize} / desired ${s.desiredSize} / max ${s.maxSize}`;

/** Nodes the running workspaces of a group need. */
export const runningFloor = (running: number, workspacesPerNode: number): number =>
  Math.ceil(Math.max(0, running) / workspacesPerNode);

interface TargetDecision {
  readonly target: Sizes;
  readonly notes: string[];
}

const change = (label: string, from: number, to: number): string | undefined =>
  from === to ? undefined : `${label} ${from}→${to}`;

/**
 * The target sizes for one group: the profile's min/max, raised where running workspaces or
 * pre-warming need it, and the current desired moved only as far as the bounds require.
 */
export const targetSizes = (input: {
  readonly group: NodeGroupConfig;
  readonly profileName: string;
  readonly sizes: GroupSizes;
  readonly current: Sizes;
  readonly demand?: GroupDemand;
  readonly preWarm?: { readonly transition: TransitionOccurrence; readonly sizes: GroupSizes };
}): TargetDecision => {
  const { group, sizes, current, demand, preWarm } = input;
  const notes: string[] = [];
  let floor = 0;
  let preWarmNodes = 0;
  if (group.role.kind === 'workspaces') {
    const perNode = group.role.workspacesPerNode;
    if (demand === undefined || demand.kind === 'unknown') {
      // Without a running count the floor is unknowable: keep every node that is there now.
      floor = current.desiredSize;
      notes.push(
        `running workspaces unknown (${demand?.error ?? 'not read'}): desired kept ≥ current ${current.desiredSize}`,
      );
    } else {
      floor = runningFloor(demand.running, perNode);
      if (preWarm !== undefined) {
        const expected = demand.running + (demand.autostartingSoon ?? 0);
        const needed = runningFloor(expected, perNode);
        const cap = Math.max(sizes.maxSize, preWarm.sizes.maxSize);
        preWarmNodes = Math.min(needed, cap);
        notes.push(
          `pre-warming for ${preWarm.transition.effectiveProfile} at ${preWarm.transition.at}: ` +
            `${demand.running} running + ${demand.autostartingSoon ?? 0} autostarting soon need ${needed} node(s)` +
            (needed > cap ? `, capped at ${cap}` : '') +
            '; min held there so Cluster Autoscaler keeps the warm nodes',
        );
      }
    }
  }
  const minSize = Math.max(sizes.minSize, preWarmNodes);
  const maxSize = Math.max(sizes.maxSize, 1, minSize, floor);
  if (maxSize > sizes.maxSize) {
    const why =
      floor >= maxSize && group.role.kind === 'workspaces' && demand?.kind === 'known'
        ? `the running floor ceil(${demand.running} / ${group.role.workspacesPerNode}) = ${floor}`
        : floor >= maxSize
          ? `the nodes kept while running workspaces are unknown (${floor})`
          : `pre-warming (${minSize})`;
    notes.push(`max raised above ${input.profileName}'s ${sizes.maxSize} to ${maxSize} for ${why}`);
  }
  const lowest = Math.max(minSize, floor, sizes.desiredFloor ?? 0);
  let desiredSize = current.desiredSize;
  if (desiredSize < lowest) {
    desiredSize = lowest;
    const bound =
      lowest === floor && floor > minSize
        ? `the running floor (${floor} node(s))`
        : lowest === minSize
          ? `min (${minSize})`
          : `the desired floor (${lowest})`;
    notes.push(`desired raised to ${bound}`);
  } else if (desiredSize > maxSize) {
    desiredSize = maxSize;
    notes.push(
      group.role.kind === 'workspaces'
        ? `desired clamped to the new max (${maxSize}), which is not below the running floor (${floor})`
        : `desired clamped to the new max (${maxSize})`,
    );
  } else if (desiredSize !== lowest && (minSize < current.minSize || maxSize < current.maxSize)) {
    notes.push(`desired ${desiredSize} left to Cluster Autoscaler`);
  }
  return { target: { minSize, desiredSize, maxSize }, notes };
};

/**
 * The workspace groups to pre-warm at `now`: those whose minimum the upcoming transition raises.
 * The handler reads autostart counts only for these, and the planner pre-warms only these.
 */
export const preWarmTargets = (
  config: ScalingConfig,
  now: Date,
  override?: ScalingOverride,
): { readonly transition: TransitionOccurrence; readonly groups: readonly string[] } | undefined => {
  const upcoming = upcomingChange(config.schedule, now, override);
  if (upcoming === undefined) return undefined;
  const active = activeProfileAt(config.schedule, now, override).profile;
  const groups = config.nodeGroups
    .filter((group) => {
      if (group.role.kind !== 'workspaces') return false;
      const next = group.profiles[upcoming.effectiveProfile];
      const current = group.profiles[active];
      return next !== undefined && current !== undefined && next.minSize > current.minSize;
    })
    .map((group) => group.name);
  return groups.length > 0 ? { transition: upcoming, groups } : undefined;
};

const sameSizes = (a: Sizes, b: Sizes): boolean =>
  a.minSize === b.minSize && a.desiredSize === b.desiredSize && a.maxSize === b.maxSize;

/** Works out, for every managed group, what to do now and why. */
export const planNodeGroupScaling = (snapshot: ScalingSnapshot, now: Date): ScalingPlan => {
  const { config } = snapshot;
  const profile = activeProfileAt(config.schedule, now, snapshot.override);
  const preWarming = preWarmTargets(config, now, snapshot.override);
  const actions = config.nodeGroups.map((group): ScalingAction => {
    const ref = refOf(config, group);
    const base = { group: group.name, ref };
    if (group.role.kind === 'static') {
      return { ...base, kind: 'skip', reason: 'static group: never changed by the scaler' };
    }
    const live = snapshot.groups[group.name];
    if (live === undefined) return { ...base, kind: 'fail', reason: 'live state was not read' };
    if (live.kind === 'unreadable') return { ...base, kind: 'fail', reason: live.error };
    if (live.status !== 'ACTIVE') {
      return {
        ...base,
        kind: 'skip',
        current: live.sizes,
        status: live.status,
        reason: `status ${live.status}, not ACTIVE: only ACTIVE groups are changed; the next run retries`,
      };
    }
    const sizes = group.profiles[profile.profile];
    if (sizes === undefined) {
      return { ...base, kind: 'fail', reason: `no sizes for profile ${profile.profile} in this group` };
    }
    const upcomingSizes = preWarming ? group.profiles[preWarming.transition.effectiveProfile] : undefined;
    const preWarm =
      preWarming?.groups.includes(group.name) && upcomingSizes
        ? { transition: preWarming.transition, sizes: upcomingSizes }
        : undefined;
    const { target, notes } = targetSizes({
      group,
      profileName: profile.profile,
      sizes,
      current: live.sizes,
      demand: snapshot.demand[group.name],
      preWarm,
    });
    const detail = notes.length > 0 ? `; ${notes.join('; ')}` : '';
    if (sameSizes(target, live.sizes)) {
      return {
        ...base,
        kind: 'none',
        current: live.sizes,
        reason: `at target for ${profile.profile} (${formatSizes(target)})${detail}`,
      };
    }
    const changes = [
      change('min', live.sizes.minSize, target.minSize),
      change('desired', live.sizes.desiredSize, target.desiredSize),
      change('max', live.sizes.maxSize, target.maxSize),
    ].filter((c) => c !== undefined);
    return {
      ...base,
      kind: 'update',
      current: live.sizes,
      target,
      reason: `${profile.profile}: ${changes.join(', ')}${detail}`,
    };
  });
  return {
    at: now.toISOString(),
    profile,
    ...(preWarming ? { preWarmFor: preWarming.transition } : {}),
    actions,
  };
};
