import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { LogSink } from '../core/contracts/log-sink.js';
import { METRICS_NAMESPACE } from './names.js';
import { LazyTracer } from './tracing.js';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Loads the X-Ray SDK only when tracing is on (see LazyTracer). */
  readonly tracer: LazyTracer;
}

/**
 * One logger, metrics and tracer per Lambda, created at module scope so a warm container reuses them.
 * `service` becomes the `service` dimension and log field, so dashboards and alarms can tell capabilities apart.
 */
export const createObservability = (service: string): Observability => ({
  logger: new Logger({ serviceName: service }),
  metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service }),
  tracer: new LazyTracer(service),
});

/** Powertools' Logger as the narrow LogSink that core code and adapters speak. */
export const logSinkOf = (logger: Logger): LogSink => ({
  debug: (message, extra) => logger.debug(message, extra ?? {}),
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
});
