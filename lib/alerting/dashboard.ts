import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { CODER_API_METRICS } from '../../lambdas/contracts/coder-api-metrics.js';
import { METRICS_NAMESPACE } from '../../lambdas/contracts/names.js';
import {
  AUDIT_LOG_METRICS,
  AUDIT_LOG_SHAPE_METRICS,
  WEBHOOK_METRICS,
  WORKER_METRICS,
} from '../../lambdas/core/families/webhook/metrics.js';
import { KEY_HEALTH_METRICS } from '../../lambdas/core/keys/metrics.js';
import { managedGroups } from '../../lambdas/core/scaling/config.js';
import { NODE_GROUP_DIMENSION, SCALING_METRICS } from '../../lambdas/core/scaling/metrics.js';
import type { ControllerFunction } from '../common/controller-function.js';
import {
  FAMILIES_ALARM_METRICS,
  FAMILIES_INTEGRITY_METRICS,
  FAMILIES_RECONCILE_HANDLER,
  familiesPacingWidgets,
  type WorkspaceFamilies,
} from '../families/construct.js';
import type { ProvisionerKeyRotation } from '../keys/construct.js';
import type { NodeGroupScaling } from '../scaling/construct.js';
import { scalingSavingsWidgets } from '../scaling/savings-widgets.js';
import { SEVERITIES, SEVERITY_RESPONSE, type Severity, severityLabel } from './severity.js';

export interface ControllerDashboardProps {
  readonly scaling?: NodeGroupScaling;
  readonly families?: WorkspaceFamilies;
  readonly provisionerKeys?: ProvisionerKeyRotation;
  readonly functions: ReadonlyArray<{ label: string; fn: ControllerFunction }>;
  /** Powertools service names of the functions that call Coder. */
  readonly coderFacingServices: readonly string[];
  /** Every alarm by severity: the first row shows each severity's alarms and their state. */
  readonly alarmsBySeverity?: Readonly<Record<Severity, readonly cloudwatch.IAlarm[]>>;
}

const period = Duration.minutes(5);
const emf = (service: string, metricName: string, statistic = 'Sum', extra: Record<string, string> = {}) =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service, ...extra },
    statistic,
    period,
    label: Object.values(extra)[0] ? `${metricName} ${Object.values(extra)[0]}` : metricName,
  });

