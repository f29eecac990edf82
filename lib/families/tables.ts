import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

export interface FamilyTables {
  readonly ledgerTable: dynamodb.Table;
  readonly lockTable: dynamodb.Table;
}

/** The ownership ledger and the family locks, created directly in `scope` (their logical ids depend on it). */
export const createFamilyTables = (scope: Construct): FamilyTables => ({
  // Ownership records decide what may ever be deleted: keep them (and their history) safe.
  // Cached build parameters expire; ownership records carry no TTL.
  ledgerTable: familyTable(scope, 'LedgerTable', RemovalPolicy.RETAIN),
  // Leases left by crashed runs are cleaned up by DynamoDB.
  lockTable: familyTable(scope, 'LockTable', RemovalPolicy.DESTROY),
});

/** Both tables: `pk`/`sk` strings, on demand, encrypted, point-in-time recovery, items expire by `ttl`. */
const familyTable = (scope: Construct, id: string, removalPolicy: RemovalPolicy): dynamodb.Table =>
  new dynamodb.Table(scope, id, {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: 'ttl',
    removalPolicy,
  });
