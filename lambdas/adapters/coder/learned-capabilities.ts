/**
 * What a client learned from Coder's answers where the release table (capabilities.ts) is a guess:
 * a capability the table grants and Coder refused is not used again by that client, so for the
 * life of a warm container (clients live at module scope and serve every run).
 */
import type { CoderCapabilityName } from './capabilities.js';
import { CoderApiError } from './errors.js';

/** A capability the release table granted and Coder's answer refused. */
export interface LearnedRefusal {
  readonly capability: CoderCapabilityName;
  /** buildinfo's version, for the log line; undefined when it could not be read. */
  readonly reported: string | undefined;
  /** The swagger route template that refused it. */
  readonly route: string;
  /** What Coder answered, e.g. `400 "Invalid query parameters." for offline`. */
  readonly answer: string;
}

export class LearnedCapabilities {
  private readonly refusals = new Map<CoderCapabilityName, LearnedRefusal>();

  /** `onLearned` is told once per capability; a throwing hook does not break the client. */
  constructor(private readonly onLearned: ((refusal: LearnedRefusal) => void) | undefined) {}

  refused(capability: CoderCapabilityName): boolean {
    return this.refusals.has(capability);
  }

  refuse(refusal: LearnedRefusal): void {
    if (this.refusals.has(refusal.capability)) return;
    this.refusals.set(refusal.capability, refusal);
    try {
      this.onLearned?.(refusal);
    } catch {
      // A reporting hook must not break the client.
    }
  }

  /** Every refusal so far, oldest first. */
  all(): LearnedRefusal[] {
    return [...this.refusals.values()];
  }
}

const INVALID_QUERY_PARAMETERS = 'Invalid query parameters.';

/**
 * Coder's answer to a query parameter its handler does not parse: `QueryParamParser.ErrorExcessParams`
 * (coderd/httpapi/queryparams.go) adds `{field: <name>, detail: "Query param \"<name>\" is not a valid
 * query param"}` and the handler answers 400 "Invalid query parameters." with those validations.
 * Without validations (a proxy that rewrote the body) the message alone is taken as the answer.
 */
export const refusesQueryParameter = (error: unknown, name: string): boolean => {
  if (!(error instanceof CoderApiError) || error.status !== 400) return false;
  if (error.coderMessage !== INVALID_QUERY_PARAMETERS) return false;
  return error.validations.length === 0 || error.validations.some((v) => v.field === name);
};
