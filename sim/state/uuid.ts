/** UUID path segments and body fields, parsed the way Coder's httpapi does. */
import { CoderApiError } from '../errors.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export const isUuid = (s: string): boolean => UUID_PATTERN.test(s);

/** A `{workspace}` or `{workspacebuild}` path segment, lower-cased; 400 when it is not a UUID. */
export function uuidParam(ref: string): string {
  if (!isUuid(ref))
    throw new CoderApiError(400, `Invalid UUID "${ref}".`, {
      detail: `invalid UUID length: ${ref.length}`,
    });
  return ref.toLowerCase();
}

/** An optional UUID body field; empty and the nil UUID mean absent. */
export function optionalUuid(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '' || value === NIL_UUID) return undefined;
  if (typeof value !== 'string' || !isUuid(value)) {
    throw new CoderApiError(400, 'Request body must be valid JSON.', {
      detail: `${field}: invalid UUID ${JSON.stringify(value)}`,
    });
  }
  return value.toLowerCase();
}
