/**
 * Client-side pacing per key (the transport uses the concrete URL path, as Coder's limiter does),
 * so a large reconcile waits for budget instead of collecting 429s.
 *
 * It is a token bucket kept as a GCRA "theoretical arrival time" per key: each caller reserves
 * its slot synchronously, so parallel callers queue in order without a lock and without a
 * thundering herd when a slot frees up.
 *
 * Sizing: with a budget of N requests per window W the bucket holds B = max(1, floor(N/16))
 * and refills at N - B per W. Any window of length W then sees at most N requests, which
 * satisfies a strict sliding log or fixed window at N, and Coder's httprate sliding-window
 * counter (prev * (1 - elapsed/W) + curr) estimates at most (N - B) + B = N. A plain sliding log
 * at N would not: a burst at the end of one window plus one at the start of the next reads as ~2N.
 */
export interface RateLimiterOptions {
  /** Requests allowed per window per key. */
  limit: number;
  windowMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export class RouteRateLimiter {
  readonly burst: number;
  readonly intervalMs: number;
  private readonly toleranceMs: number;
  private readonly theoreticalArrival = new Map<string, number>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: RateLimiterOptions) {
    if (!Number.isFinite(options.limit) || options.limit < 1) {
      throw new RangeError(`rate limit must be at least 1 request per window, got ${options.limit}`);
    }
    if (!Number.isFinite(options.windowMs) || options.windowMs <= 0) {
      throw new RangeError(`rate limit window must be a positive number of ms, got ${options.windowMs}`);
    }
    const limit = Math.floor(options.limit);
    this.burst = Math.max(1, Math.floor(limit / 16));
    // A budget of 1 cannot refill at N - B = 0 per window; one request per two windows keeps
    // httprate's two-window estimate at 1.
    this.intervalMs =
      limit - this.burst >= 1 ? options.windowMs / (limit - this.burst) : 2 * options.windowMs;
    this.toleranceMs = (this.burst - 1) * this.intervalMs;
    this.now = options.now;
    this.sleep = options.sleep;
  }

  /** Reserves the next slot for `key` and resolves when the request may go; returns the wait in ms. */
  async acquire(key: string): Promise<number> {
    const wait = this.reserve(key);
    if (wait > 0) await this.sleep(wait);
    return wait;
  }

  /** Reserves a slot now (synchronously) and returns how long the caller must wait for it. */
  reserve(key: string): number {
    const now = this.now();
    const arrival = Math.max(this.theoreticalArrival.get(key) ?? now, now);
    this.theoreticalArrival.set(key, arrival + this.intervalMs);
    this.prune(now);
    return this.waitAt(arrival, now);
  }

  /**
   * Reserves a slot only if the caller would wait at most `maxWaitMs` for it (a run's time left);
   * undefined, and nothing reserved, otherwise.
   */
  tryReserve(key: string, maxWaitMs: number): number | undefined {
    return this.waitFor(key) > maxWaitMs ? undefined : this.reserve(key);
  }

  /** How long a request on `key` would wait now, without reserving. */
  waitFor(key: string): number {
    const now = this.now();
    return this.waitAt(Math.max(this.theoreticalArrival.get(key) ?? now, now), now);
  }

  private waitAt(arrival: number, now: number): number {
    const wait = arrival - this.toleranceMs - now;
    // Sums of fractional intervals drift by ~1e-12; that is "now", not a wait.
    return wait > 1e-6 ? wait : 0;
  }

  /**
   * One key per concrete path (every build id, every user) grows without bound; a key whose slot
   * time has passed holds nothing an absent key does not, so it can go.
   */
  private prune(now: number): void {
    if (this.theoreticalArrival.size < 10_000) return;
    for (const [key, arrival] of this.theoreticalArrival) {
      if (arrival <= now) this.theoreticalArrival.delete(key);
    }
  }

  /**
   * Holds `key` back until `untilMs` (a 429's Retry-After): the server's window is full, so new
   * callers should queue rather than spend attempts on more 429s.
   */
  blockUntil(key: string, untilMs: number): void {
    const arrival = untilMs + this.toleranceMs;
    if (arrival > (this.theoreticalArrival.get(key) ?? Number.NEGATIVE_INFINITY)) {
      this.theoreticalArrival.set(key, arrival);
    }
  }
}
