import { randomUUID } from 'node:crypto';
import type { Deadline } from '../core/contracts/deadline.js';
import { addCounts, METRIC_UNIT, type MetricsSink } from '../core/contracts/metrics-sink.js';
import {
  type ContinuationLocks,
  type ContinuationOutcome,
  type ContinuationQueue,
  claimContinuation,
  deferScheduledRun,
  scheduleContinuation,
} from '../core/families/continuation.js';
import { parseFamiliesReconcileEvent } from '../core/families/events.js';
import { describe } from '../core/families/executor.js';
import { FAMILY_METRICS, familyRunMetrics } from '../core/families/metrics.js';
import type { FamilyReconcileDeps } from '../core/families/ports.js';
import {
  type ReconcileReport,
  type ReconcileRequest,
  reconcileFamilies,
  UnknownTemplatesError,
} from '../core/families/run.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { createContinuations, createFamilyReconcileDeps } from '../wiring/families.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

export interface FamiliesReconcileHandlerDeps {
  readonly engine: FamilyReconcileDeps;
  readonly metrics: MetricsSink;
  /** Where a paced run's continuation goes, and its pending lease; undefined where none is deployed. */
  readonly continuations?:
    | { readonly queue: ContinuationQueue; readonly locks: ContinuationLocks }
    | undefined;
  /** @default a random UUID */
  readonly newToken?: () => string;
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
  ): Promise<
    (ReconcileReport & { scheduledTime?: string; continued?: ContinuationOutcome }) | DeferredRun
  > => {
    const { scheduledTime, continuationToken, ...parsed } = parseFamiliesReconcileEvent(event);
    const request = { ...parsed, ...(invocation.deadline ? { deadline: invocation.deadline } : {}) };
    const deferred = await deferToContinuations(deps, request);
    if (deferred) return { deferred, trigger: request.trigger, ...(scheduledTime ? { scheduledTime } : {}) };
    // This continuation is no longer pending: the run's own outcome may send the next.
    if (continuationToken && deps.continuations) {
      await claimContinuation(deps.continuations.locks, continuationToken);
    }
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
    const continued = await continueLater(deps, report);
    return { ...report, ...(scheduledTime ? { scheduledTime } : {}), ...(continued ? { continued } : {}) };
  };

/** A scheduled run that left its tick to the continuations catching up (no Coder call made). */
export interface DeferredRun {
  readonly deferred: string;
  readonly trigger: ReconcileRequest['trigger'];
  readonly scheduledTime?: string;
}

const deferToContinuations = async (
  deps: FamiliesReconcileHandlerDeps,
  request: ReconcileRequest,
): Promise<string | undefined> => {
  if (request.trigger !== 'schedule' || request.dryRun || !deps.continuations) return undefined;
  const reason = await deferScheduledRun(deps.continuations.locks, {
    now: deps.engine.now().getTime(),
    everyMs: deps.engine.config.pacing.fullRunMinutesWhileContinuing * 60_000,
    runId: (deps.newToken ?? randomUUID)(),
  });
  if (reason) deps.engine.log.info('scheduled reconcile deferred', { reason });
  return reason;
};

/**
 * Sends the report's continuation (unless one is pending). A failure loses nothing (the next
 * scheduled run carries on) and is said in the log, the metric and the returned report.
 */
const continueLater = async (
  deps: FamiliesReconcileHandlerDeps,
  report: ReconcileReport,
): Promise<ContinuationOutcome | undefined> => {
  const wanted = report.continuation;
  if (!wanted) return undefined;
  if (!deps.continuations) {
    return { notScheduled: 'no continuation queue is configured here; the next scheduled run continues' };
  }
  try {
    const outcome = await scheduleContinuation(
      { ...deps.continuations, now: deps.engine.now },
      { ...wanted, token: (deps.newToken ?? randomUUID)(), supersede: report.trigger !== 'continuation' },
    );
    deps.engine.log.info('continuation', {
      runId: report.runId,
      families: wanted.families.length,
      ...outcome,
    });
    return outcome;
  } catch (error) {
    const detail = `could not send the continuation (${describe(error)}); the next scheduled run continues. Check the function's sqs:SendMessage permission on the continuation queue`;
    deps.engine.log.warn(detail, { runId: report.runId });
    deps.metrics.addMetric(FAMILY_METRICS.continuationFailed, METRIC_UNIT.count, 1);
    return { notScheduled: detail };
  }
};

export const handler = lambdaHandler(
  FUNCTION.familiesReconcile,
  (observability) =>
    makeHandler({
      engine: createFamilyReconcileDeps(process.env, observability),
      metrics: observability.metrics,
      continuations: createContinuations(process.env, observability.tracer),
    }),
  { middleware: ({ metrics }) => [coderApiMetrics(metrics)] },
);
