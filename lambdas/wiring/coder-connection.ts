import { z } from 'zod';
import {
  CoderClient,
  type CoderClientOptions,
  type CoderClientStats,
  type CoderReleaseOptions,
  emptyCoderClientStats,
} from '../adapters/coder/client.js';
import { CODER_API_METRICS } from '../contracts/coder-api-metrics.js';
import { METRIC_UNIT, type MetricsSink } from '../core/contracts/metrics-sink.js';
import { ConfigError } from '../core/contracts/validation.js';
import { type CoderBudgetSettings, coderBudgetFromEnvironment, sharedCoderBudget } from './coder-budget.js';
import { requireEnv } from './env.js';
import { readJsonSecret } from './secrets.js';

/** The controller's own Coder API token secret: `{"token": "<session token>"}`. */
export const coderTokenSecretSchema = z.object({ token: z.string().min(1, 'the token is empty') });

export interface CoderConnectionSettings {
  /** Coder's access URL (not a secret). */
  readonly url: string;
  /** ARN or name of the Secrets Manager secret holding the token. */
  readonly tokenSecretId: string;
  /** The deployment's shared request budget; without it the client paces itself alone. */
  readonly budget?: CoderBudgetSettings | undefined;
}

/** Reads `CODER_URL` and `CODER_TOKEN_SECRET_ARN`, which every Coder-facing construct sets. */
export const coderConnectionFromEnvironment = (
  env: NodeJS.ProcessEnv = process.env,
): CoderConnectionSettings => {
  const url = requireEnv('CODER_URL', env);
  try {
    new URL(url);
  } catch {
    throw new ConfigError('Lambda environment', [`CODER_URL is not a URL: ${JSON.stringify(url)}`]);
  }
  return {
    url,
    tokenSecretId: requireEnv('CODER_TOKEN_SECRET_ARN', env),
    budget: coderBudgetFromEnvironment(env),
  };
};

/** Every client this container created, so a run's Coder traffic can be measured without threading them through. */
const liveClients = new Set<CoderClient>();

/**
 * A Coder client whose token is read from Secrets Manager on demand (cached by Powertools for five
 * minutes), so the token is never in an environment variable and a rotated token is picked up
 * without a redeploy.
 */
export const createCoderClient = (
  settings: CoderConnectionSettings,
  options: Omit<Partial<CoderClientOptions>, 'baseUrl' | 'token'> & CoderReleaseOptions = {},
): CoderClient => {
  // No deadline of its own: the client outlives the invocation, so each run passes its deadline
  // with every call (lambdaHandler hands it to the handler).
  const client = new CoderClient({
    ...(settings.budget ? { sharedBudget: sharedCoderBudget(settings.budget, settings.url) } : {}),
    ...options,
    baseUrl: settings.url,
    token: async () => (await readJsonSecret(settings.tokenSecretId, coderTokenSecretSchema)).token,
  });
  liveClients.add(client);
  return client;
};

/** The counters of every client created with `createCoderClient`, added up. */
export const coderStatsOfAllClients = (): CoderClientStats => {
  const total = emptyCoderClientStats();
  for (const client of liveClients) {
    const stats = client.stats();
    total.requests += stats.requests;
    total.retries += stats.retries;
    total.rateLimited += stats.rateLimited;
    total.timeouts += stats.timeouts;
    total.networkErrors += stats.networkErrors;
    total.durationMsTotal += stats.durationMsTotal;
  }
  return total;
};

/** Metric names shared by every Coder-facing Lambda (lambdas/contracts/, where lib/ reads them too). */
export { CODER_API_METRICS };

/**
 * Publishes what one run cost in Coder API calls: the difference between two `stats()` readings,
 * because the client lives at module scope and keeps counting across warm invocations.
 */
export const publishCoderApiMetrics = (
  metrics: MetricsSink,
  before: CoderClientStats,
  after: CoderClientStats,
): { requests: number; throttled: number; unreachable: number; averageLatencyMs?: number } => {
  const requests = after.requests - before.requests;
  const delta = {
    requests,
    throttled: after.rateLimited - before.rateLimited,
    unreachable: after.timeouts + after.networkErrors - (before.timeouts + before.networkErrors),
  };
  metrics.addMetric(CODER_API_METRICS.requests, METRIC_UNIT.count, delta.requests);
  metrics.addMetric(CODER_API_METRICS.throttled, METRIC_UNIT.count, delta.throttled);
  metrics.addMetric(CODER_API_METRICS.unreachable, METRIC_UNIT.count, delta.unreachable);
  if (requests === 0) return delta;
  // One datapoint per run: the run's mean; the dashboard shows its average and maximum over time.
  const averageLatencyMs = Math.round((after.durationMsTotal - before.durationMsTotal) / requests);
  metrics.addMetric(CODER_API_METRICS.latency, METRIC_UNIT.milliseconds, averageLatencyMs);
  return { ...delta, averageLatencyMs };
};

/**
 * Middy middleware that publishes each invocation's Coder API requests, 429s, failures and mean
 * latency, whether the run succeeds or throws. Register it after `logMetrics(...)`, so that it runs
 * before the metrics are flushed (middy runs `after` and `onError` in reverse order).
 */
export const coderApiMetrics = (
  metrics: MetricsSink,
  stats: () => CoderClientStats = coderStatsOfAllClients,
): { before: () => void; after: () => void; onError: () => void } => {
  let before = stats();
  const publish = () => {
    publishCoderApiMetrics(metrics, before, stats());
  };
  return {
    before: () => {
      before = stats();
    },
    after: publish,
    onError: publish,
  };
};
