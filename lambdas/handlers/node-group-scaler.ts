import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { AwsNodeGroups } from '../adapters/aws/node-groups.js';
import { DynamoOverrideStore } from '../adapters/aws/scaling-override-store.js';
import { CoderWorkspaceDemand } from '../adapters/coder/workspace-demand.js';
import {
  SCALING_CONFIG_ENV,
  SCALING_OVERRIDE_TABLE_ENV,
  scalingConfigSchema,
} from '../core/scaling/config.js';
import { parseScalerEvent } from '../core/scaling/events.js';
import {
  NODE_GROUP_DIMENSION,
  runNodeGroupScaler,
  type ScalerDeps,
  type ScalerReport,
  ScalingRunError,
  scalingDatapoints,
} from '../core/scaling/run.js';
import { nodesSavedDatapoints } from '../core/scaling/savings.js';
import {
  coderApiMetrics,
  coderConnectionFromEnvironment,
  createCoderClient,
} from '../shared/coder-connection.js';
import { configFromEnvironment, requireEnv } from '../shared/config.js';
import { createObservability, logSinkOf } from '../shared/observability.js';

type MetricUnitValue = Parameters<Metrics['addMetric']>[1];

/** The slice of Powertools Metrics the scaler uses. */
export interface ScalingMetricsSink {
  addMetric(name: string, unit: MetricUnitValue, value: number): void;
  singleMetric(): {
    addDimension(name: string, value: string): unknown;
    addMetric(name: string, unit: MetricUnitValue, value: number): unknown;
  };
}

export interface NodeGroupScalerHandlerDeps extends ScalerDeps {
  readonly metrics: ScalingMetricsSink;
}

/** Publishes the run's datapoints; a dry run publishes nothing, so it never trips an alarm. */
const publish = (deps: NodeGroupScalerHandlerDeps, report: ScalerReport): void => {
  if (report.dryRun) return;
  const metrics = deps.metrics;
  for (const point of [...scalingDatapoints(report), ...nodesSavedDatapoints(deps.config, report)]) {
    if (point.group === undefined) {
      metrics.addMetric(point.name, MetricUnit.Count, point.value);
    } else {
      const single = metrics.singleMetric();
      single.addDimension(NODE_GROUP_DIMENSION, point.group);
      single.addMetric(point.name, MetricUnit.Count, point.value);
    }
  }
};

/**
 * Parse, run, report. A failure of one group does not stop the others; the run throws at the
 * end so the async invocation's on-failure destination and the alarms see it.
 */
export const makeHandler =
  (deps: NodeGroupScalerHandlerDeps) =>
  async (event: unknown): Promise<ScalerReport> => {
    const request = parseScalerEvent(event);
    const report = await runNodeGroupScaler(request, deps);
    publish(deps, report);
    if (report.failures.length > 0 && !report.dryRun) throw new ScalingRunError(report);
    return report;
  };

const observability = createObservability('node-group-scaler');

const createDeps = (): NodeGroupScalerHandlerDeps => {
  const config = configFromEnvironment(scalingConfigSchema, SCALING_CONFIG_ENV);
  const { tracer, metrics } = observability;
  const log = logSinkOf(observability.logger);
  const documentClient = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
  return {
    config,
    nodeGroups: new AwsNodeGroups({
      eks: tracer.captureAWSv3Client(new EKSClient({})),
      autoScaling: tracer.captureAWSv3Client(new AutoScalingClient({})),
      log,
    }),
    demand: new CoderWorkspaceDemand(createCoderClient(coderConnectionFromEnvironment())),
    overrides: new DynamoOverrideStore({
      documentClient,
      tableName: requireEnv(SCALING_OVERRIDE_TABLE_ENV),
      clusterName: config.clusterName,
    }),
    now: () => new Date(),
    log,
    metrics,
  };
};

// Created on the first invocation (config parsed once per container), so importing this module
// for tests needs no environment.
let run: ReturnType<typeof makeHandler> | undefined;

export const handler = middy<unknown, ScalerReport>()
  .use(injectLambdaContext(observability.logger))
  .use(captureLambdaHandler(observability.tracer))
  .use(logMetrics(observability.metrics))
  .use(coderApiMetrics(observability.metrics))
  .handler((event) => {
    run ??= makeHandler(createDeps());
    return run(event);
  });
