import { DateTime } from 'luxon';
import { activeProfileAt, nextTransitions, overrideApplies, type ScalingOverride } from './calendar.js';
import type { CatchUpJobHours } from './catch-up-job-hours.js';
import { type GroupSizes, managedGroups, type NodeGroupConfig, type ScalingConfig } from './config.js';
import { runningFloor, targetSizes } from './planner.js';
import { type InstancePrice, priceOf } from './prices.js';

/**
 * What the schedule saves: node-hours (and dollars) under the schedule against the honest baseline,
 * the peak profile held all week with the same demand — what a team running Cluster Autoscaler
 * without the schedule pays. Pure: config, calendar, demand and samples in, figures and reasons out.
 *
 * Capacity is what the scaler's own planner (`targetSizes`) settles on once Cluster Autoscaler has
 * sized desired to the demand: max(minSize, desiredFloor, need), where need is
 * ceil(running / workspacesPerNode) for workspace groups and 0 for provisioner groups (their
 * minimum). It is never capped below need: the scaler raises max rather than evict workspaces.
 * Static groups are left out (the scaler never touches them). Pre-warming is left out too: it
 * raises a workspace group's minimum for at most `preWarmLeadMinutes` before a peak, towards
 * capacity the peak holds anyway, so it moves the figures by well under one hour of that step.
 *
 * The saving is split, hour by hour, by what held the schedule's capacity:
 *  - `fromLowerFloor`: the schedule sat on its own floor (need ≤ the profile's minimum), so the
 *    nodes saved are the gap to what the peak profile would hold for the same demand;
 *  - `fromFollowingDemand`: running workspaces held more than the schedule's floor, and capacity
 *    followed them below the peak floor (need between the two floors).
 * Both exist only because the schedule lowers the floor; the split says whether the saving came
 * from idle floor nodes or from letting capacity track demand. `demandBlindEstimate` is the
 * floor gap × hours a demand-blind estimate (like Instance Scheduler's cost estimate) would claim;
 * the difference to `saved` is nodes the running workspaces keep anyway.
 */

/** Running workspaces (all workspace groups together) over time. */
export interface DemandCurve {
  readonly description: string;
  /** `calendarProfile` is the calendar's profile at `at`, overrides aside: people keep office hours. */
  runningAt(at: Date, calendarProfile: string): number;
}

/** Seed 004: 3,000 workspaces running at peak, 300 off-hours. */
export const SEED_004_DEMAND = { peakRunning: 3000, offHoursRunning: 300 } as const;

/** `peakRunning` while the calendar is on the peak profile, `offHoursRunning` otherwise. */
export const peakAndOffHoursDemand = (
  peakProfile: string,
  peakRunning: number,
  offHoursRunning: number,
): DemandCurve => ({
  description: `${peakRunning} workspaces running on ${peakProfile}, ${offHoursRunning} otherwise`,
  runningAt: (_at, calendarProfile) => (calendarProfile === peakProfile ? peakRunning : offHoursRunning),
});

/** Office-hours demand on the config's peak profile; seed 004's counts unless given. */
export const officeHoursDemand = (
  config: ScalingConfig,
  running: { readonly peakRunning: number; readonly offHoursRunning: number } = SEED_004_DEMAND,
): DemandCurve =>
  peakAndOffHoursDemand(peakProfileOf(config).name, running.peakRunning, running.offHoursRunning);

export interface PeakProfile {
  readonly name: string;
  readonly reason: string;
}

/** Nodes a group holds in a profile for a demand of `need` nodes (the planner's own arithmetic). */
const nodesHeld = (group: NodeGroupConfig, profileName: string, sizes: GroupSizes, need: number): number =>
  targetSizes({
    group,
    profileName,
    sizes,
    current: { minSize: sizes.minSize, desiredSize: need, maxSize: sizes.maxSize },
    demand: {
      kind: 'known',
      running: group.role.kind === 'workspaces' ? need * group.role.workspacesPerNode : 0,
    },
  }).target.desiredSize;

/**
 * The baseline profile: of the profiles the weekday transitions switch to, the one whose floors
 * hold the most nodes across the managed groups (ties: the larger total max, then the earlier
 * transition). With seed 004 that is `peak`, switched to at 07:00.
 */
