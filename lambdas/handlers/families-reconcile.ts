import type { Context } from 'aws-lambda';
import { addCounts, type MetricsSink } from '../core/contracts/metrics-sink.js';
import { parseFamiliesReconcileEvent } from '../core/families/events.js';
import { familyRunMetrics } from '../core/families/metrics.js';
import type { FamilyReconcileDeps } from '../core/families/ports.js';
import { type ReconcileReport, reconcileFamilies } from '../core/families/run.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { lambdaDeadline } from '../wiring/deadline.js';
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
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<ReconcileReport & { scheduledTime?: string }> => {
    const deadline = lambdaDeadline(context);
    const { scheduledTime, ...parsed } = parseFamiliesReconcileEvent(event);
    const request = { ...parsed, ...(deadline ? { deadline } : {}) };
    const report = await reconcileFamilies(deps.engine, request);
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
