/** Retry policy: which failures are worth repeating, and how long to wait before the next attempt. */

export interface RetryOptions {
  /** Total attempts including the first. @default 4 */
  maxAttempts: number;
  /** @default 200 */
  baseDelayMs: number;
  /** Cap on one backoff delay. @default 5000 */
  maxDelayMs: number;
  /**
   * The longest `Retry-After` the client will wait out; a longer one fails at once as
   * `rate_limited` rather than parking a Lambda for minutes. @default 60000 (Coder sends 60s)
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  maxRetryAfterMs: 60_000,
};

/**
 * Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * uniform in [0, min(maxDelay, base * 2^(attempt-1))). `attempt` is the attempt that just
 * failed, starting at 1. Full jitter spreads a fleet of parallel retries instead of re-aligning them.
 */
export const backoffDelayMs = (
  attempt: number,
  options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number => {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
};

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP date (RFC 9110 10.2.3).
 * Undefined when absent or unparseable; a date in the past gives 0.
 */
export const parseRetryAfterMs = (header: string | null | undefined, nowMs: number): number | undefined => {
  if (header == null) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date always names a weekday or month; this keeps Date.parse from reading "-5" as a year.
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
};

/**
 * What failed on one attempt. `ambiguous` failures (network error, timeout, 5xx) may have had
 * their side effect on the server; a 429 never did.
 */
export type AttemptFailure =
  | { type: 'ambiguous' }
  | { type: 'rate_limited'; retryAfterMs: number | undefined }
  | { type: 'final' };

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * Whether to make another attempt. Ambiguous failures repeat only for requests safe to repeat, so
 * a create whose 5xx may have committed is surfaced to the caller to reconcile instead.
 */
export const decideRetry = (input: {
  failure: AttemptFailure;
  attempt: number;
  safeToRepeat: boolean;
  options: RetryOptions;
  random: () => number;
}): RetryDecision => {
  const { failure, attempt, safeToRepeat, options, random } = input;
  if (attempt >= options.maxAttempts) return { retry: false };
  switch (failure.type) {
    case 'final':
      return { retry: false };
    case 'ambiguous':
      return safeToRepeat
        ? { retry: true, delayMs: backoffDelayMs(attempt, options, random) }
        : { retry: false };
    case 'rate_limited': {
      if (failure.retryAfterMs === undefined) {
        return { retry: true, delayMs: backoffDelayMs(attempt, options, random) };
      }
      if (failure.retryAfterMs > options.maxRetryAfterMs) return { retry: false };
      return { retry: true, delayMs: failure.retryAfterMs };
    }
  }
};
