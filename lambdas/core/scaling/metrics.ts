import type { ScalerReport } from './run.js';

/** Metric names the scaler publishes; the construct's alarms use the same names. */
export const SCALING_METRICS = {
  updates: 'NodeGroupUpdates',
  failures: 'ScalingFailures',
  nodesBelowFloor: 'NodesBelowRunningFloor',
  runningWorkspaces: 'RunningWorkspaces',
  targetMin: 'TargetMinSize',
  targetDesired: 'TargetDesiredSize',
  targetMax: 'TargetMaxSize',
  actualMin: 'ActualMinSize',
  actualDesired: 'ActualDesiredSize',
  actualMax: 'ActualMaxSize',
  /** Nodes the peak profile would hold now minus what the schedule holds (core/scaling/savings.ts). */
  nodesSavedVsPeak: 'NodesSavedVsPeak',
  /** Holidays in the calendar's next 12 months: 0 means the holiday list has run out. */
  holidaysNext12Months: 'HolidaysNext12Months',
  /**
   * Configured template names that match no template in Coder (renamed, deleted, misspelt): their
   * groups keep every node. Published by runs that checked the names against Coder.
   */
  templatesUnknown: 'ScalingTemplatesUnknown',
} as const;

/** The dimension of per-group metrics. */
export const NODE_GROUP_DIMENSION = 'NodeGroup';

export interface ScalingDatapoint {
  readonly name: (typeof SCALING_METRICS)[keyof typeof SCALING_METRICS];
  readonly value: number;
  /** Per-group datapoints carry the NodeGroup dimension. */
  readonly group?: string;
}

/** The datapoints a run publishes: sizes per group (target vs actual), demand, updates, failures. */
export const scalingDatapoints = (report: ScalerReport): ScalingDatapoint[] => {
  const points: ScalingDatapoint[] = [
    { name: SCALING_METRICS.updates, value: report.updates },
    { name: SCALING_METRICS.failures, value: report.failures.length },
    ...(report.holidays
      ? [{ name: SCALING_METRICS.holidaysNext12Months, value: report.holidays.next12Months }]
      : []),
  ];
  if (report.templatesUnknown !== undefined) {
    points.push({ name: SCALING_METRICS.templatesUnknown, value: report.templatesUnknown.length });
  }
  for (const g of report.groups) {
    if (g.current) {
      points.push(
        { name: SCALING_METRICS.actualMin, value: g.current.minSize, group: g.group },
        { name: SCALING_METRICS.actualDesired, value: g.current.desiredSize, group: g.group },
        { name: SCALING_METRICS.actualMax, value: g.current.maxSize, group: g.group },
      );
    }
    if (g.target) {
      points.push(
        { name: SCALING_METRICS.targetMin, value: g.target.minSize, group: g.group },
        { name: SCALING_METRICS.targetDesired, value: g.target.desiredSize, group: g.group },
        { name: SCALING_METRICS.targetMax, value: g.target.maxSize, group: g.group },
      );
    }
    if (g.runningWorkspaces !== undefined) {
      points.push({ name: SCALING_METRICS.runningWorkspaces, value: g.runningWorkspaces, group: g.group });
    }
    if (g.runningFloor !== undefined && g.current) {
      points.push({
        name: SCALING_METRICS.nodesBelowFloor,
        value: Math.max(0, g.runningFloor - g.current.desiredSize),
        group: g.group,
      });
    }
  }
  return points;
};
