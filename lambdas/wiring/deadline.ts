/**
 * A Lambda's deadline as the runs see it: `context.getRemainingTimeInMillis()` minus a safety margin
 * that leaves time to release locks, write the ledger and return the report after the last Coder call.
 * `lambdaHandler` computes it once per invocation and hands it to the handler as a value; the handler
 * passes it into its run and the run with every Coder call. Nothing holds it between invocations.
 */
import type { Context } from 'aws-lambda';
import type { Deadline } from '../core/contracts/deadline.js';

/** 5% of the time the invocation started with, at least 3 s and at most 15 s (15 s of a 5-minute run). */
export const deadlineMarginMs = (remainingAtStartMs: number): number =>
  Math.min(15_000, Math.max(3_000, Math.round(remainingAtStartMs * 0.05)));

/** The run's deadline from the Lambda context; undefined outside Lambda (no context: a test or the CLI). */
export const lambdaDeadline = (
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  marginMs?: number,
): Deadline | undefined => {
  if (!context || typeof context.getRemainingTimeInMillis !== 'function') return undefined;
  const margin = marginMs ?? deadlineMarginMs(context.getRemainingTimeInMillis());
  return { remainingMs: () => context.getRemainingTimeInMillis() - margin };
};
