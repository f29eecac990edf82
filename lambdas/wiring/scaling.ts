import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AwsNodeGroups } from '../adapters/aws/node-groups.js';
import { DynamoOverrideStore } from '../adapters/aws/scaling-override-store.js';
import { CoderWorkspaceDemand } from '../adapters/coder/workspace-demand.js';
import { scalingConfigSchema } from '../core/scaling/config.js';
import { coderConnectionFromEnvironment, createCoderClient } from './coder-connection.js';
import { coderReleaseHooks } from './coder-version.js';
import { configFromEnvironment, requireEnv } from './env.js';
import { ENV } from './names.js';
import { logSinkOf, type Observability } from './observability.js';

const overrideStore = (observability: Observability, env: NodeJS.ProcessEnv, clusterName: string) =>
  new DynamoOverrideStore({
    documentClient: DynamoDBDocumentClient.from(
      observability.tracer.captureAWSv3Client(new DynamoDBClient({})),
    ),
    tableName: requireEnv(ENV.scalingOverrideTable, env),
    clusterName,
  });

/** The scaling scheduler's dependencies: config from `SCALING_CONFIG`, EKS/Auto Scaling, Coder, overrides. */
export const createScalingSchedulerDeps = (observability: Observability, env = process.env) => {
  const config = configFromEnvironment(scalingConfigSchema, ENV.scalingConfig, env);
  const { tracer, metrics } = observability;
  const log = logSinkOf(observability.logger);
  return {
    config,
    nodeGroups: new AwsNodeGroups({
      eks: tracer.captureAWSv3Client(new EKSClient({})),
      autoScaling: tracer.captureAWSv3Client(new AutoScalingClient({})),
      log,
    }),
    demand: new CoderWorkspaceDemand(
      createCoderClient(coderConnectionFromEnvironment(env), {
        ...coderReleaseHooks(log, metrics),
      }),
    ),
    overrides: overrideStore(observability, env, config.clusterName),
    now: () => new Date(),
    log,
    metrics,
  };
};

/** The schedule preview's dependencies: the same config and override table, read only. */
export const createScalingPreviewDeps = (observability: Observability, env = process.env) => {
  const config = configFromEnvironment(scalingConfigSchema, ENV.scalingConfig, env);
  return {
    config,
    overrides: overrideStore(observability, env, config.clusterName),
    now: () => new Date(),
  };
};
