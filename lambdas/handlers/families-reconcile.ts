import { addCounts, type MetricsSink } from '../core/contracts/metrics-sink.js';
import { parseFamiliesReconcileEvent } from '../core/families/events.js';
import { familyRunMetrics } from '../core/families/metrics.js';
import type { FamilyReconcileDeps } from '../core/families/ports.js';
import { type ReconcileReport, reconcileFamilies } from '../core/families/run.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { createFamilyReconcileDeps } from '../wiring/families.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

export interface FamiliesReconcileHandlerDeps {
  readonly engine: FamilyReconcileDeps;
  readonly metrics: MetricsSink;
}

/** Parse, reconcile, publish, return the report (every action with its reason and outcome). */
export const makeHandler =
  (deps: FamiliesReconcileHandlerDeps) =>
  async (event: unknown): Promise<ReconcileReport & { scheduledTime?: string }> => {
    const { scheduledTime, ...request } = parseFamiliesReconcileEvent(event);
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