export const peakProfileOf = (config: ScalingConfig): PeakProfile => {
  const groups = managedGroups(config);
  const score = (profile: string) => {
    let floor = 0;
    let max = 0;
    for (const group of groups) {
      const sizes = group.profiles[profile];
      if (sizes === undefined) continue;
      floor += nodesHeld(group, profile, sizes, 0);
      max += sizes.maxSize;
    }
    return { floor, max };
  };
  let best: { at: string; profile: string; floor: number; max: number } | undefined;
  for (const t of config.schedule.weekdayTransitions) {
    const s = score(t.profile);
    if (best === undefined || s.floor > best.floor || (s.floor === best.floor && s.max > best.max)) {
      best = { at: t.at, profile: t.profile, ...s };
    }
  }
  // Validation guarantees at least one transition.
  const chosen = best as NonNullable<typeof best>;
  return {
    name: chosen.profile,
    reason: `${chosen.profile} (from ${chosen.at} on working days) holds the most nodes at its floors: ${chosen.floor} across ${groups.map((g) => g.name).join(', ')}`,
  };
};

/** One group over one step. */
export interface GroupSample {
  /** Nodes the group held under the schedule. */
  readonly capacity: number;
  /** Nodes the demand held: ceil(running / workspacesPerNode), or measured capacity above the floor. */
  readonly need: number;
  /** Nodes the peak profile would have held for the same demand. */
  readonly baseline: number;
  /** Nodes the schedule's profile holds with no demand, and the peak profile's. */
  readonly floor: number;
  readonly baselineFloor: number;
  /** Running workspaces on the group, where known. */
  readonly running?: number;
}

export interface SavingsSample {
  /** Start of the step, ISO 8601 UTC. */
  readonly at: string;
  readonly hours: number;
  /** The profile in force (the calendar's, or an override's). */
  readonly profile: string;
  readonly groups: Readonly<Record<string, GroupSample>>;
}

export class SavingsInputError extends Error {
  override readonly name = 'SavingsInputError';
}

const sizesFor = (group: NodeGroupConfig, profile: string): GroupSizes => {
  const sizes = group.profiles[profile];
  if (sizes === undefined) {
    throw new SavingsInputError(`group ${group.name} has no sizes for profile "${profile}"`);
  }
  return sizes;
};

/**
 * A group's step from what it held (`capacity`) and what its demand needed in nodes (`runningNeed`,
 * where known). Nodes above the schedule's floor were held by demand, so the peak profile would
 * have held them too; the baseline is never below them.
 */
export const groupSample = (input: {
  readonly group: NodeGroupConfig;
  readonly profile: string;
  readonly peak: string;
  readonly capacity: number;
  readonly runningNeed?: number;
  readonly running?: number;
}): GroupSample => {
  const { group, profile, peak, capacity } = input;
  const floor = nodesHeld(group, profile, sizesFor(group, profile), 0);
  const peakSizes = sizesFor(group, peak);
  const baselineFloor = nodesHeld(group, peak, peakSizes, 0);
  const need = capacity > floor ? capacity : Math.min(capacity, input.runningNeed ?? 0);
  return {
    capacity,
    need,
    baseline: nodesHeld(group, peak, peakSizes, need),
    floor,
    baselineFloor,
    ...(input.running !== undefined ? { running: input.running } : {}),
  };
};

/** The local week (Monday 00:00 to the next Monday 00:00 in the schedule's zone) containing `weekOf`. */
export const weekContaining = (config: ScalingConfig, weekOf: Date): { from: Date; to: Date } => {
  const start = DateTime.fromJSDate(weekOf, { zone: config.schedule.timeZone }).startOf('week');
  return { from: start.toJSDate(), to: start.plus({ weeks: 1 }).toJSDate() };
};

/** The instants in [from, to) where the calendar's profile may change: transitions and local midnights. */
export const calendarChanges = (config: ScalingConfig, from: Date, to: Date): number[] => {
  const midnights: number[] = [];
  const zone = config.schedule.timeZone;
  for (
    let d = DateTime.fromJSDate(from, { zone }).startOf('day');
    d.toMillis() < to.getTime();
    d = d.plus({ days: 1 })
  ) {
    midnights.push(d.toMillis());
  }
  return [...midnights, ...nextTransitions(config.schedule, from, to).map((t) => Date.parse(t.atUtc))];
};

export interface SimulationInput {
  readonly config: ScalingConfig;
  /** Any instant of the week to simulate. */
  readonly weekOf: Date;
  readonly demand: DemandCurve;
  /** Operator overrides, each applying from its `setAt` until its `until`. */
  readonly overrides?: readonly ScalingOverride[];
  /** Step length; transitions at HH:MM off the step grid count from the next step. Default 15. */
  readonly stepMinutes?: number;
}

