import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SqsContinuationQueue } from '../adapters/aws/continuation-queue.js';
import { DynamoBuildParameterStore, DynamoFamilyLedger } from '../adapters/aws/family-ledger.js';
import { DynamoFamilyLocks } from '../adapters/aws/family-locks.js';
import { SqsFamilyWorkQueue } from '../adapters/aws/family-queue.js';
import type { CoderClient } from '../adapters/coder/client.js';
import {
  ChildMarkerCheckedWorkspaces,
  verifyChildMarkerParameter,
} from '../adapters/coder/family-templates.js';
import { CoderFamilyWorkspaces } from '../adapters/coder/family-workspaces.js';
import { CoderProvisionerCapacity } from '../adapters/coder/provisioner-capacity.js';
import type { MetricsSink } from '../core/contracts/metrics-sink.js';
import { type FamiliesConfig, familiesConfigSchema } from '../core/families/config.js';
import type { ContinuationLocks, ContinuationQueue } from '../core/families/continuation.js';
import { InMemoryFamilyLedger, InMemoryFamilyLocks } from '../core/families/in-memory.js';
import type { BuildParameter } from '../core/families/model.js';
import type { FamilyLogSink, FamilyReconcileDeps } from '../core/families/ports.js';
import { type FamilyProgressSink, ignoreProgress } from '../core/families/progress.js';
import { reconcileFamilies } from '../core/families/run.js';
import { webhookSecretSchema } from '../core/families/webhook/path-secret.js';
import { coderConnectionFromEnvironment, createCoderClient } from './coder-connection.js';
import { coderReleaseHooks } from './coder-version.js';
import { configFromEnvironment, requireEnv } from './env.js';
import { ENV } from './names.js';
import { logSinkOf, type Observability } from './observability.js';
import { intervalScheduler } from './scheduler.js';
import { readJsonSecret } from './secrets.js';
import type { AwsClientTracing } from './tracing.js';

/** Powertools' Logger as a FamilyLogSink: `forFamily` is a child logger with the `family` key on every line. */
export const familyLogSinkOf = (logger: Logger): FamilyLogSink => {
  return {
    ...logSinkOf(logger),
    forFamily: (family) => {
      const child = logger.createChild();
      child.appendKeys({ family });
      return logSinkOf(child);
    },
  };
};

/** The document client the ledger, locks and parameter cache use (undefined attributes left out). */
export const familyDocumentClient = (dynamo: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });

export interface FamilyEngineParts {
  readonly config: FamiliesConfig;
  readonly client: CoderClient;
  /** The deployed tables; without them the ledger and locks live in memory (a CLI plan without a ledger). */
  readonly store?: {
    readonly documentClient: DynamoDBDocumentClient;
    readonly ledgerTable: string;
    readonly lockTable: string;
  };
  readonly log: FamilyLogSink;
  /** Progress events of each run (the CLI's meters). @default none */
  readonly progress?: FamilyProgressSink;
  /** Build parameters already read, by build id. @default a new cache */
  readonly parameterCache?: Map<string, BuildParameter[]>;
  /** @default a random UUID */
  readonly newRunId?: () => string;
}

/**
 * The reconcile engine from its parts: the one place that decides which adapter backs each port,
 * for the Lambdas and the CLI alike. With the tables, the stored parameter cache is used too.
 */
export const createFamilyEngine = (parts: FamilyEngineParts): FamilyReconcileDeps => {
  const { config, store } = parts;
  const coderWorkspaces = new CoderFamilyWorkspaces({
    client: parts.client,
    templates: config.templates,
    organization: config.organization,
    parameterCache: parts.parameterCache ?? new Map(),
    ...(store
      ? { parameterStore: new DynamoBuildParameterStore(store.documentClient, store.ledgerTable) }
      : {}),
  });
  const marker = config.childMarkerParameter;
  return {
    config,
    capacity: new CoderProvisionerCapacity({
      client: parts.client,
      organization: config.organization,
      templates: config.templates,
      controllerUserId: async (call) => {
        const id = await coderWorkspaces.controllerUserId(call);
        if (id === undefined) throw new Error("the controller's own Coder user could not be read");
        return id;
      },
      versionTags,
    }),
    workspaces: marker
      ? new ChildMarkerCheckedWorkspaces(coderWorkspaces, (call) =>
          verifyChildMarkerParameter(
            parts.client,
            { templates: config.templates, organization: config.organization, marker },
            call.deadline,
          ),
        )
      : coderWorkspaces,
    ledger: store
      ? new DynamoFamilyLedger(store.documentClient, store.ledgerTable)
      : new InMemoryFamilyLedger(),
    locks: store ? new DynamoFamilyLocks(store.documentClient, store.lockTable) : new InMemoryFamilyLocks(),
    timers: intervalScheduler,
    now: () => new Date(),
    newRunId: parts.newRunId ?? (() => crypto.randomUUID()),
    log: parts.log,
    progress: parts.progress ?? ignoreProgress,
  };
};

