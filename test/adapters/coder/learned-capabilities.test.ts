import { describe, expect, it } from 'vitest';
import { CoderApiError } from '../../../lambdas/adapters/coder/errors.js';
import {
  LearnedCapabilities,
  type LearnedRefusal,
  refusesQueryParameter,
} from '../../../lambdas/adapters/coder/learned-capabilities.js';

const ROUTE = '/api/v2/organizations/{organization}/provisionerdaemons';
const answer = (status: number, coderMessage: string, fields: string[] = []) =>
  new CoderApiError('x', {
    method: 'GET',
    route: ROUTE,
    attempts: 1,
    kind: status === 400 ? 'validation' : 'server',
    status,
    coderMessage,
    validations: fields.map((field) => ({
      field,
      detail: `Query param "${field}" is not a valid query param`,
    })),
  });

describe('learning from Coder refusing a query parameter', () => {
  // coderd/httpapi/queryparams.go ErrorExcessParams: 400 "Invalid query parameters.", one validation per field.
  it.each([
    ['the field named', answer(400, 'Invalid query parameters.', ['offline']), true],
    ['among others', answer(400, 'Invalid query parameters.', ['status', 'offline']), true],
    ['no validations (a proxy rewrote the body)', answer(400, 'Invalid query parameters.'), true],
    ['another field only', answer(400, 'Invalid query parameters.', ['tags']), false],
    ['another 400', answer(400, 'Request body must be valid JSON.'), false],
    ['a 500 with the same message', answer(500, 'Invalid query parameters.'), false],
    ['not a Coder answer', new Error('Invalid query parameters.'), false],
  ])('%s: %s', (_what, error, refused) => {
    expect(refusesQueryParameter(error, 'offline')).toBe(refused);
  });

  it('tells its hook once per capability, and a throwing hook breaks nothing', () => {
    const told: LearnedRefusal[] = [];
    const learned = new LearnedCapabilities((refusal) => {
      told.push(refusal);
      throw new Error('hook failed');
    });
    const refusal: LearnedRefusal = {
      capability: 'provisionerDaemonsOfflineFilter',
      reported: 'v2.26.0',
      route: ROUTE,
      answer: '400',
    };

    learned.refuse(refusal);
    learned.refuse({ ...refusal, reported: 'again' });

    expect(told).toEqual([refusal]);
    expect(learned.refused('provisionerDaemonsOfflineFilter')).toBe(true);
    expect(learned.refused('paramSearch')).toBe(false);
    expect(learned.all()).toEqual([refusal]);
  });
});