/** Each managed group's capacity, step by step, over one local week (167, 168 or 169 hours). */
export const simulateWeek = (input: SimulationInput): SavingsSample[] => {
  const { config, demand } = input;
  const step = (input.stepMinutes ?? 15) * 60_000;
  const peak = peakProfileOf(config).name;
  const groups = managedGroups(config);
  const workspaceGroups = groups.filter((g) => g.role.kind === 'workspaces').length;
  const { from, to } = weekContaining(config, input.weekOf);
  const changes = calendarChanges(config, from, to);
  const samples: SavingsSample[] = [];
  let calendar = activeProfileAt(config.schedule, from);
  for (let t = from.getTime(); t < to.getTime(); t += step) {
    const at = new Date(t);
    // The calendar's answer changes only at a transition or a local midnight: ask it again then.
    if (changes.some((c) => c > t - step && c <= t)) calendar = activeProfileAt(config.schedule, at);
    const override = input.overrides?.find((o) => Date.parse(o.setAt) <= t && overrideApplies(o, at));
    const profile = override ? override.profile : calendar.profile;
    // Running workspaces are split evenly across the workspace groups (templates aside).
    const running = demand.runningAt(at, calendar.profile) / Math.max(1, workspaceGroups);
    const perGroup: Record<string, GroupSample> = {};
    for (const group of groups) {
      const runningNeed =
        group.role.kind === 'workspaces' ? runningFloor(running, group.role.workspacesPerNode) : 0;
      const capacity = nodesHeld(group, profile, sizesFor(group, profile), runningNeed);
      perGroup[group.name] = groupSample({
        group,
        profile,
        peak,
        capacity,
        runningNeed,
        ...(group.role.kind === 'workspaces' ? { running } : {}),
      });
    }
    samples.push({
      at: at.toISOString(),
      hours: (Math.min(t + step, to.getTime()) - t) / 3_600_000,
      profile,
      groups: perGroup,
    });
  }
  return samples;
};

export interface GroupSavings {
  readonly group: string;
  readonly role: 'workspaces' | 'provisioners';
  readonly instanceType?: string;
  readonly price?: InstancePrice;
  readonly scheduleNodeHours: number;
  readonly baselineNodeHours: number;
  readonly savedNodeHours: number;
  readonly savedPercent: number;
  readonly fromLowerFloorNodeHours: number;
  readonly fromFollowingDemandNodeHours: number;
  readonly demandBlindEstimateNodeHours: number;
  readonly scheduleUsd?: number;
  readonly baselineUsd?: number;
  readonly savedUsd?: number;
  readonly explanation: string;
}

export interface SavingsReport {
  readonly source: 'simulation' | 'history';
  readonly timeZone: string;
  readonly from: string;
  readonly to: string;
  /** Figures are per week: window totals divided by this. */
  readonly weeks: number;
  readonly windowHours: number;
  /** Hours with data (all of them in a simulation). */
  readonly coveredHours: number;
  readonly peakProfile: PeakProfile;
  readonly demand: string;
  readonly groups: readonly GroupSavings[];
  readonly total: {
    readonly scheduleNodeHours: number;
    readonly baselineNodeHours: number;
    readonly savedNodeHours: number;
    /** Over the groups with a price; `unpriced` names the others. */
    readonly scheduleUsd: number;
    readonly baselineUsd: number;
    readonly savedUsd: number;
    readonly unpriced: readonly string[];
  };
  readonly notes: readonly string[];
  /**
   * Measured reports only: the provisioner job-hours the families controller's catch-up took over
   * the whole window (not per week), from the pacing metrics of `service` (catch-up-job-hours.ts).
   */
  readonly familiesCatchUp?: CatchUpJobHours & { readonly service: string };
  /** One week of samples for the chart: the simulated week, or the last week of history. */
  readonly chart: {
    readonly from: string;
    readonly to: string;
    readonly samples: readonly SavingsSample[];
  };
}

const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/**
 * Sums the samples into per-week figures per group, with dollars and a sentence per group.
 * `window` is the period the samples were taken from, and `weeks` how many weeks it spans.
 */
