import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  DEFAULT_RETRY,
  decideRetry,
  parseRetryAfterMs,
} from '../../../lambdas/adapters/coder/retry.js';

const options = { ...DEFAULT_RETRY };

describe('backoffDelayMs (full jitter)', () => {
  it('stays within [0, min(maxDelay, base * 2^(attempt-1))) for any attempt and random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, draw) => {
          const delay = backoffDelayMs(attempt, options, () => draw);
          const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(ceiling, 1));
        },
      ),
    );
  });

  it('doubles the ceiling per attempt until the cap', () => {
    const top = () => 0.999999;
    expect(backoffDelayMs(1, options, top)).toBe(199);
    expect(backoffDelayMs(2, options, top)).toBe(399);
    expect(backoffDelayMs(3, options, top)).toBe(799);
    expect(backoffDelayMs(10, options, top)).toBe(4999);
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-08-01T12:00:00Z');

  it.each([
    ['60', 60_000],
    ['0', 0],
    [' 2 ', 2_000],
    ['Sat, 01 Aug 2026 12:00:05 GMT', 5_000],
    ['Sat, 01 Aug 2026 11:59:00 GMT', 0],
  ])('reads %j as %d ms', (header, expected) => {
    expect(parseRetryAfterMs(header, now)).toBe(expected);
  });

  it.each([[null], [undefined], [''], ['soon'], ['-5']])('ignores %j', (header) => {
    expect(parseRetryAfterMs(header, now)).toBeUndefined();
  });
});

describe('decideRetry', () => {
  const random = () => 0.5;
  const decide = (
    failure: Parameters<typeof decideRetry>[0]['failure'],
    attempt: number,
    safeToRepeat: boolean,
  ) => decideRetry({ failure, attempt, safeToRepeat, options, random });

  it('repeats ambiguous failures only when the request is safe to repeat', () => {
    expect(decide({ type: 'ambiguous' }, 1, true)).toEqual({ retry: true, delayMs: 100 });
    expect(decide({ type: 'ambiguous' }, 1, false)).toEqual({ retry: false });
  });

  it('repeats a 429 for any method after exactly Retry-After', () => {
    expect(decide({ type: 'rate_limited', retryAfterMs: 1500 }, 1, false)).toEqual({
      retry: true,
      delayMs: 1500,
    });
  });

  it('falls back to backoff when a 429 has no Retry-After', () => {
    expect(decide({ type: 'rate_limited', retryAfterMs: undefined }, 2, false)).toEqual({
      retry: true,
      delayMs: 200,
    });
  });

  it('gives up on a Retry-After longer than maxRetryAfterMs rather than parking the Lambda', () => {
    expect(decide({ type: 'rate_limited', retryAfterMs: 120_000 }, 1, true)).toEqual({ retry: false });
  });

  it('never repeats final failures and stops at maxAttempts', () => {
    expect(decide({ type: 'final' }, 1, true)).toEqual({ retry: false });
    expect(decide({ type: 'ambiguous' }, options.maxAttempts, true)).toEqual({ retry: false });
    expect(decide({ type: 'rate_limited', retryAfterMs: 10 }, options.maxAttempts, true)).toEqual({
      retry: false,
    });
  });
});
