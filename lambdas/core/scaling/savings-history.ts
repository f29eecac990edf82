import { activeProfileAt } from './calendar.js';
import { managedGroups, type ScalingConfig } from './config.js';
import { SCALING_METRICS, type ScalingDatapoint } from './metrics.js';
import { runningFloor } from './planner.js';
import type { ScalerReport } from './run.js';
import {
  calendarChanges,
  type GroupSample,
  groupSample,
  peakProfileOf,
  type SavingsReport,
  type SavingsSample,
  summarizeSavings,
} from './savings.js';

/**
 * What the scaler really did, as savings: its published capacity and running workspaces, hour by
 * hour, through the same summary as a simulated week; and the per-run gauge the dashboard sums.
 */

/** One metric datapoint: the hour it starts and its value. */
export interface MetricPoint {
  readonly at: string;
  readonly value: number;
}

/** What the scaler published for one group: hourly averages of the desired size it set, and of running workspaces. */
export interface GroupHistory {
  readonly group: string;
  readonly capacity: readonly MetricPoint[];
  readonly running: readonly MetricPoint[];
}

/**
 * Hourly samples from the scaler's metrics over [from, to). An hour counts only when every managed
 * group has a capacity datapoint. The profile is the calendar's (overrides are not in the metrics).
 */
export const historySamples = (
  config: ScalingConfig,
  histories: readonly GroupHistory[],
  from: Date,
  to: Date,
): SavingsSample[] => {
  const peak = peakProfileOf(config).name;
  const byGroup = new Map(
    histories.map((h) => [
      h.group,
      {
        capacity: new Map(h.capacity.map((p) => [Date.parse(p.at), p.value])),
        running: new Map(h.running.map((p) => [Date.parse(p.at), p.value])),
      },
    ]),
  );
  const groups = managedGroups(config);
  const changes = calendarChanges(config, from, to);
  const samples: SavingsSample[] = [];
  let profile = activeProfileAt(config.schedule, from).profile;
  for (let t = from.getTime(); t < to.getTime(); t += 3_600_000) {
    const at = new Date(t);
    if (changes.some((c) => c > t - 3_600_000 && c <= t))
      profile = activeProfileAt(config.schedule, at).profile;
    const perGroup: Record<string, GroupSample> = {};
    for (const group of groups) {
      const series = byGroup.get(group.name);
      const capacity = series?.capacity.get(t);
      if (capacity === undefined) break;
      const running = series?.running.get(t);
      perGroup[group.name] = groupSample({
        group,
        profile,
        peak,
        capacity,
        ...(running !== undefined && group.role.kind === 'workspaces'
          ? { running, runningNeed: runningFloor(running, group.role.workspacesPerNode) }
          : {}),
      });
    }
    if (Object.keys(perGroup).length === groups.length) {
      samples.push({ at: at.toISOString(), hours: 1, profile, groups: perGroup });
    }
  }
  return samples;
};

/** Savings from `weeks` weeks of the scaler's metrics ending at `to`; the chart shows the last week. */
export const historySavings = (input: {
  readonly config: ScalingConfig;
  readonly histories: readonly GroupHistory[];
  readonly from: Date;
  readonly to: Date;
  readonly weeks: number;
}): SavingsReport => {
  const { config, from, to } = input;
  const samples = historySamples(config, input.histories, from, to);
  const chartFrom = new Date(Math.max(from.getTime(), to.getTime() - 7 * 86_400_000));
  return summarizeSavings({
    config,
    source: 'history',
    samples,
    window: { from, to },
    weeks: input.weeks,
    demand:
      'measured: the desired sizes the scaler set (hourly averages) and the running workspaces it counted',
    chart: {
      from: chartFrom.toISOString(),
      to: to.toISOString(),
      samples: samples.filter((s) => Date.parse(s.at) >= chartFrom.getTime()),
    },
    notes: [
      'the profile of each hour is the calendar’s: overrides are not in the metrics',
      'nodes above the schedule’s floor count as held by demand, so the baseline holds them too',
    ],
  });
};

/**
 * Nodes saved right now against the peak profile, per group, from a scaler run: the gauge the
 * dashboard integrates into node-hours (its average over a week × the week's hours).
 */
export const nodesSavedDatapoints = (config: ScalingConfig, report: ScalerReport): ScalingDatapoint[] => {
  const peak = peakProfileOf(config).name;
  const points: ScalingDatapoint[] = [];
  for (const g of report.groups) {
    const group = config.nodeGroups.find((c) => c.name === g.group);
    if (group === undefined || group.role.kind === 'static' || g.target === undefined) continue;
    if (!group.profiles[report.profile.profile] || !group.profiles[peak]) continue;
    const sample = groupSample({
      group,
      profile: report.profile.profile,
      peak,
      capacity: g.target.desiredSize,
      ...(g.runningFloor !== undefined ? { runningNeed: g.runningFloor } : {}),
    });
    points.push({
      name: SCALING_METRICS.nodesSavedVsPeak,
      value: sample.baseline - sample.capacity,
      group: g.group,
    });
  }
  return points;
};
