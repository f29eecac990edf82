/** Query-string rules coderd's handlers share. */
import { CoderApiError } from '../errors.js';

/** `httpapi.QueryParamParser.ErrorExcessParams` (coderd/httpapi/queryparams.go): unknown parameters are a 400. */
export function rejectExcessParams(url: URL, known: readonly string[]): void {
  const excess = [...new Set(url.searchParams.keys())].filter((k) => !known.includes(k));
  if (excess.length === 0) return;
  throw new CoderApiError(400, 'Invalid query parameters.', {
    validations: excess.map((k) => ({ field: k, detail: `Query param "${k}" is not a valid query param` })),
  });
}
