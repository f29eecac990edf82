import type { Deadline } from '../core/contracts/deadline.js';
import { addCounts, METRIC_UNIT, type MetricsSink } from '../core/contracts/metrics-sink.js';
import { parseFamiliesReconcileEvent } from '../core/families/events.js';
import { FAMILY_METRICS, familyRunMetrics } from '../core/families/metrics.js';
import type { FamilyReconcileDeps } from '../core/families/ports.js';
import { type ReconcileReport, reconcileFamilies, UnknownTemplatesError } from '../core/families/run.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { createFamilyReconcileDeps } from '../wiring/families.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

export interface FamiliesReconcileHandlerDeps {
  readonly engine: FamilyReconcileDeps;
  readonly metrics: MetricsSink;
}

/**
 * Parse, reconcile, publish, return the report (every action with its reason and outcome). The
 * run plans against the invocation's remaining time: one cut short returns its report with
 * `incomplete` (and the `FamiliesRunCutShort` metric) instead of being killed by the timeout.
 */
export const makeHandler =
  (deps: FamiliesReconcileHandlerDeps) =>
  async (
    event: unknown,
    invocation: { readonly deadline?: Deadline | undefined } = {},
  ): Promise<ReconcileReport & { scheduledTime?: string }> => {
    const { scheduledTime, ...parsed } = parseFamiliesReconcileEvent(event);
    const request = { ...parsed, ...(invocation.deadline ? { deadline: invocation.deadline } : {}) };
    let report: ReconcileReport;
    try {
      report = await reconcileFamilies(deps.engine, request);
    } catch (error) {
      // A configured template Coder does not have: the run changed nothing; say so to the alarm too.
      if (error instanceof UnknownTemplatesError && !request.dryRun) {
        deps.metrics.addMetric(FAMILY_METRICS.templatesUnknown, METRIC_UNIT.count, error.unknown.length);
      }
      throw error;
    }
    // A dry run publishes nothing, so previewing never moves an alarm.
    if (!report.dryRun) {
      addCounts(deps.metrics, familyRunMetrics(report));
    }
    return scheduledTime ? { ...report, scheduledTime } : report;
  };

export const handler = lambdaHandler(
  FUNCTION.familiesReconcile,
  (observability) =>
    makeHandler({
      engine: createFamilyReconcileDeps(process.env, observability),
      metrics: observability.metrics,
    }),
  { middleware: ({ metrics }) => [coderApiMetrics(metrics)] },
);