// A build's parameters never change, so this warm-container cache never goes stale.
const parameterCache = new Map<string, BuildParameter[]>();
// Nor does a template version's tags: the pacing reads each version's once per container.
const versionTags = new Map<string, Readonly<Record<string, string>>>();
const built = new WeakMap<NodeJS.ProcessEnv, FamilyReconcileDeps>();

/**
 * The reconcile engine's dependencies from the Lambda environment (`FAMILIES_CONFIG`,
 * `LEDGER_TABLE_NAME`, `LOCK_TABLE_NAME`, `CODER_URL`, `CODER_TOKEN_SECRET_ARN`), built once per
 * container and environment. Nothing is fetched here: the Coder token is read from Secrets
 * Manager on the first request (and cached by Powertools), so this can run at cold start.
 * Synchronous, so `await createFamilyReconcileDeps()` and a plain call both work.
 */
const documentClients = new WeakMap<NodeJS.ProcessEnv, DynamoDBDocumentClient>();

/** One DynamoDB client per container for the engine and the continuation lease alike. */
const sharedDocumentClient = (env: NodeJS.ProcessEnv, tracer?: AwsClientTracing): DynamoDBDocumentClient => {
  let documents = documentClients.get(env);
  if (!documents) {
    const dynamo = new DynamoDBClient({});
    documents = familyDocumentClient(tracer ? tracer.captureAWSv3Client(dynamo) : dynamo);
    documentClients.set(env, documents);
  }
  return documents;
};

export const createFamilyReconcileDeps = (
  env: NodeJS.ProcessEnv = process.env,
  options: { logger?: Logger; tracer?: AwsClientTracing; metrics?: MetricsSink } = {},
): FamilyReconcileDeps => {
  const existing = built.get(env);
  if (existing) return existing;
  const config = configFromEnvironment(familiesConfigSchema, ENV.familiesConfig, env);
  const ledgerTable = requireEnv(ENV.familiesLedgerTable, env);
  const lockTable = requireEnv(ENV.familiesLockTable, env);
  const logger = options.logger ?? new Logger({ serviceName: 'families' });
  const deps = createFamilyEngine({
    config,
    client: createCoderClient(coderConnectionFromEnvironment(env), {
      ...coderReleaseHooks(logSinkOf(logger), options.metrics),
    }),
    store: {
      documentClient: sharedDocumentClient(env, options.tracer),
      ledgerTable,
      lockTable,
    },
    log: familyLogSinkOf(logger),
    parameterCache,
  });
  built.set(env, deps);
  return deps;
};

/**
 * The reconcile function's continuation queue, when the deployment has one (the construct sets
 * the variable); undefined otherwise, and a paced run then waits for the next schedule.
 */
export const createContinuations = (
  env: NodeJS.ProcessEnv = process.env,
  tracer?: AwsClientTracing,
): { queue: ContinuationQueue; locks: ContinuationLocks } | undefined => {
  const queueUrl = env[ENV.continuationQueueUrl];
  if (!queueUrl) return undefined;
  const sqs = new SQSClient({});
  return {
    queue: new SqsContinuationQueue(tracer ? tracer.captureAWSv3Client(sqs) : sqs, queueUrl),
    locks: new DynamoFamilyLocks(sharedDocumentClient(env, tracer), requireEnv(ENV.familiesLockTable, env)),
  };
};

const familyQueue = (observability: Observability, env: NodeJS.ProcessEnv) =>
  new SqsFamilyWorkQueue(
    observability.tracer.captureAWSv3Client(new SQSClient({})),
    requireEnv(ENV.familiesQueueUrl, env),
  );

/** The webhook's dependencies: the path secrets (read through the Powertools cache), the queue, logs, metrics. */
export const createWebhookDeps = (observability: Observability, env = process.env) => {
  const secretArn = requireEnv(ENV.webhookSecretArn, env);
  const maxBodyBytes = env[ENV.webhookMaxBodyBytes];
  return {
    pathSecrets: async () => {
      const secret = await readJsonSecret(secretArn, webhookSecretSchema);
      return secret.previousPathSecret ? [secret.pathSecret, secret.previousPathSecret] : [secret.pathSecret];
    },
    queue: familyQueue(observability, env),
    log: logSinkOf(observability.logger),
    metrics: observability.metrics,
    ...(maxBodyBytes ? { maxBodyBytes: Number(maxBodyBytes) } : {}),
  };
};

/** The queue worker's dependencies: the reconcile engine, the queue (to shorten retries), logs, metrics. */
export const createWorkerDeps = (observability: Observability, env = process.env) => {
  const engine = createFamilyReconcileDeps(env, observability);
  return {
    reconcile: (request: Parameters<typeof reconcileFamilies>[1]) => reconcileFamilies(engine, request),
    retries: familyQueue(observability, env),
    log: logSinkOf(observability.logger),
    metrics: observability.metrics,
    runMetrics: observability.metrics,
  };
};

/** The audit log subscription's dependencies: the queue, logs and metrics (no secret: CloudWatch Logs invokes it). */
export const createLogsDeps = (observability: Observability, env = process.env) => ({
  queue: familyQueue(observability, env),
  log: logSinkOf(observability.logger),
  metrics: observability.metrics,
});
