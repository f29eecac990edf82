import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { KEY_HEALTH_METRICS } from '../core/keys/metrics.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../core/keys/ports.js';
import {
  type KeyHealthReport,
  keyHealthRequestSchema,
  ProvisionerKeyHealthCheck,
} from '../core/keys/run-health.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { ConfigError, requireEnv } from '../wiring/env.js';
import { createProvisionerKeyPorts } from '../wiring/keys.js';
import { createObservability, type LogSink } from '../wiring/observability.js';

/** The part of Powertools' Metrics the check uses. */
export interface MetricSink {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
}

export interface KeyHealthHandlerDeps {
  readonly secrets: SecretVersionStore;
  readonly keys: ProvisionerKeyDirectory;
  readonly log: LogSink;
  readonly metrics: MetricSink;
  readonly now: () => Date;
  readonly secretId: string;
  readonly managedPrefix: string;
  readonly previousKeyGraceMs: number;
}

/** Publishes what the daily check found; status calls and dry runs publish nothing. */
const publish = (metrics: MetricSink, report: KeyHealthReport): void => {
  const { figures } = report;
  if (figures.currentKeyAgeDays !== undefined) {
    metrics.addMetric(KEY_HEALTH_METRICS.currentKeyAgeDays, MetricUnit.Count, figures.currentKeyAgeDays);
  }
  metrics.addMetric(
    KEY_HEALTH_METRICS.daemonsOnNonCurrentKey,
    MetricUnit.Count,
    figures.daemonsOnNonCurrentKey,
  );
  metrics.addMetric(KEY_HEALTH_METRICS.oldKeyInUseHours, MetricUnit.Count, figures.oldKeyInUseHours);
  metrics.addMetric(KEY_HEALTH_METRICS.managedKeyCount, MetricUnit.Count, figures.managedKeyCount);
  metrics.addMetric(KEY_HEALTH_METRICS.keysDeleted, MetricUnit.Count, report.deleted.length);
  metrics.addMetric(
    KEY_HEALTH_METRICS.currentKeyMissing,
    MetricUnit.Count,
    figures.currentKeyMissing ? 1 : 0,
  );
};

/**
 * The daily key-health check (`{"action":"check"}` from the schedule), and the operators' ad-hoc
 * calls: `{"action":"status"}` and `{"dryRun":true}`.
 */
export const makeHandler =
  (deps: KeyHealthHandlerDeps) =>
  async (event: unknown): Promise<KeyHealthReport> => {
    const parsed = keyHealthRequestSchema.safeParse(event ?? {});
    if (!parsed.success) {
      throw new ConfigError(
        'key-health request',
        parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      );
    }
    const report = await new ProvisionerKeyHealthCheck(deps).run(parsed.data);
    if (report.action === 'check' && !report.dryRun) publish(deps.metrics, report);
    deps.log.info('Provisioner key health', {
      action: report.action,
      dryRun: report.dryRun,
      currentKeyAgeDays: report.figures.currentKeyAgeDays,
      daemonsOnNonCurrentKey: report.figures.daemonsOnNonCurrentKey,
      managedKeyCount: report.figures.managedKeyCount,
      deleted: report.deleted,
    });
    return report;
  };

const observability = createObservability('keys-health');

const createDeps = (): KeyHealthHandlerDeps => {
  const { config, ...ports } = createProvisionerKeyPorts(observability);
  return {
    ...ports,
    metrics: observability.metrics,
    secretId: requireEnv('PROVISIONER_KEY_SECRET_ARN'),
    managedPrefix: config.managedPrefix,
    previousKeyGraceMs: config.oldKeyGraceHours * 3_600_000,
  };
};

// Built on the first invocation and reused while the container is warm, so a bad environment is
// reported as this invocation's error (with the field names) and importing the module needs none.
let run: ReturnType<typeof makeHandler> | undefined;

export const handler = middy()
  .use(injectLambdaContext(observability.logger))
  .use(captureLambdaHandler(observability.tracer))
  .use(logMetrics(observability.metrics))
  .use(coderApiMetrics(observability.metrics))
  .handler((event: Parameters<ReturnType<typeof makeHandler>>[0]) => {
    run ??= makeHandler(createDeps());
    return run(event);
  });
