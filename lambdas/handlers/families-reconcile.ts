import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { addCounts, type MetricsSink } from '../core/contracts/metrics-sink.js';
import { describeIssues } from '../core/contracts/validation.js';
import { familyRunMetrics } from '../core/families/metrics.js';
import type { FamilyReconcileDeps } from '../core/families/ports.js';
import { type ReconcileReport, type ReconcileRequest, reconcileFamilies } from '../core/families/run.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { lambdaDeadline } from '../wiring/deadline.js';
import { createFamilyReconcileDeps } from '../wiring/families.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

/**
 * What the reconcile Lambda accepts: `{}` or `{"trigger":"schedule"}` (EventBridge Scheduler) for
 * a full reconcile, `{"dryRun":true}` to preview, `{"family":"<owner>/<parent>"}` for one family,
 * and any combination.
 */
export const familiesReconcileEventSchema = z
  .object({
    trigger: z.enum(['schedule', 'operator']).optional(),
    dryRun: z.boolean().optional(),
    family: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9-]+$/, 'must be "<owner>/<parent workspace>"')
      .optional(),
  })
  .strict();

export class FamiliesReconcileEventError extends Error {
  override readonly name = 'FamiliesReconcileEventError';
}

/** The event as a reconcile request, or an error naming each bad field and what is accepted. */
export const parseFamiliesReconcileEvent = (event: unknown): ReconcileRequest => {
  const result = familiesReconcileEventSchema.safeParse(event ?? {});
  if (!result.success) {
    const problems = describeIssues(result.error, { root: '(event)' }).join('; ');
    throw new FamiliesReconcileEventError(
      `Invalid families-reconcile event (${problems}). Accepted: {"trigger":"schedule"}, {"dryRun":true}, {"family":"<owner>/<parent>"} and combinations.`,
    );
  }
  const { trigger, dryRun, family } = result.data;
  const [owner, parent] = family ? family.split('/') : [];
  return {
    scope: owner && parent ? { kind: 'family', owner, parent } : { kind: 'all' },
    dryRun: dryRun ?? false,
    trigger: trigger ?? 'operator',
  };
};

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
  async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<ReconcileReport> => {
    const deadline = lambdaDeadline(context);
    const request = { ...parseFamiliesReconcileEvent(event), ...(deadline ? { deadline } : {}) };
    const report = await reconcileFamilies(deps.engine, request);
    // A dry run publishes nothing, so previewing never moves an alarm.
    if (!report.dryRun) {
      addCounts(deps.metrics, familyRunMetrics(report));
    }
    return report;
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
