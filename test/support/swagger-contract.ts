/**
 * Checks requests and responses against Coder's real API spec (vendor/coder/swagger.json, where it
 * came from: vendor/coder/README.md) with a real JSON Schema validator. Swagger 2.0 schemas are JSON Schema draft-04.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { definitionPatches, findException, undeclaredQueryParams } from './spec-exceptions.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SPEC_PATH = path.resolve(here, '../../vendor/coder/swagger.json');

interface SwaggerParameter {
  readonly in: string;
  readonly name: string;
  readonly schema?: Record<string, unknown>;
  readonly required?: boolean;
}
export interface SwaggerOperation {
  readonly operationId?: string;
  readonly parameters?: readonly SwaggerParameter[];
  readonly responses: Record<string, { schema?: Record<string, unknown> }>;
}
interface SwaggerDoc {
  readonly paths: Record<string, Record<string, SwaggerOperation>>;
  readonly definitions: Record<string, Record<string, unknown>>;
}

export const spec: SwaggerDoc = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as SwaggerDoc;

/** The definitions with the listed spec exceptions applied (spec-exceptions.ts says why, for each). */
const patchedDefinitions = (): Record<string, Record<string, unknown>> => {
  const definitions = structuredClone(spec.definitions);
  for (const patch of definitionPatches()) {
    const target = definitions[patch.definition ?? '']?.properties as Record<string, unknown> | undefined;
    if (!target || !patch.property || !(patch.property in target)) {
      throw new Error(
        `spec exception names ${patch.definition}.${patch.property}, which the spec does not have`,
      );
    }
    target[patch.property] = patch.schema;
  }
  return definitions;
};

export interface ValidationResult {
  readonly ok: boolean;
  readonly errors: string[];
}

interface CompiledRoute {
  readonly template: string;
  readonly pattern: RegExp;
  readonly literalSegments: number;
}

const compiledRoutes: CompiledRoute[] = Object.keys(spec.paths).map((template) => {
  const segments = template.split('/').filter(Boolean);
  const pattern = new RegExp(
    `^/${segments.map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}/?$`,
  );
  return { template, pattern, literalSegments: segments.filter((s) => !s.startsWith('{')).length };
});

/** Finds the spec operation a concrete request path hits, preferring literal segments over parameters. */
export const matchOperation = (
  method: string,
  requestPath: string,
): { pathTemplate: string; operation: SwaggerOperation } | undefined => {
  const pathname = requestPath.split('?')[0] ?? requestPath;
  const candidates = compiledRoutes
    .filter((route) => route.pattern.test(pathname))
    .sort((a, b) => b.literalSegments - a.literalSegments);
  for (const candidate of candidates) {
    const operation = spec.paths[candidate.template]?.[method.toLowerCase()];
    if (operation) return { pathTemplate: candidate.template, operation };
  }
  return undefined;
};

/** True when the spec declares this method on this path template, or an exception accounts for it. */
export const operationExists = (method: string, pathTemplate: string): boolean =>
  Boolean(spec.paths[pathTemplate]?.[method.toLowerCase()]) ||
  findException(`${method.toUpperCase()} ${pathTemplate}`, 'undeclared-operation') !== undefined;

/**
 * Query parameters of a request that its operation does not declare (nor a listed exception):
 * a parameter the spec does not know is one some release answers with 400.
 */
export const unknownQueryParams = (method: string, pathTemplate: string, requestPath: string): string[] => {
  const operation = spec.paths[pathTemplate]?.[method.toLowerCase()];
  const declared = new Set([
    ...(operation?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    ...undeclaredQueryParams(`${method.toUpperCase()} ${pathTemplate}`),
  ]);
  const query = requestPath.includes('?') ? requestPath.slice(requestPath.indexOf('?') + 1) : '';
  return [...new URLSearchParams(query).keys()].filter((name) => !declared.has(name));
};

/**
 * A copy of the definitions in which every object schema with declared properties forbids others,
 * so a misspelt field in the simulator or the client fails the contract instead of passing silently.
 */
const closeObjects = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    copy[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, closeObjects(v)]))
        : closeObjects(value);
  }
  if (copy.properties && copy.additionalProperties === undefined && !copy.allOf)
    copy.additionalProperties = false;
  return copy;
};

