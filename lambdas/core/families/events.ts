import { z } from 'zod';
import { describeIssues } from '../contracts/validation.js';
import { parseFamilyId } from './model.js';
import { MAX_CONTINUATION_FAMILIES, type ReconcileRequest } from './run.js';

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a zone' });

/**
 * What the reconcile Lambda accepts: `{}` or `{"trigger":"schedule"}` (EventBridge Scheduler) for
 * a full reconcile, `{"dryRun":true}` to preview, `{"dryRun":true,"at":"<ISO>"}` to preview as of
 * another time (grace periods and backoff counted to `at`), `{"family":"<owner>/<parent>"}` for
 * one family, and any combination. A paced run's continuation comes from its SQS queue as
 * `{"trigger":"continuation","families":["<owner>/<parent>", …],"token":"<uuid>"}` (continuation.ts).
 */
const familyName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9-]+$/, 'must be "<owner>/<parent workspace>"');

export const familiesReconcileEventSchema = z
  .object({
    trigger: z.enum(['schedule', 'operator', 'continuation']).optional(),
    /** EventBridge Scheduler's `<aws.scheduler.scheduled-time>`: when this run was due; reported back. */
    scheduledTime: isoTime.optional(),
    dryRun: z.boolean().optional(),
    /** Plan as of this time instead of now (dry runs only). */
    at: isoTime.optional(),
    family: familyName.optional(),
    /** The families a paced run carried over, for its continuation. */
    families: z.array(familyName).min(1).max(MAX_CONTINUATION_FAMILIES).optional(),
    /** The continuation's pending lease, given back as its run starts. */
    token: z.uuid().optional(),
  })
  .strict()
  .refine((event) => event.family === undefined || event.families === undefined, {
    path: ['families'],
    message: 'give "family" or "families", not both',
  })
  .refine((event) => event.at === undefined || event.dryRun === true, {
    path: ['at'],
    message: 'plans for another time only in a dry run: add "dryRun": true',
  });

export class FamiliesReconcileEventError extends Error {
  override readonly name = 'FamiliesReconcileEventError';
}

/** The event as a reconcile request, or an error naming each bad field and what is accepted. */
export const parseFamiliesReconcileEvent = (
  event: unknown,
): ReconcileRequest & { readonly scheduledTime?: string; readonly continuationToken?: string } => {
  const result = familiesReconcileEventSchema.safeParse(unwrapQueueMessage(event) ?? {});
  if (!result.success) {
    const problems = describeIssues(result.error, { root: '(event)' }).join('; ');
    throw new FamiliesReconcileEventError(
      `Invalid families-reconcile event (${problems}). Accepted: {"trigger":"schedule"}, {"dryRun":true}, {"dryRun":true,"at":"<ISO time>"}, {"family":"<owner>/<parent>"}, {"trigger":"continuation","families":["<owner>/<parent>"]} and combinations.`,
    );
  }
  const { trigger, dryRun, family, families, scheduledTime, at, token } = result.data;
  return {
    scope: families
      ? { kind: 'families', families: families.map(parseFamilyId) }
      : family
        ? { kind: 'family', ...parseFamilyId(family) }
        : { kind: 'all' },
    dryRun: dryRun ?? false,
    trigger: trigger ?? 'operator',
    ...(scheduledTime ? { scheduledTime } : {}),
    ...(at ? { at } : {}),
    ...(token ? { continuationToken: token } : {}),
  };
};

/**
 * A continuation arrives as an SQS event of one record (the event source's batch size is 1): its
 * body is the event. Anything else is the event itself.
 */
const unwrapQueueMessage = (event: unknown): unknown => {
  if (typeof event !== 'object' || event === null || !('Records' in event) || !Array.isArray(event.Records)) {
    return event;
  }
  const records = event.Records as Array<{ eventSource?: unknown; body?: unknown }>;
  if (records.length !== 1 || records[0]?.eventSource !== 'aws:sqs' || typeof records[0].body !== 'string') {
    throw new FamiliesReconcileEventError(
      `Invalid families-reconcile event: an SQS event must hold exactly one message (the continuation queue's batch size is 1); it held ${records.length}.`,
    );
  }
  try {
    return JSON.parse(records[0].body);
  } catch {
    throw new FamiliesReconcileEventError(
      'Invalid families-reconcile event: the SQS message body is not JSON.',
    );
  }
};
