import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AwsNodeGroups } from '../adapters/aws/node-groups.js';
import { DynamoOverrideStore } from '../adapters/aws/scaling-override-store.js';
import { CoderWorkspaceDemand, type WorkspaceLister } from '../adapters/coder/workspace-demand.js';
import type { LogSink } from '../core/contracts/log-sink.js';
import { type ScalingConfig, scalingConfigSchema } from '../core/scaling/config.js';
import { InMemoryOverrideStore } from '../core/scaling/in-memory.js';
import type { OverrideStore, WorkspaceDemandReader } from '../core/scaling/ports.js';
import type { ScalerDeps } from '../core/scaling/run.js';
import { coderConnectionFromEnvironment, createCoderClient } from './coder-connection.js';
import { coderReleaseHooks } from './coder-version.js';
import { configFromEnvironment, requireEnv } from './env.js';
import { ENV } from './names.js';
import { logSinkOf, type Observability } from './observability.js';
import type { AwsClientTracing } from './tracing.js';

/** The AWS clients the scaler talks through. */
export interface ScalingAwsClients {
  readonly eks: EKSClient;
  readonly autoScaling: AutoScalingClient;
  readonly dynamo: DynamoDBClient;
}

/** The scaler's AWS clients: traced in a Lambda, in the operator's `--region` from the CLI. */
export const createScalingAwsClients = (
  options: { readonly region?: string | undefined; readonly tracing?: AwsClientTracing } = {},
): ScalingAwsClients => {
  const config = options.region ? { region: options.region } : {};
  const traced = <T>(client: T): T => (options.tracing ? options.tracing.captureAWSv3Client(client) : client);
  return {
    eks: traced(new EKSClient(config)),
    autoScaling: traced(new AutoScalingClient(config)),
    dynamo: traced(new DynamoDBClient(config)),
  };
};

/** The operator override of one cluster, in the deployed table. */
const tableOverrideStore = (dynamo: DynamoDBClient, tableName: string, clusterName: string) =>
  new DynamoOverrideStore({
    documentClient: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
    clusterName,
  });

/** Demand that cannot be read: every read fails with `reason`, so the planner keeps every current node. */
const unknownDemand = (reason: string): WorkspaceDemandReader => ({
  countRunning: () => Promise.reject(new Error(reason)),
  countAutostartingBetween: () => Promise.reject(new Error(reason)),
  listTemplateNames: () => Promise.reject(new Error(reason)),
});

export interface ScalingEngineParts {
  readonly config: ScalingConfig;
  readonly aws: ScalingAwsClients;
  /** Coder, for the workspace demand; or why there is none (the demand is then unknown, nodes kept). */
  readonly coder: { readonly client: WorkspaceLister } | { readonly unavailable: string };
  /** The deployed override table; without it the override lives in memory (a CLI plan without a table). */
  readonly overrideTable?: string | undefined;
  readonly log: LogSink;
  /** The run's clock; the CLI's `--at` fixes it. @default the system clock */
  readonly now?: () => Date;
}

/**
 * The scaler from its parts: the one place that decides which adapter backs each port, for the
 * Lambda and the CLI alike (as createFamilyEngine does for families).
 */
export const createScalingEngine = (parts: ScalingEngineParts): ScalerDeps => {
  const { config, aws, coder, overrideTable, log } = parts;
  const overrides: OverrideStore = overrideTable
    ? tableOverrideStore(aws.dynamo, overrideTable, config.clusterName)
    : new InMemoryOverrideStore();
  return {
    config,
    nodeGroups: new AwsNodeGroups({ eks: aws.eks, autoScaling: aws.autoScaling, log }),
    demand: 'client' in coder ? new CoderWorkspaceDemand(coder.client) : unknownDemand(coder.unavailable),
    overrides,
    now: parts.now ?? (() => new Date()),
    log,
  };
};

/** The scaling scheduler's dependencies: config from `SCALING_CONFIG`, EKS/Auto Scaling, Coder, overrides. */
export const createScalingSchedulerDeps = (observability: Observability, env = process.env) => {
  const { tracer, metrics } = observability;
  const log = logSinkOf(observability.logger);
  const engine = createScalingEngine({
    config: configFromEnvironment(scalingConfigSchema, ENV.scalingConfig, env),
    aws: createScalingAwsClients({ tracing: tracer }),
    coder: {
      client: createCoderClient(coderConnectionFromEnvironment(env), { ...coderReleaseHooks(log, metrics) }),
    },
    overrideTable: requireEnv(ENV.scalingOverrideTable, env),
    log,
  });
  return { ...engine, metrics };
};

/** The schedule preview's dependencies: the same config and override table, read only. */
export const createScalingPreviewDeps = (observability: Observability, env = process.env) => {
  const config = configFromEnvironment(scalingConfigSchema, ENV.scalingConfig, env);
  const dynamo = observability.tracer.captureAWSv3Client(new DynamoDBClient({}));
  return {
    config,
    overrides: tableOverrideStore(dynamo, requireEnv(ENV.scalingOverrideTable, env), config.clusterName),
    now: () => new Date(),
  };
};
