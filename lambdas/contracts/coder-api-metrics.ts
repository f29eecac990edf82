/**
 * Metric names every Coder-facing Lambda publishes (lambdas/wiring/coder-connection.ts) and the
 * alarms and dashboard read (lib/). No imports: the constructs load it at synth.
 */
export const CODER_API_METRICS = {
  requests: 'CoderApiRequests',
  throttled: 'CoderApiThrottled',
  unreachable: 'CoderApiUnreachable',
  latency: 'CoderApiLatency',
} as const;
