import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteRateLimiter } from '../../../lambdas/adapters/coder/rate-limiter.js';

/** A clock that only moves when told to, firing due sleepers in time order, so pacing is exact and instant. */
const fakeClock = () => {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  const tick = () => new Promise((r) => setImmediate(r));
  const fireUntil = async (limit: number) => {
    for (;;) {
      await tick();
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > limit) return;
      timers.shift();
      now = Math.max(now, next.at);
      next.resolve();
    }
  };
  return {
    now: () => now,
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        timers.push({ at: now + ms, resolve });
      }),
    /** Moves time forward by `ms`, waking every sleeper due on the way. */
    async advance(ms: number) {
      const target = now + ms;
      await fireUntil(target);
      now = target;
      await tick();
    },
    /** Runs every remaining sleeper. */
    drain: () => fireUntil(Number.POSITIVE_INFINITY),
  };
};

/** Largest number of grants in any half-open window [t, t + windowMs). */
const maxInWindow = (times: number[], windowMs: number): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
};

/** Coder's httprate sliding-window-counter estimate at the moment of each grant. */
const maxHttprateEstimate = (times: number[], windowMs: number): number => {
  let best = 0;
  for (const t of times) {
    const start = Math.floor(t / windowMs) * windowMs;
    const curr = times.filter((x) => x >= start && x <= t).length;
    const prev = times.filter((x) => x >= start - windowMs && x < start).length;
    best = Math.max(best, prev * (1 - (t - start) / windowMs) + curr);
  }
  return best;
};

describe('RouteRateLimiter', () => {
  it('lets a small burst through at once, then paces the rest', async () => {
    const clock = fakeClock();
    const limiter = new RouteRateLimiter({ limit: 480, windowMs: 60_000, ...clock });
    expect(limiter.burst).toBe(30);
    const granted: number[] = [];
    const all = Array.from({ length: 100 }, () =>
      limiter.acquire('GET /x').then(() => granted.push(clock.now())),
    );
    await clock.drain();
    await Promise.all(all);
    expect(granted.slice(0, 30).every((t) => t === 0)).toBe(true);
    expect(granted.at(-1)).toBeCloseTo(70 * (60_000 / 450), 6);
  });

  it('keeps keys independent', () => {
    const clock = fakeClock();
    const limiter = new RouteRateLimiter({ limit: 2, windowMs: 1000, ...clock });
    expect(limiter.reserve('a')).toBe(0);
    expect(limiter.reserve('a')).toBeGreaterThan(0);
    expect(limiter.reserve('b')).toBe(0);
  });

  it('never grants more than the budget in any window, and httprate never counts more than the budget', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 150 }),
        async (limit, gaps) => {
          const windowMs = 1000;
          const clock = fakeClock();
          const limiter = new RouteRateLimiter({ limit, windowMs, ...clock });
          const granted: number[] = [];
          const pending: Promise<unknown>[] = [];
          for (const gap of gaps) {
            // Arrivals: bursts (gap 0) mixed with pauses, all queued concurrently.
            await clock.advance(gap % 7 === 0 ? 0 : gap);
            pending.push(limiter.acquire('k').then(() => granted.push(clock.now())));
          }
          await clock.drain();
          await Promise.all(pending);
          expect(granted).toHaveLength(gaps.length);
          expect(maxInWindow(granted, windowMs)).toBeLessThanOrEqual(limit);
          expect(maxHttprateEstimate(granted, windowMs)).toBeLessThanOrEqual(limit + 1e-9);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('grants in arrival order', async () => {
    const clock = fakeClock();
    const limiter = new RouteRateLimiter({ limit: 3, windowMs: 300, ...clock });
    const order: number[] = [];
    const all = Array.from({ length: 8 }, (_, i) => limiter.acquire('k').then(() => order.push(i)));
    await clock.drain();
    await Promise.all(all);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('holds a key back until a 429 window ends', () => {
    const clock = fakeClock();
    const limiter = new RouteRateLimiter({ limit: 100, windowMs: 1000, ...clock });
    limiter.blockUntil('k', 5000);
    expect(limiter.reserve('k')).toBe(5000);
    expect(limiter.reserve('other')).toBe(0);
  });

  it('rejects a budget below one request', () => {
    const clock = fakeClock();
    expect(() => new RouteRateLimiter({ limit: 0, windowMs: 1000, ...clock })).toThrow(/at least 1/);
    expect(() => new RouteRateLimiter({ limit: 5, windowMs: 0, ...clock })).toThrow(/positive/);
  });
});
