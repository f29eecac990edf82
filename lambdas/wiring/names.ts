/**
 * The function, metric namespace and environment variable names now live in
 * lambdas/contracts/names.ts, which the constructs import without loading any wiring. Re-exported
 * here so the composition roots' imports stay as they were.
 */
export * from '../contracts/names.js';
