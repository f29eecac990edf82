/** How long a provisioner job runs, drawn from a seeded distribution so a benchmark can be repeated. */
import { seededRandom } from '../faults.js';

/** Simulated milliseconds. */
export type JobDuration =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  /** `meanMs` is the mean of the distribution (not the median); `sigma` the log's standard deviation. */
  | { readonly kind: 'lognormal'; readonly meanMs: number; readonly sigma: number };

export const describeJobDuration = (d: JobDuration): string =>
  d.kind === 'fixed'
    ? `${d.ms / 1000} s`
    : d.kind === 'uniform'
      ? `uniform ${d.minMs / 1000}–${d.maxMs / 1000} s`
      : `lognormal, mean ${d.meanMs / 1000} s, σ ${d.sigma}`;

/** A sampler of `d`; the same seed gives the same sequence. */
export const jobDurationSampler = (d: JobDuration, seed: number): (() => number) => {
  const random = seededRandom(seed);
  switch (d.kind) {
    case 'fixed':
      return () => d.ms;
    case 'uniform':
      return () => d.minMs + random() * (d.maxMs - d.minMs);
    case 'lognormal': {
      // mean = exp(mu + sigma²/2), so mu = ln(mean) - sigma²/2.
      const mu = Math.log(d.meanMs) - (d.sigma * d.sigma) / 2;
      return () => {
        // Box-Muller; 1 - u keeps the logarithm's argument above 0.
        const u = 1 - random();
        const v = random();
        const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        return Math.exp(mu + d.sigma * z);
      };
    }
  }
};
