import type { Deadline } from '../core/contracts/deadline.js';
import type { LogSink } from '../core/contracts/log-sink.js';
import { METRIC_UNIT, type MetricsSink } from '../core/contracts/metrics-sink.js';
import { ConfigError, describeIssues } from '../core/contracts/validation.js';
import { keyHealthRequestSchema } from '../core/keys/events.js';
import { KEY_HEALTH_METRICS } from '../core/keys/metrics.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../core/keys/ports.js';
import { type KeyHealthReport, ProvisionerKeyHealthCheck } from '../core/keys/run-health.js';
import { coderApiMetrics } from '../wiring/coder-connection.js';
import { createKeysHealthDeps } from '../wiring/keys.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';

export interface KeyHealthHandlerDeps {
  readonly secrets: SecretVersionStore;
  readonly keys: ProvisionerKeyDirectory;
  readonly log: LogSink;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
  readonly secretId: string;
  /** The configured prefix; undefined: the deployment's own, from the secret's ARN. */
  readonly managedPrefix: string | undefined;
  readonly previousKeyGraceMs: number;
}

/** Publishes what the daily check found; status calls and dry runs publish nothing. */
const publish = (metrics: MetricsSink, report: KeyHealthReport): void => {
  const { figures } = report;
  if (figures.currentKeyAgeDays !== undefined) {
    metrics.addMetric(KEY_HEALTH_METRICS.currentKeyAgeDays, METRIC_UNIT.count, figures.currentKeyAgeDays);
  }
  metrics.addMetric(
    KEY_HEALTH_METRICS.daemonsOnNonCurrentKey,
    METRIC_UNIT.count,
    figures.daemonsOnNonCurrentKey,
  );
  metrics.addMetric(KEY_HEALTH_METRICS.oldKeyInUseHours, METRIC_UNIT.count, figures.oldKeyInUseHours);
  metrics.addMetric(KEY_HEALTH_METRICS.managedKeyCount, METRIC_UNIT.count, figures.managedKeyCount);
  metrics.addMetric(KEY_HEALTH_METRICS.keysDeleted, METRIC_UNIT.count, report.deleted.length);
  metrics.addMetric(
    KEY_HEALTH_METRICS.currentKeyMissing,
    METRIC_UNIT.count,
    figures.currentKeyMissing ? 1 : 0,
  );
};

/**
 * The daily key-health check (`{"action":"check"}` from the schedule), and the operators' ad-hoc
 * calls: `{"action":"status"}` and `{"dryRun":true}`. Its Coder calls stop at the invocation's
 * deadline; a check out of time throws and the next day's check does the work.
 */
export const makeHandler =
  (deps: KeyHealthHandlerDeps) =>
  async (
    event: unknown,
    invocation: { readonly deadline?: Deadline | undefined } = {},
  ): Promise<KeyHealthReport & { scheduledTime?: string }> => {
    const parsed = keyHealthRequestSchema.safeParse(event ?? {});
    if (!parsed.success) {
      throw new ConfigError('key-health request', describeIssues(parsed.error));
    }
    const report = await new ProvisionerKeyHealthCheck(deps).run(parsed.data, {
      deadline: invocation.deadline,
    });
    if (report.action === 'check' && !report.dryRun) publish(deps.metrics, report);
    deps.log.info('Provisioner key health', {
      action: report.action,
      dryRun: report.dryRun,
      currentKeyAgeDays: report.figures.currentKeyAgeDays,
      daemonsOnNonCurrentKey: report.figures.daemonsOnNonCurrentKey,
      managedKeyCount: report.figures.managedKeyCount,
      deleted: report.deleted,
    });
    const { scheduledTime } = parsed.data;
    return scheduledTime ? { ...report, scheduledTime } : report;
  };

export const handler = lambdaHandler(
  FUNCTION.keysHealth,
  (observability) => makeHandler(createKeysHealthDeps(observability)),
  { middleware: ({ metrics }) => [coderApiMetrics(metrics)] },
);