export const summarizeSavings = (input: {
  readonly config: ScalingConfig;
  readonly source: SavingsReport['source'];
  readonly samples: readonly SavingsSample[];
  readonly window: { readonly from: Date; readonly to: Date };
  readonly weeks: number;
  readonly demand: string;
  readonly chart: SavingsReport['chart'];
  readonly notes?: readonly string[];
}): SavingsReport => {
  const { config, samples, weeks } = input;
  const peakProfile = peakProfileOf(config);
  const coveredHours = samples.reduce((sum, s) => sum + s.hours, 0);
  const windowHours = (input.window.to.getTime() - input.window.from.getTime()) / 3_600_000;
  const groups = managedGroups(config).map((group): GroupSavings => {
    let schedule = 0;
    let baseline = 0;
    let fromFloor = 0;
    let fromDemand = 0;
    let demandBlind = 0;
    for (const sample of samples) {
      const g = sample.groups[group.name];
      if (g === undefined) continue;
      schedule += g.capacity * sample.hours;
      baseline += g.baseline * sample.hours;
      const saved = (g.baseline - g.capacity) * sample.hours;
      if (g.need <= g.floor) fromFloor += saved;
      else fromDemand += saved;
      demandBlind += (g.baselineFloor - g.floor) * sample.hours;
    }
    const perWeek = (n: number) => round(n / weeks);
    const saved = baseline - schedule;
    const price = priceOf(config, group.instanceType);
    const usd = (nodeHours: number) => (price ? round((nodeHours / weeks) * price.usdPerHour) : undefined);
    const role = group.role.kind === 'workspaces' ? 'workspaces' : 'provisioners';
    const absorbed = demandBlind - saved;
    const explanation =
      `${perWeek(saved)} of ${perWeek(baseline)} node-hours a week saved against ${peakProfile.name} all week` +
      (saved === 0 && demandBlind > 0
        ? `: the lower floor would save ${perWeek(demandBlind)}, but the running workspaces hold those nodes anyway`
        : absorbed > 0
          ? `; the lower floor alone would save ${perWeek(demandBlind)}, running workspaces keep ${perWeek(absorbed)} of it`
          : '') +
      (price
        ? ''
        : group.instanceType
          ? ` (no price for ${group.instanceType})`
          : ' (no instanceType: no dollars)');
    const scheduleUsd = usd(schedule);
    const baselineUsd = usd(baseline);
    const savedUsd = usd(saved);
    return {
      group: group.name,
      role,
      ...(group.instanceType ? { instanceType: group.instanceType } : {}),
      ...(price ? { price } : {}),
      scheduleNodeHours: perWeek(schedule),
      baselineNodeHours: perWeek(baseline),
      savedNodeHours: perWeek(saved),
      savedPercent: baseline > 0 ? round((100 * saved) / baseline, 1) : 0,
      fromLowerFloorNodeHours: perWeek(fromFloor),
      fromFollowingDemandNodeHours: perWeek(fromDemand),
      demandBlindEstimateNodeHours: perWeek(demandBlind),
      ...(scheduleUsd !== undefined ? { scheduleUsd } : {}),
      ...(baselineUsd !== undefined ? { baselineUsd } : {}),
      ...(savedUsd !== undefined ? { savedUsd } : {}),
      explanation,
    };
  });
  const sum = (pick: (g: GroupSavings) => number | undefined) =>
    round(groups.reduce((total, g) => total + (pick(g) ?? 0), 0));
  const notes = [...(input.notes ?? [])];
  if (coveredHours < windowHours) {
    notes.push(
      `data for ${round(coveredHours, 0)} of ${round(windowHours, 0)} hours: the figures cover only those hours (no extrapolation)`,
    );
  }
  return {
    source: input.source,
    timeZone: config.schedule.timeZone,
    from: input.window.from.toISOString(),
    to: input.window.to.toISOString(),
    weeks,
    windowHours: round(windowHours),
    coveredHours: round(coveredHours),
    peakProfile,
    demand: input.demand,
    groups,
    total: {
      scheduleNodeHours: sum((g) => g.scheduleNodeHours),
      baselineNodeHours: sum((g) => g.baselineNodeHours),
      savedNodeHours: sum((g) => g.savedNodeHours),
      scheduleUsd: sum((g) => g.scheduleUsd),
      baselineUsd: sum((g) => g.baselineUsd),
      savedUsd: sum((g) => g.savedUsd),
      unpriced: groups.filter((g) => g.price === undefined).map((g) => g.group),
    },
    notes,
    chart: input.chart,
  };
};

/** A simulated week: the schedule against the peak profile, with a demand curve. */
export const planWeekSavings = (input: SimulationInput): SavingsReport => {
  const samples = simulateWeek(input);
  const { from, to } = weekContaining(input.config, input.weekOf);
  const window = { from, to };
  const chart = { from: from.toISOString(), to: to.toISOString(), samples };
  const overrides = input.overrides ?? [];
  return summarizeSavings({
    config: input.config,
    source: 'simulation',
    samples,
    window,
    weeks: 1,
    demand: input.demand.description,
    chart,
    notes: [
      'running workspaces are split evenly across the workspace groups',
      ...overrides.map((o) => `override to ${o.profile} from ${o.setAt} until ${o.until} ("${o.reason}")`),
    ],
  });
};
