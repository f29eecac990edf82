/**
 * A paced run's continuation (issue 22): when a run stops at the provisioner cap with families
 * still to do, the reconcile Lambda asks to be invoked again shortly for those families, so the
 * controller keeps its jobs near the cap instead of waiting for the next scheduled run. Nothing
 * waits inside a Lambda: the wait is a one-time schedule. This is the event and the port; the
 * adapter is lambdas/adapters/aws/continuation-schedule.ts.
 */

import type { FamilyKey } from './model.js';

/** The event a continuation invokes the reconcile Lambda with (parsed back by events.ts). */
export interface ContinuationEvent {
  readonly trigger: 'continuation';
  readonly families: string[];
}

export const continuationEvent = (families: readonly FamilyKey[]): ContinuationEvent => ({
  trigger: 'continuation',
  families: families.map((f) => `${f.owner}/${f.parent}`),
});

export interface ContinuationRequest {
  /** When to run: the report's `afterSeconds` after the run ended. */
  readonly at: Date;
  readonly families: readonly FamilyKey[];
  /** The function to invoke: the reconcile function's own ARN, from the invocation. */
  readonly functionArn: string;
}

/** Schedules the one continuation of this deployment (a later request replaces an earlier one). */
export interface ContinuationScheduler {
  schedule(request: ContinuationRequest): Promise<void>;
}
