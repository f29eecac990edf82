import { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoBuildParameterStore, DynamoFamilyLedger } from '../adapters/aws/family-ledger.js';
import { DynamoFamilyLocks } from '../adapters/aws/family-locks.js';
import { CoderFamilyWorkspaces } from '../adapters/coder/family-workspaces.js';
import { familiesConfigSchema } from '../core/families/config.js';
import type { BuildParameter } from '../core/families/model.js';
import type { FamilyLogSink, FamilyReconcileDeps } from '../core/families/ports.js';
import { coderConnectionFromEnvironment, createCoderClient } from './coder-connection.js';
import { configFromEnvironment, requireEnv } from './env.js';
import { logSinkOf } from './observability.js';

export const FAMILIES_ENV = {
  config: 'FAMILIES_CONFIG',
  ledgerTable: 'LEDGER_TABLE_NAME',
  lockTable: 'LOCK_TABLE_NAME',
} as const;

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

// A build's parameters never change, so this warm-container cache never goes stale.
const parameterCache = new Map<string, BuildParameter[]>();
const built = new WeakMap<NodeJS.ProcessEnv, FamilyReconcileDeps>();

/**
 * The reconcile engine's dependencies from the Lambda environment (`FAMILIES_CONFIG`,
 * `LEDGER_TABLE_NAME`, `LOCK_TABLE_NAME`, `CODER_URL`, `CODER_TOKEN_SECRET_ARN`), built once per
 * container and environment. Nothing is fetched here: the Coder token is read from Secrets
 * Manager on the first request (and cached by Powertools), so this can run at cold start.
 * Synchronous, so `await createFamilyReconcileDeps()` and a plain call both work.
 */
export const createFamilyReconcileDeps = (
  env: NodeJS.ProcessEnv = process.env,
  options: { logger?: Logger; tracer?: Tracer } = {},
): FamilyReconcileDeps => {
  const existing = built.get(env);
  if (existing) return existing;
  const config = configFromEnvironment(familiesConfigSchema, FAMILIES_ENV.config, env);
  const ledgerTable = requireEnv(FAMILIES_ENV.ledgerTable, env);
  const lockTable = requireEnv(FAMILIES_ENV.lockTable, env);
  const connection = coderConnectionFromEnvironment(env);
  const dynamo = new DynamoDBClient({});
  const documentClient = DynamoDBDocumentClient.from(
    options.tracer ? options.tracer.captureAWSv3Client(dynamo) : dynamo,
    {
      marshallOptions: { removeUndefinedValues: true },
    },
  );
  const deps: FamilyReconcileDeps = {
    config,
    workspaces: new CoderFamilyWorkspaces({
      client: createCoderClient(connection),
      templates: config.templates,
      organization: config.organization,
      parameterCache,
      parameterStore: new DynamoBuildParameterStore(documentClient, ledgerTable),
    }),
    ledger: new DynamoFamilyLedger(documentClient, ledgerTable),
    locks: new DynamoFamilyLocks(documentClient, lockTable),
    now: () => new Date(),
    newRunId: () => crypto.randomUUID(),
    log: familyLogSinkOf(options.logger ?? new Logger({ serviceName: 'families' })),
  };
  built.set(env, deps);
  return deps;
};
