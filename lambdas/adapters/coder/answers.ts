/**
 * What a Coder answer means: a 2xx body checked against its schema, or any other status turned into
 * a CoderApiError whose message says what to do. Secrets are redacted from everything kept.
 */
import { redactThenTruncate } from '../../core/contracts/redact.js';
import {
  CoderApiError,
  CoderResponseShapeError,
  type CoderValidation,
  classifyStatus,
  describeApiError,
  redact,
} from './errors.js';
import type { RequestSpec } from './transport.js';
import { coderErrorBodySchema } from './types.js';

export type RawAnswer = { status: number; headers: Headers; text: string };

/** The body checked against the spec's schema; undefined when the spec expects none. */
export const parseAnswer = <T>(
  spec: RequestSpec<T>,
  answer: RawAnswer,
  attempts: number,
  secrets: string[],
): T | undefined => {
  if (!spec.schema) return undefined;
  const shapeError = (problems: string[]) =>
    new CoderResponseShapeError(
      redact(
        `Coder answered ${spec.method} ${spec.route} (${answer.status}) with a body that is not the documented shape: ${problems.slice(0, 5).join('; ')}; check that baseUrl points at a Coder v2 deployment`,
        secrets,
      ),
      { method: spec.method, route: spec.route, attempts, status: answer.status, problems },
    );
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    throw shapeError(['the body is not JSON']);
  }
  const result = spec.schema.safeParse(json);
  if (!result.success) {
    throw shapeError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
};

export const apiError = (
  spec: RequestSpec<unknown>,
  answer: RawAnswer,
  attempts: number,
  secrets: string[],
): CoderApiError => {
  let coderMessage: string | undefined;
  let detail: string | undefined;
  let validations: CoderValidation[] = [];
  try {
    const parsed = coderErrorBodySchema.safeParse(JSON.parse(answer.text));
    if (parsed.success) {
      coderMessage = parsed.data.message;
      detail = parsed.data.detail;
      validations = (parsed.data.validations ?? []).map((v) => ({ field: v.field, detail: v.detail }));
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): keep a short excerpt so the operator sees what answered.
    const excerpt = redactThenTruncate(answer.text.trim(), secrets, 200);
    if (excerpt) detail = excerpt;
  }
  coderMessage = coderMessage === undefined ? undefined : redact(coderMessage, secrets);
  detail = detail === undefined ? undefined : redact(detail, secrets);
  validations = validations.map((v) => ({
    field: redact(v.field, secrets),
    detail: redact(v.detail, secrets),
  }));
  const isCreate = spec.isCreate === true;
  const kind = classifyStatus({ status: answer.status, isCreate, coderMessage, detail });
  const facts = {
    kind,
    status: answer.status,
    method: spec.method,
    route: spec.route,
    attempts,
    isCreate,
    coderMessage,
    detail,
    validations,
  };
  const message = describeApiError(facts, spec.wording ?? {});
  return new CoderApiError(redact(message, secrets), facts);
};
