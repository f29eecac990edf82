import { describe, expect, it } from 'vitest';
import { matchOperation, validateRequestBody, validateResponse } from './swagger-contract.js';

// The checker itself is tested so that a passing contract test means something.
describe('swagger contract checker', () => {
  it('matches concrete paths to templates, preferring literal segments', () => {
    expect(matchOperation('GET', '/api/v2/organizations/default/provisionerkeys/daemons')?.pathTemplate).toBe(
      '/api/v2/organizations/{organization}/provisionerkeys/daemons',
    );
    expect(matchOperation('DELETE', '/api/v2/organizations/default/provisionerkeys/abc')?.pathTemplate).toBe(
      '/api/v2/organizations/{organization}/provisionerkeys/{provisionerkey}',
    );
    expect(matchOperation('GET', '/api/v2/workspaces?q=owner:me')?.pathTemplate).toBe('/api/v2/workspaces');
    expect(matchOperation('PATCH', '/api/v2/buildinfo')).toBeUndefined();
    expect(matchOperation('GET', '/api/v2/no-such-route')).toBeUndefined();
  });

  it('rejects a response with a misspelt field and accepts nulls Coder really sends', () => {
    const good = { workspaces: [], count: 0 };
    expect(validateResponse('GET', '/api/v2/workspaces', 200, good)).toEqual({ ok: true, errors: [] });
    const bad = validateResponse('GET', '/api/v2/workspaces', 200, { workspaces: [], count: '0', totl: 1 });
    expect(bad.ok).toBe(false);
    expect(bad.errors.join('\n')).toMatch(/count/);
    expect(bad.errors.join('\n')).toMatch(/totl/);
    const org = {
      id: '8f0b6b0e-9f54-4f4a-8d43-0f4b1d1f2a3c',
      name: 'coder',
      is_default: true,
      icon: null,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    };
    expect(validateResponse('GET', '/api/v2/organizations/{organization}', 200, org).ok).toBe(true);
  });

  it('checks error bodies against codersdk.Response', () => {
    expect(validateResponse('GET', '/api/v2/workspaces', 404, { message: 'Resource not found' }).ok).toBe(
      true,
    );
    expect(validateResponse('GET', '/api/v2/workspaces', 500, { msg: 'x' }).ok).toBe(false);
  });

  it('validates request bodies, including the documented exception for provisioner keys', () => {
    const create = {
      name: 'ws-1',
      template_id: '8f0b6b0e-9f54-4f4a-8d43-0f4b1d1f2a3c',
      rich_parameter_values: [{ name: 'a', value: '1' }],
    };
    expect(
      validateRequestBody('POST', '/api/v2/organizations/{organization}/members/{user}/workspaces', create)
        .ok,
    ).toBe(true);
    expect(
      validateRequestBody('POST', '/api/v2/organizations/{organization}/members/{user}/workspaces', {
        ...create,
        nmae: 'x',
      }).ok,
    ).toBe(false);
    expect(
      validateRequestBody('POST', '/api/v2/organizations/{organization}/provisionerkeys', {
        name: 'k',
        tags: { a: 'b' },
      }).ok,
    ).toBe(true);
    expect(
      validateRequestBody('POST', '/api/v2/organizations/{organization}/provisionerkeys', { tags: {} }).ok,
    ).toBe(false);
  });
});