// Both packages are CommonJS with a `default` export; under NodeNext the class sits on `.default`.
const Ajv = AjvDraft04.default;
const addFormats = ajvFormats.default;
type AjvInstance = InstanceType<typeof Ajv>;

const makeAjv = (closed: boolean): AjvInstance => {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  // Go's numeric formats carry no constraint JSON Schema can check beyond `type`.
  for (const format of ['int32', 'int64', 'float32', 'float64', 'uint8', 'uint16', 'uint32', 'uint64'])
    ajv.addFormat(format, true);
  const definitions = patchedDefinitions();
  ajv.addSchema({ definitions: closed ? closeObjects(definitions) : definitions }, 'coder');
  return ajv;
};
const ajvClosed = makeAjv(true);
const ajvOpen = makeAjv(false);
const validators = new Map<string, ValidateFunction>();

const rewriteRefs = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith('#/definitions/')
        ? `coder${value}`
        : rewriteRefs(value),
    ]),
  );
};

const validatorFor = (key: string, schema: Record<string, unknown>, closed: boolean): ValidateFunction => {
  const cacheKey = `${closed}:${key}`;
  const cached = validators.get(cacheKey);
  if (cached) return cached;
  const ajv = closed ? ajvClosed : ajvOpen;
  const validate = ajv.compile(rewriteRefs(closed ? closeObjects(schema) : schema) as object);
  validators.set(cacheKey, validate);
  return validate;
};

const describe = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map(
    (e) =>
      `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
  );

const withoutNulls = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
};

/**
 * Validates a response body against the schema the spec gives for that status. Bodies of statuses
 * the spec does not list (errors) are checked against codersdk.Response, Coder's error shape.
 */
export const validateResponse = (
  method: string,
  pathTemplate: string,
  status: number,
  body: unknown,
): ValidationResult => {
  const opKey = `${method.toUpperCase()} ${pathTemplate}`;
  const operation = spec.paths[pathTemplate]?.[method.toLowerCase()];
  if (!operation) return { ok: false, errors: [`${opKey} is not in the spec`] };
  const declared = operation.responses[String(status)];
  let schema: Record<string, unknown> | undefined = declared?.schema;
  if (!declared && status >= 400) schema = { $ref: '#/definitions/codersdk.Response' };
  if (!declared && status < 400) return { ok: false, errors: [`${opKey} does not declare status ${status}`] };
  if (!schema) {
    const empty = body === undefined || body === '' || body === null;
    return empty ? { ok: true, errors: [] } : { ok: false, errors: [`${opKey} ${status} declares no body`] };
  }
  const nullsAllowed = findException(opKey, 'response-nulls') !== undefined;
  const validate = validatorFor(`response ${opKey} ${status}`, schema, true);
  const ok = validate(nullsAllowed ? withoutNulls(body) : body) as boolean;
  return { ok, errors: ok ? [] : describe(validate.errors) };
};

/** Validates a request body against the operation's body parameter (or a listed exception). */
export const validateRequestBody = (
  method: string,
  pathTemplate: string,
  body: unknown,
): ValidationResult => {
  const opKey = `${method.toUpperCase()} ${pathTemplate}`;
  const operation = spec.paths[pathTemplate]?.[method.toLowerCase()];
  if (!operation) return { ok: false, errors: [`${opKey} is not in the spec`] };
  const exception = findException(opKey, 'request-body-schema');
  const schema = exception?.schema ?? operation.parameters?.find((p) => p.in === 'body')?.schema;
  if (!schema) {
    return body === undefined
      ? { ok: true, errors: [] }
      : { ok: false, errors: [`${opKey} takes no body in the spec`] };
  }
  // Requests are checked against closed objects too: a field Coder doesn't know is a bug on our side.
  const validate = validatorFor(`request ${opKey}`, schema, true);
  const ok = validate(body) as boolean;
  return { ok, errors: ok ? [] : describe(validate.errors) };
};
