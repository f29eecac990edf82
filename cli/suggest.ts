/** "Did you mean …?" for mistyped commands and flags; the pure helper lives in core, which reports unknown templates with it too. */
export { closest, didYouMean, editDistance } from '../lambdas/core/contracts/suggest.js';
