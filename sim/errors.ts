/** Errors the simulator answers with, shaped like Coder's `codersdk.Response`. */

export interface ValidationError {
  field: string;
  detail: string;
}

export interface CoderResponseBody {
  message: string;
  detail?: string;
  validations?: ValidationError[];
}

export class CoderApiError extends Error {
  readonly status: number;
  readonly body: CoderResponseBody;

  constructor(
    status: number,
    message: string,
    extra: { detail?: string; validations?: ValidationError[] } = {},
  ) {
    super(message);
    this.name = 'CoderApiError';
    this.status = status;
    this.body = { message };
    if (extra.detail !== undefined) this.body.detail = extra.detail;
    if (extra.validations !== undefined) this.body.validations = extra.validations;
  }
}

/** Coder makes a missing resource and a missing permission look the same. */
export const notFound = (): CoderApiError =>
  new CoderApiError(404, 'Resource not found or you do not have access to this resource');

export const forbidden = (): CoderApiError => new CoderApiError(403, 'Forbidden.');

export const validationFailed = (validations: ValidationError[]): CoderApiError =>
  new CoderApiError(400, 'Validation failed.', { validations });

/** The detail text go-playground/validator produces through Coder's httpapi.Read. */
export const tagDetail = (tag: string, value: string): string =>
  `Validation failed for tag "${tag}" with value: "${value}"`;
