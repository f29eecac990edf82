import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/contracts/names.js';

export interface CoderRequestBudgetProps {
  /** Coder requests per minute for the whole deployment (config `coder.requestsPerMinute`). */
  readonly requestsPerMinute: number;
}

/**
 * The table behind the Coder request budget every Coder-facing Lambda shares
 * (lambdas/adapters/aws/coder-request-budget.ts): one small item per Coder deployment.
 */
export class CoderRequestBudget extends Construct {
  readonly table: dynamodb.Table;
  readonly requestsPerMinute: number;

  constructor(scope: Construct, id: string, props: CoderRequestBudgetProps) {
    super(scope, id);
    this.requestsPerMinute = props.requestsPerMinute;
    // One item per Coder deployment (`pk` only), worthless a minute later; recovery is on because
    // cdk-nag (DDB3) asks for it and it costs next to nothing here.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
  }

  /** Lets `fn` take from the budget: the table's name and rate in its environment, UpdateItem on it. */
  attach(fn: lambda.Function): void {
    fn.addEnvironment(ENV.coderBudgetTable, this.table.tableName);
    fn.addEnvironment(ENV.coderRequestsPerMinute, String(this.requestsPerMinute));
    this.table.grant(fn, 'dynamodb:UpdateItem');
  }
}
