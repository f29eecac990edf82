import { describe, expect, it } from 'vitest';
import { deadlineMarginMs, lambdaDeadline } from '../../lambdas/wiring/deadline.js';
import { lambdaHandler } from '../../lambdas/wiring/lambda-handler.js';
import { FUNCTION } from '../../lambdas/wiring/names.js';
import { lambdaContext } from '../support/lambda.js';

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

  it("is handed to the handler as a value, one per invocation, from that invocation's context", async () => {
    // Prepare: a handler that reports the deadline it was given, built once as in a warm container.
    const handler = lambdaHandler(
      FUNCTION.scalingScheduler,
      () => async (_event: unknown, invocation) => invocation.deadline?.remainingMs(),
      { metrics: false },
    );
    const invokedWith = (leftMs: number) => ({
      ...lambdaContext(FUNCTION.scalingScheduler),
      getRemainingTimeInMillis: () => leftMs,
    });

    // Act
    const first = await handler({}, invokedWith(60_000));
    const second = await handler({}, invokedWith(300_000));

    // Assess: each invocation's own time left, less its margin.
    expect(first).toBe(57_000);
    expect(second).toBe(285_000);
  });
});