/** One row per capability, then the Coder API and Lambda health: what an operator opens first. */
export class ControllerDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ControllerDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
    });
    const header = (text: string) =>
      new cloudwatch.TextWidget({ markdown: `## ${text}`, width: 24, height: 1 });

    if (props.alarmsBySeverity) {
      const bySeverity = props.alarmsBySeverity;
      this.dashboard.addWidgets(header('Alarms by severity (runbook: docs/RUNBOOK.md#severities)'));
      this.dashboard.addWidgets(
        ...SEVERITIES.map(
          (severity) =>
            new cloudwatch.AlarmStatusWidget({
              title: `${severityLabel(severity)}: respond within ${SEVERITY_RESPONSE[severity]}`,
              alarms: [...bySeverity[severity]],
              width: 8,
              height: 6,
              sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            }),
        ),
      );
    }

    if (props.scaling) {
      const service = props.scaling.function.serviceName;
      const groups = managedGroups(props.scaling.config).map((g) => g.name);
      const perGroup = (metricName: string, statistic: string) =>
        groups.map((group) => emf(service, metricName, statistic, { [NODE_GROUP_DIMENSION]: group }));
      this.dashboard.addWidgets(
        header('Node group scaling (runbook: docs/RUNBOOK.md#node-group-scaling-failures)'),
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Desired size: target vs actual',
          left: [
            ...perGroup(SCALING_METRICS.targetDesired, 'Maximum'),
            ...perGroup(SCALING_METRICS.actualDesired, 'Maximum'),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Running workspaces and nodes below the running floor',
          left: perGroup(SCALING_METRICS.runningWorkspaces, 'Maximum'),
          right: perGroup(SCALING_METRICS.nodesBelowFloor, 'Maximum'),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Updates, failures and unknown templates',
          left: [
            emf(service, SCALING_METRICS.updates),
            emf(service, SCALING_METRICS.failures),
            emf(service, SCALING_METRICS.templatesUnknown, 'Maximum'),
          ],
          width: 8,
        }),
      );
      this.dashboard.addWidgets(...scalingSavingsWidgets(service, groups));
    }

    if (props.families) {
      const webhook = props.families.webhookFunction.serviceName;
      const worker = props.families.workerFunction.serviceName;
      this.dashboard.addWidgets(header('Workspace families (runbook: docs/RUNBOOK.md#families-failing)'));
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Children missing, failures, hard-limited families',
          left: [
            emf(FAMILIES_RECONCILE_HANDLER, FAMILIES_ALARM_METRICS.childrenMissing, 'Maximum'),
            emf(FAMILIES_RECONCILE_HANDLER, FAMILIES_ALARM_METRICS.failures),
            emf(FAMILIES_RECONCILE_HANDLER, FAMILIES_ALARM_METRICS.hardLimited, 'Maximum'),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Webhook: enqueued, ignored, rejected',
          left: Object.values(WEBHOOK_METRICS).map((name) => emf(webhook, name)),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Worker: reconciled, deferred, failed',
          left: Object.values(WORKER_METRICS).map((name) => emf(worker, name)),
          width: 8,
        }),
      );
      const auditLogs = props.families.auditLogs;
      if (auditLogs) {
        const service = auditLogs.function.serviceName;
        this.dashboard.addWidgets(
          new cloudwatch.GraphWidget({
            title: 'Audit log lines received, by shape (runbook: families-audit-logs-silent)',
            left: [
              emf(service, AUDIT_LOG_METRICS.received),
              ...Object.values(AUDIT_LOG_SHAPE_METRICS).map((name) => emf(service, name)),
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Audit log lines: enqueued, ignored, rejected; failed batches',
            left: Object.values(WEBHOOK_METRICS).map((name) => emf(service, name)),
            right: [
              auditLogs.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
                period,
                statistic: 'Maximum',
                label: 'Failed batches (DLQ)',
              }),
            ],
            width: 12,
          }),
        );
      }
      // What a run could not trust or finish (issue 19): each has its alarm.
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Conflicts, unknown templates, locks lost',
          left: [
            emf(FAMILIES_RECONCILE_HANDLER, FAMILIES_INTEGRITY_METRICS.conflicts, 'Maximum'),
            emf(FAMILIES_RECONCILE_HANDLER, FAMILIES_INTEGRITY_METRICS.templatesUnknown, 'Maximum'),
            ...[FAMILIES_RECONCILE_HANDLER, worker].map((service) =>
              emf(service, FAMILIES_INTEGRITY_METRICS.lockLost, 'Sum', { service }),
            ),
          ],
          width: 8,
        }),
      );
      this.dashboard.addWidgets(...familiesPacingWidgets(FAMILIES_RECONCILE_HANDLER));
    }

    if (props.provisionerKeys) {
      const service = props.provisionerKeys.healthFunction.serviceName;
      this.dashboard.addWidgets(header('Provisioner keys (runbook: docs/RUNBOOK.md#provisioner-key-age)'));
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Current key age (days)',
          left: [emf(service, KEY_HEALTH_METRICS.currentKeyAgeDays, 'Maximum')],
          leftAnnotations: [
            {
              value: props.provisionerKeys.config.maxKeyAgeDays - props.provisionerKeys.config.alertLeadDays,
              label: 'alarm',
            },
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Daemons on a non-current key',
          left: [emf(service, KEY_HEALTH_METRICS.daemonsOnNonCurrentKey, 'Maximum')],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Managed keys and deletions',
          left: [
            emf(service, KEY_HEALTH_METRICS.managedKeyCount, 'Maximum'),
            emf(service, KEY_HEALTH_METRICS.keysDeleted),
          ],
          width: 8,
        }),
      );
    }

    if (props.coderFacingServices.length > 0) {
      const each = (metricName: string, statistic: string) =>
        props.coderFacingServices.map((service) => emf(service, metricName, statistic, { service }));
      this.dashboard.addWidgets(header('Coder API (runbook: docs/RUNBOOK.md#coder-api-unreachable)'));
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Requests',
          left: each(CODER_API_METRICS.requests, 'Sum'),
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: '429 answers',
          left: each(CODER_API_METRICS.throttled, 'Sum'),
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: 'Timeouts and network errors',
          left: each(CODER_API_METRICS.unreachable, 'Sum'),
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: 'Mean latency per run (ms)',
          left: each(CODER_API_METRICS.latency, 'Average'),
          width: 6,
        }),
      );
    }

    this.dashboard.addWidgets(header('Lambda health (runbook: docs/RUNBOOK.md#lambda-errors)'));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: props.functions.map(({ label, fn }) => fn.metricErrors({ period, label })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Throttles',
        left: props.functions.map(({ label, fn }) => fn.metricThrottles({ period, label })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration p99',
        left: props.functions.map(({ label, fn }) => fn.metricDuration({ period, label, statistic: 'p99' })),
        width: 8,
      }),
    );
  }
}
