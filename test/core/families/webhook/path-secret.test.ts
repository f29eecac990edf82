import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchWebhookPath, secretMatches } from '../../../../lambdas/core/families/webhook/path-secret.js';

const SECRET = 'Zx8vQ2mN7pL4kR9tW3yB6cF1hJ5gD0sA';
const PREVIOUS = 'Pq1wE2rT3yU4iO5pA6sD7fG8hJ9kL0zX';

describe('matchWebhookPath', () => {
  it.each([
    [`/${SECRET}`, 'notification'],
    [`/${SECRET}/`, 'notification'],
    [`/${SECRET}/audit`, 'audit'],
    [`/${SECRET}/audit/`, 'audit'],
  ])('routes %s to %s', (path, route) => {
    expect(matchWebhookPath(path, [SECRET])).toEqual({ kind: 'route', route });
  });

  it('accepts the previous secret during a rotation', () => {
    expect(matchWebhookPath(`/${PREVIOUS}/audit`, [SECRET, PREVIOUS])).toEqual({
      kind: 'route',
      route: 'audit',
    });
  });

  it.each([
    '/',
    '',
    '/audit',
    `/${SECRET.slice(0, -1)}`,
    `/${SECRET}x`,
    `/${SECRET.toLowerCase()}`,
    `/x/${SECRET}`,
    `/${encodeURIComponent(' ')}${SECRET}`,
  ])('refuses %j', (path) => {
    expect(matchWebhookPath(path, [SECRET])).toEqual({ kind: 'unauthorized' });
  });

  it('answers not-found only to callers who know the secret', () => {
    expect(matchWebhookPath(`/${SECRET}/other`, [SECRET])).toEqual({ kind: 'not-found' });
    expect(matchWebhookPath('/wrong/other', [SECRET])).toEqual({ kind: 'unauthorized' });
  });

  it('refuses everything when no secret is configured', () => {
    expect(matchWebhookPath('/', [''])).toEqual({ kind: 'unauthorized' });
    expect(secretMatches('', [''])).toBe(false);
  });

  it('refuses every path whose first segment is not the secret', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 4 }), (segments) => {
        fc.pre(segments.find((s) => s !== '') !== SECRET);
        expect(matchWebhookPath(`/${segments.join('/')}`, [SECRET])).toEqual({ kind: 'unauthorized' });
      }),
    );
  });
});
