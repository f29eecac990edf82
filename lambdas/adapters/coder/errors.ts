/**
 * Typed failures of the Coder client. Call sites switch on `kind`; they never match on message
 * text. Every message says what went wrong and what to do, and none carries a secret: all text
 * that came from outside the client passes through `redact` first.
 */

import { redactSecrets } from '../../core/contracts/redact.js';

/** A Coder validation entry (`codersdk.ValidationError`). */
export interface CoderValidation {
  field: string;
  detail: string;
}

export type CoderApiErrorKind =
  | 'already_exists'
  | 'build_active'
  | 'conflict'
  | 'gone'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'validation'
  | 'rate_limited'
  | 'server'
  | 'unexpected_status';

export type CoderErrorKind = CoderApiErrorKind | 'network' | 'timeout' | 'response_shape' | 'deadline';

interface CoderErrorBase {
  method: string;
  /** The swagger path template, never the concrete URL. */
  route: string;
  /** How many HTTP attempts were made before giving up. */
  attempts: number;
}

/** Base of every error the client throws. */
export abstract class CoderError extends Error {
  abstract readonly kind: CoderErrorKind;
  readonly method: string;
  readonly route: string;
  readonly attempts: number;

  constructor(message: string, base: CoderErrorBase) {
    super(message);
    this.method = base.method;
    this.route = base.route;
    this.attempts = base.attempts;
  }
}

/** Coder answered with a non-2xx status. */
export class CoderApiError extends CoderError {
  override readonly name = 'CoderApiError';
  readonly kind: CoderApiErrorKind;
  readonly status: number;
  /** Coder's `message`. */
  readonly coderMessage: string | undefined;
  readonly detail: string | undefined;
  readonly validations: readonly CoderValidation[];

  constructor(
    message: string,
    fields: CoderErrorBase & {
      kind: CoderApiErrorKind;
      status: number;
      coderMessage?: string | undefined;
      detail?: string | undefined;
      validations?: readonly CoderValidation[];
    },
  ) {
    super(message, fields);
    this.kind = fields.kind;
    this.status = fields.status;
    this.coderMessage = fields.coderMessage;
    this.detail = fields.detail;
    this.validations = fields.validations ?? [];
  }
}

/** The request never got an HTTP answer (connection refused, reset, DNS...). */
export class CoderNetworkError extends CoderError {
  override readonly name = 'CoderNetworkError';
  readonly kind = 'network' as const;
  /** The system error code, e.g. `ECONNREFUSED`, when there was one. */
  readonly code: string | undefined;

  constructor(message: string, fields: CoderErrorBase & { code?: string | undefined }) {
    super(message, fields);
    this.code = fields.code;
  }
}

/** No complete answer within `timeoutMs`. */
export class CoderTimeoutError extends CoderError {
  override readonly name = 'CoderTimeoutError';
  readonly kind = 'timeout' as const;
  readonly timeoutMs: number;

  constructor(message: string, fields: CoderErrorBase & { timeoutMs: number }) {
    super(message, fields);
    this.timeoutMs = fields.timeoutMs;
  }
}

/** Coder answered 2xx with a body that is not the documented shape. */
export class CoderResponseShapeError extends CoderError {
  override readonly name = 'CoderResponseShapeError';
  readonly kind = 'response_shape' as const;
  readonly status: number;
  /** Where the body differs, e.g. `workspaces.3.id: expected string`; never the values. */
  readonly problems: readonly string[];

  constructor(message: string, fields: CoderErrorBase & { status: number; problems: readonly string[] }) {
    super(message, fields);
    this.status = fields.status;
    this.problems = fields.problems;
  }
}

export const isCoderError = (error: unknown): error is CoderError => error instanceof CoderError;

/** True when `error` is a client error of one of `kinds`; e.g. `isCoderErrorKind(e, 'already_exists')`. */
export const isCoderErrorKind = <K extends CoderErrorKind>(
  error: unknown,
  ...kinds: K[]
): error is CoderError & { kind: K } =>
  error instanceof CoderError && (kinds as CoderErrorKind[]).includes(error.kind);

/** Replaces every secret in `text`, ignoring case, so no message or property can carry one. */
export const redact = (text: string, secrets: readonly string[]): string => redactSecrets(text, secrets);

