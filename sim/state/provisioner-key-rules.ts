/** What Coder accepts in a provisioner key create request (name and tags). */
import { CoderApiError } from '../errors.js';
import { isReservedKeyName } from '../model.js';

function nameProblem(message: string): CoderApiError {
  return new CoderApiError(400, message, { validations: [{ field: 'name', detail: message }] });
}

function tagsProblem(detail: string): CoderApiError {
  return new CoderApiError(400, 'Request body must be valid JSON.', { detail });
}

export function parseProvisionerKeyInput(input: { name?: unknown; tags?: unknown }): {
  name: string;
  tags: Record<string, string>;
} {
  const name = typeof input.name === 'string' ? input.name : '';
  if (name === '') throw nameProblem('Name is required');
  if (name.length > 64) throw nameProblem('Name must be at most 64 characters');
  if (isReservedKeyName(name)) throw nameProblem(`Name cannot be reserved name '${name}'`);
  const tags: Record<string, string> = {};
  if (input.tags !== undefined && input.tags !== null) {
    if (typeof input.tags !== 'object' || Array.isArray(input.tags))
      throw tagsProblem('tags must be an object');
    for (const [k, v] of Object.entries(input.tags)) {
      if (typeof v !== 'string') throw tagsProblem(`tag ${k} must be a string`);
      tags[k] = v;
    }
  }
  return { name, tags };
}
