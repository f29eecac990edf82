/**
 * The client's hand-written response schemas against Coder's swagger definitions: every field a
 * schema declares must exist in its definition with a compatible type, recursively. Request
 * bodies are checked on the wire in the simulator contract test.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CODER_ROUTES } from '../../../lambdas/adapters/coder/client.js';
import { RESPONSE_SCHEMAS } from '../../../lambdas/adapters/coder/types.js';
import { operationExists, spec } from '../../support/swagger-contract.js';

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json =>
  value !== null && typeof value === 'object' ? (value as Json) : {};

/** Follows $ref and single-member allOf, Swagger's way of attaching a description to a ref. */
const resolveSwagger = (schema: Json): Json => {
  // A property's own enum (e.g. User.status) narrows the referenced enum definition.
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/definitions/', '');
    return resolveSwagger(asObject(spec.definitions[name]));
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1) {
    return { ...resolveSwagger(asObject(schema.allOf[0])), ...(schema.enum ? { enum: schema.enum } : {}) };
  }
  return schema;
};

/** zod's nullable becomes anyOf [X, {type: null}] or type [X, 'null']; Swagger 2.0 has no null, so drop it. */
const withoutNull = (schema: Json): Json => {
  if (Array.isArray(schema.type)) {
    const rest = schema.type.filter((t) => t !== 'null');
    if (rest.length === 1) return { ...schema, type: rest[0] };
  }
  if (Array.isArray(schema.anyOf)) {
    const rest = schema.anyOf.map(asObject).filter((s) => s.type !== 'null');
    if (rest.length === 1) return withoutNull(asObject(rest[0]));
  }
  return schema;
};

const compare = (ours: Json, theirs: Json, where: string, problems: string[]): void => {
  const mine = withoutNull(ours);
  const spec = resolveSwagger(theirs);
  if (mine.type === undefined) return; // z.unknown(): accepts whatever the spec says.
  const specType = spec.type ?? (spec.properties ? 'object' : undefined);
  switch (mine.type) {
    case 'string':
      if (specType !== 'string') problems.push(`${where}: we say string, spec says ${String(specType)}`);
      else if (Array.isArray(mine.enum) && Array.isArray(spec.enum)) {
        // We parse answers, so we must accept every value the spec allows; extra ones are harmless.
        for (const value of spec.enum)
          if (!mine.enum.includes(value))
            problems.push(`${where}: spec value ${String(value)} is rejected by us`);
      } else if (Array.isArray(mine.enum)) {
        problems.push(`${where}: we restrict to an enum, the spec allows any string`);
      }
      return;
    case 'integer':
      if (specType !== 'integer') problems.push(`${where}: we say integer, spec says ${String(specType)}`);
      return;
    case 'number':
      if (specType !== 'integer' && specType !== 'number')
        problems.push(`${where}: we say number, spec says ${String(specType)}`);
      return;
    case 'boolean':
      if (specType !== 'boolean') problems.push(`${where}: we say boolean, spec says ${String(specType)}`);
      return;
    case 'array':
      if (specType !== 'array') problems.push(`${where}: we say array, spec says ${String(specType)}`);
      else compare(asObject(mine.items), asObject(spec.items), `${where}[]`, problems);
      return;
    case 'object': {
      if (specType !== 'object') {
        problems.push(`${where}: we say object, spec says ${String(specType)}`);
        return;
      }
      const specProperties = asObject(spec.properties);
      for (const [name, property] of Object.entries(asObject(mine.properties))) {
        if (!(name in specProperties)) problems.push(`${where}.${name}: not in the spec`);
        else compare(asObject(property), asObject(specProperties[name]), `${where}.${name}`, problems);
      }
      // A record (map) of ours: the spec's value type, when it gives one, must be compatible.
      const ourValues = asObject(mine.additionalProperties);
      if (mine.properties === undefined && ourValues.type !== undefined && spec.additionalProperties) {
        compare(ourValues, asObject(spec.additionalProperties), `${where}{}`, problems);
      }
      return;
    }
    default:
      problems.push(`${where}: unhandled type ${String(mine.type)}`);
  }
};

describe('response schemas match swagger definitions', () => {
  it.each(Object.entries(RESPONSE_SCHEMAS))('%s', (definition, schema) => {
    expect(spec.definitions[definition], `${definition} exists`).toBeDefined();
    const ours = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Json;
    const problems: string[] = [];
    compare(ours, { $ref: `#/definitions/${definition}` }, definition, problems);
    expect(problems).toEqual([]);
  });

  it('catches a field the spec does not have, and a wrong type', () => {
    const wrong = z.looseObject({
      id: z.number(),
      invented: z.string(),
      latest_build: z.looseObject({ transition: z.enum(['start', 'stop']) }),
    });
    const problems: string[] = [];
    compare(z.toJSONSchema(wrong) as Json, { $ref: '#/definitions/codersdk.Workspace' }, 'W', problems);
    expect(problems).toEqual([
      'W.id: we say number, spec says string',
      'W.invented: not in the spec',
      'W.latest_build.transition: spec value delete is rejected by us',
    ]);
  });
});

describe('routes', () => {
  const used: [string, string][] = [
    ['GET', CODER_ROUTES.buildInfo],
    ['GET', CODER_ROUTES.user],
    ['GET', CODER_ROUTES.organizations],
    ['GET', CODER_ROUTES.organization],
    ['GET', CODER_ROUTES.workspaces],
    ['GET', CODER_ROUTES.workspace],
    ['GET', CODER_ROUTES.workspaceByOwnerAndName],
    ['POST', CODER_ROUTES.userWorkspaces],
    ['POST', CODER_ROUTES.workspaceBuilds],
    ['GET', CODER_ROUTES.buildParameters],
    ['GET', CODER_ROUTES.templates],
    ['GET', CODER_ROUTES.template],
    ['GET', CODER_ROUTES.organizationTemplates],
    ['GET', CODER_ROUTES.organizationTemplate],
    ['GET', CODER_ROUTES.richParameters],
    ['GET', CODER_ROUTES.provisionerKeys],
    ['POST', CODER_ROUTES.provisionerKeys],
    ['DELETE', CODER_ROUTES.provisionerKey],
    ['GET', CODER_ROUTES.provisionerKeyDaemons],
    ['GET', CODER_ROUTES.provisionerKeyDetails],
    ['GET', CODER_ROUTES.provisionerDaemons],
    ['GET', CODER_ROUTES.provisionerJobs],
    ['GET', CODER_ROUTES.templateVersion],
    ['GET', CODER_ROUTES.audit],
  ];

  it('every route template the client knows is used, and exists in the spec with that method', () => {
    expect(new Set(used.map(([, route]) => route))).toEqual(new Set(Object.values(CODER_ROUTES)));
    expect(used.filter(([method, route]) => !operationExists(method, route))).toEqual([]);
  });
});
