import type { Deadline } from '../core/contracts/deadline.js';
import { type DimensionedMetricsSink, METRIC_UNIT } from '../core/contracts/metrics-sink.js';
import { parseScalerEvent } from '../core/scaling/events.js';
import { NODE_GROUP_DIMENSION, scalingDatapoints } from '../core/scaling/metrics.js';
import {
  runNodeGroupScaler,
  type ScalerDeps,
  type ScalerReport,
  ScalingRunError,
} from '../core/scaling/run.js';
import { nodesSavedDatapoints } from '../core/scaling/savings-history.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';
import { createScalingSchedulerDeps } from '../wiring/scaling.js';

export interface NodeGroupScalerHandlerDeps extends ScalerDeps {
  readonly metrics: DimensionedMetricsSink;
}

/** Publishes the run's datapoints; a dry run publishes nothing, so it never trips an alarm. */
const publish = (deps: NodeGroupScalerHandlerDeps, report: ScalerReport): void => {
  if (report.dryRun) return;
  const metrics = deps.metrics;
  for (const point of [...scalingDatapoints(report), ...nodesSavedDatapoints(deps.config, report)]) {
    if (point.group === undefined) {
      metrics.addMetric(point.name, METRIC_UNIT.count, point.value);
    } else {
      const single = metrics.singleMetric();
      single.addDimension(NODE_GROUP_DIMENSION, point.group);
      single.addMetric(point.name, METRIC_UNIT.count, point.value);
    }
  }
};

/**
 * Parse, run, report. A failure of one group does not stop the others; the run throws at the
 * end so the async invocation's on-failure destination and the alarms see it. Every Coder read
 * stops at the invocation's deadline; a run cut short keeps the nodes it could not count and
 * reports `incomplete`, which is not a failure.
 */
export const makeHandler =
  (deps: NodeGroupScalerHandlerDeps) =>
  async (
    event: unknown,
    invocation: { readonly deadline?: Deadline | undefined } = {},
  ): Promise<ScalerReport> => {
    const request = parseScalerEvent(event);
    const report = await runNodeGroupScaler(request, deps, { deadline: invocation.deadline });
    publish(deps, report);
    if (report.failures.length > 0 && !report.dryRun) throw new ScalingRunError(report);
    return report;
  };

export const handler = lambdaHandler(
  FUNCTION.scalingScheduler,
  (observability) => makeHandler(createScalingSchedulerDeps(observability)),
  { middleware: ({ metrics }) => [coderApiMetrics(metrics)] },
);
