import { describe, expect, it } from 'vitest';
import {
  type ApiErrorFacts,
  CoderApiError,
  CoderTimeoutError,
  classifyStatus,
  describeApiError,
  isCoderErrorKind,
  redact,
} from '../../../lambdas/adapters/coder/errors.js';

describe('classifyStatus', () => {
  it.each([
    [409, true, 'Workspace "a" already exists.', undefined, 'already_exists'],
    [409, false, 'Workspace "a" already exists.', undefined, 'conflict'],
    [409, false, 'A workspace build is already active.', undefined, 'build_active'],
    [409, true, 'A workspace build is already active.', undefined, 'build_active'],
    [409, false, 'Cannot start a deleted workspace!', undefined, 'conflict'],
    [
      500,
      true,
      'Internal error creating workspace.',
      'insert workspace: pq: duplicate key value violates unique constraint "workspaces_owner_id_lower_idx"',
      'already_exists',
    ],
    [500, true, 'Internal error.', 'ERROR: unique_violation (SQLSTATE 23505)', 'already_exists'],
    [500, false, 'Internal error.', 'duplicate key value violates unique constraint', 'server'],
    [500, true, 'Internal error.', 'connection reset', 'server'],
    [502, false, undefined, undefined, 'server'],
    [400, true, 'Validation failed.', undefined, 'validation'],
    [401, false, 'You are signed out or your session has expired.', undefined, 'unauthorized'],
    [403, false, 'Forbidden.', undefined, 'forbidden'],
    [404, false, 'Resource not found or you do not have access to this resource', undefined, 'not_found'],
    [410, false, 'Workspace was deleted', undefined, 'gone'],
    [429, true, "You've been rate limited", undefined, 'rate_limited'],
    [412, false, undefined, undefined, 'unexpected_status'],
  ] as const)('%d (create: %s) %j -> %s', (status, isCreate, coderMessage, detail, kind) => {
    expect(classifyStatus({ status, isCreate, coderMessage, detail })).toBe(kind);
  });
});

describe('describeApiError', () => {
  const base: ApiErrorFacts = {
    kind: 'validation',
    status: 400,
    method: 'POST',
    route: '/api/v2/organizations/{organization}/members/{user}/workspaces',
    attempts: 1,
    isCreate: true,
    coderMessage: 'Validation failed.',
    validations: [
      { field: 'name', detail: 'Validation failed for tag "workspace_name" with value: "Bad_Name"' },
    ],
  };

  it('names the rejected input and the field problem', () => {
    expect(describeApiError(base, { subject: 'workspace name "Bad_Name"' })).toBe(
      'Coder rejected workspace name "Bad_Name": name: Validation failed for tag "workspace_name" with value: "Bad_Name" (400 Validation failed.); fix the input and retry',
    );
  });

  it('uses the caller wording for 404 and tells what to check on 401', () => {
    expect(
      describeApiError(
        { ...base, kind: 'not_found', status: 404, coderMessage: 'Resource not found', validations: [] },
        { notFound: 'template "x" not found in organization "coder"' },
      ),
    ).toBe('template "x" not found in organization "coder" (404 Resource not found)');
    expect(
      describeApiError(
        { ...base, kind: 'unauthorized', status: 401, method: 'GET', route: '/api/v2/users/{user}' },
        {},
      ),
    ).toBe(
      'Coder answered 401 to GET /api/v2/users/{user}: the session token is missing or expired; check the token secret',
    );
  });

  it('warns that a failed create may have happened', () => {
    const message = describeApiError(
      { ...base, kind: 'server', status: 500, coderMessage: 'Internal error.' },
      {},
    );
    expect(message).toMatch(/may still have taken effect, so read back/);
  });
});

describe('helpers', () => {
  it('redacts every occurrence of every secret', () => {
    expect(redact('a SECRET b SECRET c other', ['SECRET', 'other', ''])).toBe(
      'a [redacted] b [redacted] c [redacted]',
    );
  });

  it('isCoderErrorKind narrows by kind across error classes', () => {
    const conflict = new CoderApiError('x', {
      kind: 'already_exists',
      status: 409,
      method: 'POST',
      route: '/r',
      attempts: 1,
    });
    const timeout = new CoderTimeoutError('t', { method: 'GET', route: '/r', attempts: 2, timeoutMs: 5 });
    expect(isCoderErrorKind(conflict, 'already_exists')).toBe(true);
    expect(isCoderErrorKind(conflict, 'gone', 'not_found')).toBe(false);
    expect(isCoderErrorKind(timeout, 'timeout', 'network')).toBe(true);
    expect(isCoderErrorKind(new Error('x'), 'timeout')).toBe(false);
  });
});
