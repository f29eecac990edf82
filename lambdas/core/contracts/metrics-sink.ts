/**
 * The units the controller publishes. The values are CloudWatch's unit names, which is what
 * Powertools' `MetricUnit` holds, so its Metrics satisfies these sinks structurally.
 */
export const METRIC_UNIT = { count: 'Count', milliseconds: 'Milliseconds' } as const;
export type MetricUnitName = (typeof METRIC_UNIT)[keyof typeof METRIC_UNIT];

/** Where a run's figures go: Powertools' Metrics in a Lambda, a recorder in tests. */
export interface MetricsSink {
  addMetric(name: string, unit: MetricUnitName, value: number): unknown;
}

/** A sink that can also publish one datapoint with its own dimension (per node group, say). */
export interface DimensionedMetricsSink extends MetricsSink {
  singleMetric(): {
    addDimension(name: string, value: string): unknown;
    addMetric(name: string, unit: MetricUnitName, value: number): unknown;
  };
}

/** A sink that flushes what it holds as one document (one EMF record per SQS message, say). */
export interface FlushableMetricsSink extends MetricsSink {
  publishStoredMetrics(): unknown;
}

/** Adds count metrics, skipping nothing: a zero is a datapoint alarms rely on. */
export const addCounts = (sink: MetricsSink, counts: Iterable<{ name: string; value: number }>): void => {
  for (const { name, value } of counts) sink.addMetric(name, METRIC_UNIT.count, value);
};
