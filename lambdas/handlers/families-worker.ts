import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FamilyRetryScheduler } from '../adapters/aws/family-queue.js';
import type { Deadline } from '../core/contracts/deadline.js';
import type { LogSink } from '../core/contracts/log-sink.js';
import {
  addCounts,
  type FlushableMetricsSink,
  METRIC_UNIT,
  type MetricsSink,
} from '../core/contracts/metrics-sink.js';
import { FAMILY_METRICS, familyRunMetrics } from '../core/families/metrics.js';
import {
  FAMILY_START_MS,
  type ReconcileReport,
  type ReconcileRequest,
  UnknownTemplatesError,
} from '../core/families/run.js';
import { WORKER_METRICS } from '../core/families/webhook/metrics.js';
import { retryDelaySeconds } from '../core/families/webhook/redelivery.js';
import { type FamilyWorkItem, familyWorkItemSchema } from '../core/families/webhook/work-item.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { createWorkerDeps } from '../wiring/families.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

export { WORKER_METRICS };

/** The family was being reconciled by another run: try again shortly, it will be free. */
export class FamilyBusyError extends Error {
  override readonly name = 'FamilyBusyError';
}

/** The reconcile reported failed actions (Coder 5xx, timeouts…); SQS redelivers after a backoff. */
export class FamilyWorkFailedError extends Error {
  override readonly name = 'FamilyWorkFailedError';
}

/** The invocation ran out of time before this message's family was done; SQS brings it back. */
export class FamilyRunCutShortError extends Error {
  override readonly name = 'FamilyRunCutShortError';
}

/** The controller already has as many provisioner jobs in flight as it may; SQS brings the message back. */
export class FamilyRunPacedError extends Error {
  override readonly name = 'FamilyRunPacedError';
}

/** The message is not a work item the webhook could have written; retrying will not help. */
export class PoisonWorkItemError extends Error {
  override readonly name = 'PoisonWorkItemError';
}

export interface WorkerHandlerDeps {
  /** The engine's reconcile (`reconcileFamilies` bound to its dependencies). */
  readonly reconcile: (request: ReconcileRequest) => Promise<ReconcileReport>;
  /** Brings a failed message back sooner than the queue's visibility timeout. @default none */
  readonly retries?: FamilyRetryScheduler;
  readonly log: LogSink;
  readonly metrics: MetricsSink;
  /**
   * Publishes the engine's per-run figures (created, failures, Coder requests…) as one EMF document
   * per message, so each webhook-driven run's figures stay separate (a batch can hold several). @default none
   */
  readonly runMetrics?: FlushableMetricsSink;
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : 'unknown');

/**
 * The worker behind the family queue: one engine reconcile per message, scoped to the workspace
 * the event named. A message fails (and SQS redelivers it; after `maxReceiveCount` it goes to the
 * DLQ) when the family was locked by another run, when the reconcile failed, or when the body is
 * not a work item. Later messages of the same owner group fail with it, keeping their order.
 *
 * No idempotency record: a reconcile is level-triggered and idempotent (the ledger intent comes
 * before every create, and the family lock serializes runs), so a redelivered message does no
 * harm and re-checks the family against the state of now. Remembering "already done" for a
 * message id would skip that re-check after the family changed, and add a table for no gain.
 */
