/** Fault injection: which request gets slowed, dropped, failed or rate limited. */
import type { FaultConfig } from './types.js';

/** mulberry32: small, fast and good enough to make fault rates repeatable under a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type PreHandlerFault =
  | { kind: 'none' }
  | { kind: 'timeout' }
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  | { kind: 'error'; status: 500 | 502 | 503 };

const ERROR_STATUSES = [500, 502, 503] as const;

export class FaultInjector {
  private config: FaultConfig | undefined;
  private random: () => number = Math.random;
  private burstLeft = 0;

  constructor(config: FaultConfig | undefined) {
    this.set(config);
  }

  set(config: FaultConfig | undefined): void {
    this.config = config;
    this.random = config?.seed === undefined ? Math.random : seededRandom(config.seed);
    this.burstLeft = config?.rateLimitBurst ?? 0;
  }

  private applies(routeKey: string): boolean {
    const routes = this.config?.routes;
    return this.config !== undefined && (routes === undefined || routes.includes(routeKey));
  }

  latencyMs(routeKey: string): number {
    return this.applies(routeKey) ? (this.config?.latencyMs ?? 0) : 0;
  }

  beforeHandler(routeKey: string): PreHandlerFault {
    const c = this.config;
    if (c === undefined || !this.applies(routeKey)) return { kind: 'none' };
    if (this.burstLeft > 0) {
      this.burstLeft -= 1;
      return { kind: 'rate-limit', retryAfterSeconds: c.rateLimitBurstRetryAfterSeconds ?? 1 };
    }
    if (c.timeoutRate !== undefined && c.timeoutRate > 0 && this.random() < c.timeoutRate)
      return { kind: 'timeout' };
    if (c.errorRate !== undefined && c.errorRate > 0 && this.random() < c.errorRate) {
      const status = ERROR_STATUSES[Math.floor(this.random() * ERROR_STATUSES.length)] ?? 500;
      return { kind: 'error', status };
    }
    return { kind: 'none' };
  }

  /** After a mutating handler succeeded: should the client see a 500 anyway? */
  failAfterEffect(routeKey: string, method: string): boolean {
    const rate = this.config?.errorAfterEffectRate;
    if (rate === undefined || rate <= 0 || method === 'GET' || method === 'HEAD') return false;
    return this.applies(routeKey) && this.random() < rate;
  }
}
