import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { familyRunMetrics } from '../core/families/metrics.js';
import type { FamilyReconcileDeps } from '../core/families/ports.js';
import { type ReconcileReport, type ReconcileRequest, reconcileFamilies } from '../core/families/run.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { createFamilyReconcileDeps } from '../wiring/families.js';
import { createObservability } from '../wiring/observability.js';

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
    const problems = result.error.issues
      .map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`)
      .join('; ');
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
  readonly metrics: Pick<Metrics, 'addMetric'>;
}

/** Parse, reconcile, publish, return the report (every action with its reason and outcome). */
export const makeHandler =
  (deps: FamiliesReconcileHandlerDeps) =>
  async (event: unknown): Promise<ReconcileReport> => {
    const request = parseFamiliesReconcileEvent(event);
    const report = await reconcileFamilies(deps.engine, request);
    // A dry run publishes nothing, so previewing never moves an alarm.
    if (!report.dryRun) {
      for (const { name, value } of familyRunMetrics(report))
        deps.metrics.addMetric(name, MetricUnit.Count, value);
    }
    return report;
  };

const observability = createObservability('families-reconcile');

let run: ReturnType<typeof makeHandler> | undefined;

export const handler = middy<unknown, ReconcileReport>()
  .use(injectLambdaContext(observability.logger))
  .use(captureLambdaHandler(observability.tracer))
  .use(logMetrics(observability.metrics))
  .use(coderApiMetrics(observability.metrics))
  .handler((event) => {
    run ??= makeHandler({
      engine: createFamilyReconcileDeps(process.env, {
        logger: observability.logger,
        tracer: observability.tracer,
      }),
      metrics: observability.metrics,
    });
    return run(event);
  });
