/**
 * Coder's API rate limit: go-chi/httprate's sliding window counter (coderd/httpmw/ratelimit.go,
 * `RateLimit(count, window)` with `httprate.WithKeyFuncs(<user or IP>, httprate.KeyByEndpoint)`).
 * The key is an identity plus the concrete `r.URL.Path`: the method and the query are ignored, and
 * `/api/v2/workspacebuilds/<id>/parameters` is a bucket per build id.
 */

/**
 * The identity half of the key. `user`: the API key's user id, falling back to the client address
 * for unauthenticated requests (coder/coder#22049, "rate limit by user instead of IP", 2026). Before
 * it the limiter ran ahead of API-key extraction (coder/coder#20857), so every request was keyed by
 * `client-address`: callers behind one address share a budget.
 */
export type RateLimitKeyBy = 'user' | 'client-address';

/** The limiter key of one request. */
export const rateLimitKey = (
  keyBy: RateLimitKeyBy,
  request: { userId: string | undefined; clientAddress: string | undefined; path: string },
): string => {
  const identity =
    keyBy === 'user' && request.userId !== undefined ? request.userId : (request.clientAddress ?? 'unknown');
  // httprate's composedKeyFunc joins the key parts with ':'.
  return `${identity}:${request.path}`;
};

export interface RateLimitDecision {
  allowed: boolean;
  headers: Record<string, string>;
}

interface WindowCounter {
  windowStart: number;
  current: number;
  previous: number;
}

/** Go's time.Duration String(): 60s is "1m0s", 1.5s is "1.5s", 500ms is "500ms". */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const secondsText = `${Number(seconds.toFixed(9))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

export class SlidingWindowLimiter {
  private readonly counters = new Map<string, WindowCounter>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** The 429 body Coder writes. */
  message(): string {
    return `You've been rate limited for sending more than ${this.limit} requests in ${goDuration(this.windowMs)}.`;
  }

  /** Retry-After is the window length in whole seconds (rounded up for sub-minute test windows). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.windowMs / 1000));
  }

  take(key: string, now: number): RateLimitDecision {
    const windowStart = Math.floor(now / this.windowMs) * this.windowMs;
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = { windowStart, current: 0, previous: 0 };
      this.counters.set(key, counter);
    } else if (counter.windowStart !== windowStart) {
      // Only the immediately preceding window carries weight into the current one.
      counter.previous = windowStart - counter.windowStart === this.windowMs ? counter.current : 0;
      counter.current = 0;
      counter.windowStart = windowStart;
    }
    const elapsed = now - windowStart;
    const rate = Math.round((counter.previous * (this.windowMs - elapsed)) / this.windowMs + counter.current);
    const reset = String(Math.floor((windowStart + this.windowMs) / 1000));
    if (rate >= this.limit) {
      return {
        allowed: false,
        headers: {
          'X-RateLimit-Limit': String(this.limit),
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': reset,
          'Retry-After': String(this.retryAfterSeconds()),
        },
      };
    }
    counter.current += 1;
    return {
      allowed: true,
      headers: {
        'X-RateLimit-Limit': String(this.limit),
        'X-RateLimit-Remaining': String(Math.max(0, this.limit - rate - 1)),
        'X-RateLimit-Reset': reset,
      },
    };
  }
}
