/** The CLI's "did you mean": the same closest-match rule the engine uses for template names. */
export { closest, didYouMean, editDistance } from '../lambdas/core/contracts/suggest.js';
