/** Rich parameter values on a build: how they are read from a request, resolved and validated. */
import { CoderApiError } from '../errors.js';
import type { BuildParameter } from '../model.js';
import type { SimRichParameter } from '../types.js';

export function parseParameterValues(value: unknown): BuildParameter[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new CoderApiError(400, 'Request body must be valid JSON.', {
      detail: 'rich_parameter_values must be an array',
    });
  }
  return value.map((entry: unknown, i) => {
    const e = entry as { name?: unknown; value?: unknown } | null;
    if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.value !== 'string') {
      throw new CoderApiError(400, 'Request body must be valid JSON.', {
        detail: `rich_parameter_values[${i}] must be {name: string, value: string}`,
      });
    }
    return { name: e.name, value: e.value };
  });
}

/**
 * wsbuilder's parameter resolution: given values override the previous build's, immutable
 * parameters cannot change after creation, and a required parameter (no default) must have a value.
 * Values for names the template does not declare are ignored, as Coder's classic flow does.
 */
export function resolveParameters(
  declared: SimRichParameter[],
  previous: BuildParameter[] | undefined,
  given: BuildParameter[],
): BuildParameter[] {
  const out: BuildParameter[] = [];
  for (const p of declared) {
    const givenValue = given.find((g) => g.name === p.name)?.value;
    const previousValue = p.ephemeral === true ? undefined : previous?.find((q) => q.name === p.name)?.value;
    if (
      previous !== undefined &&
      p.mutable === false &&
      givenValue !== undefined &&
      previousValue !== undefined &&
      givenValue !== previousValue
    ) {
      throw parameterError(
        p.name,
        `Parameter "${p.name}" is not mutable, so it can't be updated after creating a workspace.`,
      );
    }
    const value = givenValue ?? previousValue ?? p.defaultValue;
    if (value === undefined) throw parameterError(p.name, 'Required parameter not provided.');
    checkParameterValue(p, value);
    out.push({ name: p.name, value });
  }
  return out;
}

function checkParameterValue(p: SimRichParameter, value: string): void {
  const custom = p.validationError;
  if (p.options !== undefined && p.options.length > 0 && p.type !== 'list(string)') {
    if (!p.options.some((o) => o.value === value)) {
      throw parameterError(p.name, custom ?? `Value "${value}" must be one of the options.`);
    }
  }
  if (p.type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || Number.isNaN(n))
      throw parameterError(p.name, `Value "${value}" is not a number.`);
    if (p.validationMin !== undefined && n < p.validationMin) {
      throw parameterError(p.name, custom ?? `Value must be at least ${p.validationMin}.`);
    }
    if (p.validationMax !== undefined && n > p.validationMax) {
      throw parameterError(p.name, custom ?? `Value must be at most ${p.validationMax}.`);
    }
  }
  if (p.type === 'bool' && value !== 'true' && value !== 'false') {
    throw parameterError(p.name, `Value "${value}" is not a bool.`);
  }
  if (p.type === 'list(string)') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
      throw parameterError(p.name, `Value "${value}" is not a JSON-encoded list of strings.`);
    }
  }
  if (
    p.validationRegex !== undefined &&
    p.validationRegex !== '' &&
    !new RegExp(p.validationRegex).test(value)
  ) {
    throw parameterError(p.name, custom ?? `Value "${value}" does not match ${p.validationRegex}.`);
  }
}

function parameterError(name: string, detail: string): CoderApiError {
  return new CoderApiError(400, `Unable to validate parameter "${name}"`, {
    detail,
    validations: [{ field: name, detail }],
  });
}
