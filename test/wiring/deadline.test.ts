import { describe, expect, it } from 'vitest';
import {
  deadlineMarginMs,
  invocationDeadline,
  invocationDeadlineMiddleware,
  lambdaDeadline,
} from '../../lambdas/wiring/deadline.js';

describe('the Lambda deadline', () => {
  it.each([
    [300_000, 15_000],
    [120_000, 6_000],
    [10_000, 3_000],
    [900_000, 15_000],
  ])('keeps a margin of 5%%, 3 to 15 s: %i ms left gives %i ms', (remaining, margin) => {
    expect(deadlineMarginMs(remaining)).toBe(margin);
  });

  it('follows getRemainingTimeInMillis minus the margin fixed at the start', () => {
    let left = 300_000;
    const deadline = lambdaDeadline({ getRemainingTimeInMillis: () => left });
    expect(deadline?.remainingMs()).toBe(285_000);
    left = 20_000;
    expect(deadline?.remainingMs()).toBe(5_000);
    expect(lambdaDeadline(undefined)).toBeUndefined();
  });

  it('sets the invocation deadline for the Coder clients around each invocation only', () => {
    const middleware = invocationDeadlineMiddleware();
    expect(invocationDeadline.remainingMs()).toBe(Number.POSITIVE_INFINITY);
    middleware.before({ context: { getRemainingTimeInMillis: () => 60_000 } as never });
    expect(invocationDeadline.remainingMs()).toBe(57_000);
    middleware.onError();
    expect(invocationDeadline.remainingMs()).toBe(Number.POSITIVE_INFINITY);
  });
});
