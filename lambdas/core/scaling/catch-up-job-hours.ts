import type { MetricPoint } from './savings-history.js';

/**
 * What the families controller's catch-up cost Coder's provisioners, in job-hours, from the pacing
 * metrics the families reconcile publishes (issue 22). Beside the node-hours the schedule saves,
 * so a saving is not read without the provisioner time the controller's own builds took. Pure:
 * hourly datapoints in, figures out; the CloudWatch reading is in
 * lambdas/adapters/aws/families-pacing-history.ts.
 *
 * A run publishes its figures only when it was about to queue a job (core/families/metrics.ts
 * `pacingMetrics`), so an hour with no datapoint had no such run and counts 0. The figure is the
 * controller's jobs pending or running at the start of each such run, averaged over the hour's
 * runs: job-hours of its own builds (pending included), not node-hours.
 */

/** Hourly datapoints of the families pacing metrics, each at the start of its hour. */
export interface FamiliesPacingHistory {
  /** `FamilyProvisionerJobsActive`, Average: the controller's jobs in flight, mean over the hour's runs. */
  readonly jobsInFlight: readonly MetricPoint[];
  /** `FamilyProvisionerJobsActive`, SampleCount: how many runs were about to queue a job that hour. */
  readonly pacedRuns: readonly MetricPoint[];
  /** `FamilyProvisionerAtCap`, Maximum: 1 when some run that hour stopped at the cap with children missing. */
  readonly atCap: readonly MetricPoint[];
}

export type CatchUpJobHours =
  | {
      readonly kind: 'measured';
      /** Σ over the hours of the mean number of the controller's jobs in flight × 1 h. */
      readonly jobHours: number;
      /** Hours with at least one paced run (the others count 0). */
      readonly hoursWithRuns: number;
      /** Runs that were about to queue a job. */
      readonly pacedRuns: number;
      /** Hours in which some run stopped at the cap with children still missing. */
      readonly hoursAtCap: number;
    }
  /** Not one datapoint in the window: nothing measured, which is not the same as 0. */
  | { readonly kind: 'no-metrics' };

export class CatchUpInputError extends Error {
  override readonly name = 'CatchUpInputError';
}

/** The points of a series inside [from, to), by their time; a bad point is an error naming the series. */
const hourly = (
  series: string,
  points: readonly MetricPoint[],
  from: Date,
  to: Date,
): Map<number, number> => {
  const byHour = new Map<number, number>();
  for (const point of points) {
    const at = Date.parse(point.at);
    if (Number.isNaN(at)) throw new CatchUpInputError(`${series}: "${point.at}" is not a time`);
    if (!Number.isFinite(point.value) || point.value < 0) {
      throw new CatchUpInputError(`${series} at ${point.at}: ${point.value} is not a count (finite, ≥ 0)`);
    }
    if (byHour.has(at)) throw new CatchUpInputError(`${series}: two datapoints at ${point.at}`);
    // CloudWatch answers [StartTime, EndTime); anything else belongs to another window.
    if (at >= from.getTime() && at < to.getTime()) byHour.set(at, point.value);
  }
  return byHour;
};

const round = (n: number): number => Math.round(n * 100) / 100;

/** Job-hours of the families catch-up over [from, to), from the hourly pacing metrics. */
export const catchUpJobHours = (history: FamiliesPacingHistory, from: Date, to: Date): CatchUpJobHours => {
  if (!(from.getTime() < to.getTime())) {
    throw new CatchUpInputError(
      `the window must end after it starts: ${from.toISOString()} to ${to.toISOString()}`,
    );
  }
  const mean = hourly('jobs in flight (Average)', history.jobsInFlight, from, to);
  const runs = hourly('paced runs (SampleCount)', history.pacedRuns, from, to);
  const atCap = hourly('at cap (Maximum)', history.atCap, from, to);
  if (mean.size === 0 && runs.size === 0 && atCap.size === 0) return { kind: 'no-metrics' };
  let jobHours = 0;
  let pacedRuns = 0;
  let hoursWithRuns = 0;
  for (const [at, count] of runs) {
    if (count === 0) continue;
    const jobs = mean.get(at);
    // Both statistics come from the same datapoints: one without the other is a broken read.
    if (jobs === undefined) {
      throw new CatchUpInputError(`${new Date(at).toISOString()}: ${count} paced runs but no average`);
    }
    jobHours += jobs;
    pacedRuns += count;
    hoursWithRuns += 1;
  }
  for (const at of mean.keys()) {
    if (!runs.get(at)) {
      throw new CatchUpInputError(`${new Date(at).toISOString()}: an average of jobs in flight but no runs`);
    }
  }
  const hoursAtCap = [...atCap.values()].filter((max) => max >= 1).length;
  return { kind: 'measured', jobHours: round(jobHours), hoursWithRuns, pacedRuns, hoursAtCap };
};
