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

/** What the limiter's key function makes of one request. */
export type RateLimitKeyDecision =
  | { readonly kind: 'key'; readonly key: string }
  /** An Owner's `X-Coder-Bypass-Ratelimit`: a fresh random key per request, so never limited. */
  | { readonly kind: 'bypass' }
  /** A non-owner asked to bypass: the key function's error, which httprate answers with 428. */
  | { readonly kind: 'precondition-required'; readonly message: string };

export const BYPASS_RATELIMIT_HEADER = 'X-Coder-Bypass-Ratelimit';

/** Go's strconv.ParseBool true values; anything else (an error included) is false in the key function. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

/**
 * coderd/httpmw/ratelimit.go's key function (`httprate.WithKeyFuncs(<this>, httprate.KeyByEndpoint)`):
 * without an API key in the request's context, `httprate.KeyByIP` and no look at the bypass header;
 * with one, the user id unless `X-Coder-Bypass-Ratelimit` parses true, then an Owner gets a random
 * key (`cryptorand.String(16)`, "de facto disable rate limiting") and anyone else the error
 * `"X-Coder-Bypass-Ratelimit" provided but user is not owner`. Before coder/coder#22049 the API key
 * was never in the context when the limiter ran (coder/coder#20857), so every request took the first
 * branch: keyed by address, the header ignored entirely.
 */
export const rateLimitKeyDecision = (
  keyBy: RateLimitKeyBy,
  request: {
    userId: string | undefined;
    isOwner: boolean;
    bypassHeader: string | undefined;
    clientAddress: string | undefined;
    path: string;
  },
): RateLimitKeyDecision => {
  // httprate's composedKeyFunc joins the key parts with ':'.
  const keyed = (identity: string): RateLimitKeyDecision => ({
    kind: 'key',
    key: `${identity}:${request.path}`,
  });
  if (keyBy === 'client-address' || request.userId === undefined)
    return keyed(request.clientAddress ?? 'unknown');
  if (!GO_TRUE.has(request.bypassHeader ?? '')) return keyed(request.userId);
  if (request.isOwner) return { kind: 'bypass' };
  return {
    kind: 'precondition-required',
    message: `"${BYPASS_RATELIMIT_HEADER}" provided but user is not owner`,
  };
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

  /** The headers httprate sends for a key it has never seen (an Owner's random bypass key); nothing is kept. */
  untracked(now: number): RateLimitDecision {
    const windowStart = Math.floor(now / this.windowMs) * this.windowMs;
    return {
      allowed: true,
      headers: {
        'X-RateLimit-Limit': String(this.limit),
        'X-RateLimit-Remaining': String(this.limit - 1),
        'X-RateLimit-Reset': String(Math.floor((windowStart + this.windowMs) / 1000)),
      },
    };
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
    // httprate: over the limit when rate + increment > limit, and then Remaining is `limit - rate`
    // (go-chi/httprate limiter.go); the request is not counted.
    if (rate + 1 > this.limit) {
      return {
        allowed: false,
        headers: {
          'X-RateLimit-Limit': String(this.limit),
          'X-RateLimit-Remaining': String(this.limit - rate),
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
        'X-RateLimit-Remaining': String(this.limit - rate - 1),
        'X-RateLimit-Reset': reset,
      },
    };
  }
}
