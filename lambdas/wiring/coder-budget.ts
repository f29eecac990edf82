/**
 * The deployment's shared Coder request budget (adapters/aws/coder-request-budget.ts) from the
 * environment the constructs set: `CODER_BUDGET_TABLE` and `CODER_REQUESTS_PER_MINUTE`. One per
 * container, shared by every Coder client in it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCoderRequestBudget } from '../adapters/aws/coder-request-budget.js';
import { ConfigError } from '../core/contracts/validation.js';
import { ENV } from './names.js';
import { logSinkOf } from './observability.js';

export interface CoderBudgetSettings {
  readonly tableName: string;
  readonly requestsPerMinute: number;
}

/** The budget settings, or undefined when the function has no budget table (local pacing only). */
export const coderBudgetFromEnvironment = (env: NodeJS.ProcessEnv): CoderBudgetSettings | undefined => {
  const tableName = env[ENV.coderBudgetTable];
  if (!tableName) return undefined;
  const raw = env[ENV.coderRequestsPerMinute] ?? '400';
  const requestsPerMinute = Number(raw);
  if (!Number.isInteger(requestsPerMinute) || requestsPerMinute < 1) {
    throw new ConfigError('Lambda environment', [
      `${ENV.coderRequestsPerMinute} must be a whole number of at least 1, got ${JSON.stringify(raw)}`,
    ]);
  }
  return { tableName, requestsPerMinute };
};

const budgets = new Map<string, DynamoCoderRequestBudget>();

/** The container's budget for `coderUrl`'s deployment (created on first use). */
export const sharedCoderBudget = (
  settings: CoderBudgetSettings,
  coderUrl: string,
): DynamoCoderRequestBudget => {
  const budgetKey = new URL(coderUrl).host;
  const id = `${settings.tableName}|${budgetKey}|${settings.requestsPerMinute}`;
  let budget = budgets.get(id);
  if (!budget) {
    budget = new DynamoCoderRequestBudget({
      documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({})),
      tableName: settings.tableName,
      budgetKey,
      requestsPerMinute: settings.requestsPerMinute,
      log: logSinkOf(new Logger({ serviceName: 'coder-request-budget' })),
    });
    budgets.set(id, budget);
  }
  return budget;
};