export const makeWorkerHandler = (deps: WorkerHandlerDeps) => {
  const processor = new SqsFifoPartialProcessorAsync();
  const count = (metric: string): void => {
    deps.metrics.addMetric(metric, METRIC_UNIT.count, 1);
  };

  const retryLater = async (
    record: SQSRecord,
    reason: Parameters<typeof retryDelaySeconds>[0],
  ): Promise<void> => {
    if (!deps.retries) return;
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    try {
      await deps.retries.retryAfter(record.receiptHandle, retryDelaySeconds(reason, receiveCount));
    } catch (error) {
      // The message still comes back, after the queue's visibility timeout.
      deps.log.warn('could not shorten the retry delay', {
        messageId: record.messageId,
        errorName: errorName(error),
      });
    }
  };

  const parse = (record: SQSRecord): FamilyWorkItem | undefined => {
    try {
      const parsed = familyWorkItemSchema.safeParse(JSON.parse(record.body));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };

  /** One message, under the invocation's deadline. */
  const processRecord =
    (deadline: Deadline | undefined) =>
    async (record: SQSRecord): Promise<string> => {
      if (deadline && deadline.remainingMs() < FAMILY_START_MS) {
        // No time for this one: back to the queue at once, untouched (not a failure).
        count(WORKER_METRICS.cutShort);
        await retryLater(record, 'cut-short');
        throw new FamilyRunCutShortError(`no time left in this invocation for message ${record.messageId}`);
      }
      const item = parse(record);
      if (!item) {
        count(WORKER_METRICS.poison);
        deps.log.error('family work message is not a work item; it will go to the DLQ', {
          messageId: record.messageId,
          outcome: 'poison',
        });
        await retryLater(record, 'poison');
        throw new PoisonWorkItemError(`message ${record.messageId} is not a family work item`);
      }
      const context = {
        messageId: item.messageId,
        kind: item.event,
        workspaceId: item.workspaceId ?? `${item.ownerName}/${item.workspaceName}`,
      };
      let report: ReconcileReport;
      try {
        report = await deps.reconcile({
          scope: {
            kind: 'workspace',
            ...(item.workspaceId ? { workspaceId: item.workspaceId } : {}),
            ...(item.ownerName ? { owner: item.ownerName } : {}),
            ...(item.workspaceName ? { name: item.workspaceName } : {}),
          },
          dryRun: false,
          trigger: 'webhook',
          ...(deadline ? { deadline } : {}),
        });
      } catch (error) {
        count(WORKER_METRICS.failed);
        if (error instanceof UnknownTemplatesError) {
          deps.metrics.addMetric(FAMILY_METRICS.templatesUnknown, METRIC_UNIT.count, error.unknown.length);
        }
        deps.log.error('family reconcile threw; SQS will redeliver', {
          ...context,
          outcome: 'error',
          errorName: errorName(error),
          error: error instanceof Error ? error.message : String(error),
        });
        await retryLater(record, 'failed');
        throw error;
      }
      if (deps.runMetrics) {
        addCounts(deps.runMetrics, familyRunMetrics(report));
        deps.runMetrics.publishStoredMetrics();
      }
      const outcome = {
        ...context,
        runId: report.runId,
        families: report.families,
        actions: report.actions.length,
        failures: report.failures,
        conflicts: report.conflicts,
      };
      if (report.incomplete && report.incomplete.reason !== 'deadline') {
        // Paced by Coder's provisioners: the message comes back once a job slot has had time to open.
        count(WORKER_METRICS.paced);
        deps.log.info("family run paced by Coder's provisioners; retrying later", {
          ...outcome,
          outcome: 'paced',
        });
        await retryLater(record, 'paced');
        throw new FamilyRunPacedError(report.incomplete.detail);
      }
      if (report.incomplete) {
        count(WORKER_METRICS.cutShort);
        deps.log.info('family run cut short by the deadline; retrying at once', {
          ...outcome,
          outcome: 'cut-short',
        });
        await retryLater(record, 'cut-short');
        throw new FamilyRunCutShortError(report.incomplete.detail);
      }
      const busy = [...report.skippedLocked, ...report.lockLost];
      if (busy.length > 0) {
        count(WORKER_METRICS.deferredLocked);
        deps.log.info('family busy with another run; retrying later', { ...outcome, outcome: 'locked' });
        await retryLater(record, 'locked');
        throw new FamilyBusyError(
          report.lockLost.length > 0
            ? `the lock of family ${report.lockLost.join(', ')} was lost mid-run; another run has it`
            : `family ${report.skippedLocked.join(', ')} is being reconciled by another run`,
        );
      }
      if (report.failures > 0) {
        count(WORKER_METRICS.failed);
        deps.log.warn('family reconcile had failures; retrying later', { ...outcome, outcome: 'failed' });
        await retryLater(record, 'failed');
        throw new FamilyWorkFailedError(`${report.failures} action(s) failed in run ${report.runId}`);
      }
      count(WORKER_METRICS.reconciled);
      deps.log.info('family reconciled', { ...outcome, outcome: 'done' });
      return report.runId;
    };

  return (
    event: SQSEvent,
    invocation: { readonly context?: Context; readonly deadline?: Deadline | undefined } = {},
  ): Promise<SQSBatchResponse> => {
    const context = invocation.context;
    return processPartialResponse(event, processRecord(invocation.deadline), processor, {
      ...(context ? { context } : {}),
      // Only the failed message's owner group stops; other owners in the batch carry on.
      skipGroupOnError: true,
      // Every failure is reported per item, so the event source keeps our visibility changes.
      throwOnFullBatchFailure: false,
    });
  };
};

export const handler = lambdaHandler(
  FUNCTION.familiesWorker,
  (observability) => makeWorkerHandler(createWorkerDeps(observability)),
  { middleware: ({ metrics }) => [coderApiMetrics(metrics)] },
);