// Postgres unique-violation text as Coder surfaces it in `detail` when two creates race past the
// pre-transaction name check (SQLSTATE 23505).
const UNIQUE_VIOLATION = /duplicate key|unique constraint|unique_violation|23505/i;
const BUILD_ACTIVE = /build is already active/i;

export interface FailureFacts {
  status: number;
  /** The request creates a named resource, so a conflict means "the name is taken". */
  isCreate: boolean;
  coderMessage?: string | undefined;
  detail?: string | undefined;
}

/** Maps a non-2xx answer to the kind call sites switch on. */
export const classifyStatus = (facts: FailureFacts): CoderApiErrorKind => {
  const { status, isCreate } = facts;
  const text = `${facts.coderMessage ?? ''} ${facts.detail ?? ''}`;
  if (status === 409) {
    if (BUILD_ACTIVE.test(text)) return 'build_active';
    return isCreate ? 'already_exists' : 'conflict';
  }
  if (status >= 500 && isCreate && UNIQUE_VIOLATION.test(text)) return 'already_exists';
  if (status === 400 || status === 422) return 'validation';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 410) return 'gone';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server';
  return 'unexpected_status';
};

/** Per-request wording, so messages name the thing the caller asked about. */
export interface ErrorSubject {
  /**
   * e.g. `workspace name "Bad_Name"`, used as "Coder rejected <subject>" and "<subject> already
   * exists"; a function picks the wording from the validations Coder returned.
   */
  subject?: string | ((validations: readonly CoderValidation[]) => string);
  /** Full message for a 404, e.g. `template "x" not found in organization "coder"`. */
  notFound?: string;
  /** Full message for a 410. */
  gone?: string;
  /** Replaces the session-token advice for a 401, for calls that authenticate otherwise. */
  unauthorized?: string;
}

export interface ApiErrorFacts extends FailureFacts, CoderErrorBase {
  kind: CoderApiErrorKind;
  validations: readonly CoderValidation[];
}

/** Builds the operator-facing message for a Coder error answer. */
export const describeApiError = (facts: ApiErrorFacts, wording: ErrorSubject): string => {
  const { status, method, route } = facts;
  const call = `${method} ${route}`;
  const coder = facts.coderMessage ? ` ${facts.coderMessage}` : '';
  const why = `(${status}${coder})`;
  const detail = facts.detail ? `: ${facts.detail}` : '';
  const subject =
    typeof wording.subject === 'function'
      ? wording.subject(facts.validations)
      : (wording.subject ?? `the request ${call}`);
  switch (facts.kind) {
    case 'validation': {
      const fields = facts.validations.map((v) => `${v.field}: ${v.detail}`).join('; ');
      const what = fields || facts.detail || 'no detail given';
      return `Coder rejected ${subject}: ${what} ${why}; fix the input and retry`;
    }
    case 'already_exists':
      return `${subject} already exists ${why}; read the existing one instead of creating it again`;
    case 'build_active':
      return `Coder refused ${call}: a workspace build is already active ${why}; wait for it to finish or cancel it, then retry`;
    case 'conflict':
      return `Coder refused ${call} with a conflict ${why}${detail}`;
    case 'not_found':
      return wording.notFound
        ? `${wording.notFound} ${why}`
        : `Coder found nothing at ${call} ${why}; it does not exist or the token's user cannot see it`;
    case 'gone':
      return wording.gone
        ? `${wording.gone} ${why}`
        : `Coder says ${call} is gone (deleted) ${why}; ask with includeDeleted to read it`;
    case 'unauthorized':
      if (wording.unauthorized) return `${wording.unauthorized} (401 to ${call})`;
      return `Coder answered 401 to ${call}: the session token is missing or expired; check the token secret${detail}`;
    case 'forbidden':
      return `Coder answered 403 to ${call}: the token's user lacks permission or the feature is not licensed ${why}${detail}`;
    case 'rate_limited':
      return `Coder rate limited ${call} ${why} after ${facts.attempts} attempt(s); lower the request rate or raise Coder's API rate limit`;
    case 'server':
      return facts.isCreate
        ? `Coder failed on ${call} ${why}${detail}; the create may still have taken effect, so read back before creating again`
        : `Coder failed on ${call} ${why}${detail} after ${facts.attempts} attempt(s); check the Coder server's health`;
    case 'unexpected_status':
      return `Coder answered ${call} with an unexpected status ${why}${detail}`;
  }
};
