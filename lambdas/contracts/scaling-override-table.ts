/**
 * The scaling override table's layout, which the construct creates (lib/scaling/construct.ts) and
 * the store reads and writes (lambdas/adapters/aws/scaling-override-store.ts). No imports: the
 * constructs load it at synth.
 */

/** The table's partition key: one item per cluster. */
export const OVERRIDE_PARTITION_KEY = 'pk';
/** The attribute DynamoDB's TTL deletes expired overrides by (epoch seconds). */
export const OVERRIDE_TTL_ATTRIBUTE = 'expiresAt';
