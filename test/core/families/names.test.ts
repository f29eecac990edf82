import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { childWorkspaceName, isValidWorkspaceName } from '../../../lambdas/core/families/names.js';

const alnum = fc.stringMatching(/^[a-zA-Z0-9]{1,12}$/);
/** Any valid Coder workspace name. */
const validName = fc
  .array(alnum, { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join('-'))
  .filter(isValidWorkspaceName);

describe('child workspace names', () => {
  it.each([
    ['team', 2, 'team-2'],
    ['my-team', 10, 'my-team-10'],
    ['a'.repeat(30), 1, 'a'.repeat(30).concat('-1')],
  ])('%s child %i is %s', (parent, index, expected) => {
    expect(childWorkspaceName(parent, index)).toBe(expected);
  });

  it('shortens a long parent name deterministically with a hash', () => {
    const parent = 'a-very-long-workspace-name-for-ai';
    const name = childWorkspaceName(parent, 12);
    expect(name).toMatch(/^a-very-long-workspace-[0-9a-f]{6}-12$/);
    expect(name.length).toBeLessThanOrEqual(32);
    expect(childWorkspaceName(parent, 12)).toBe(name);
  });

  it('is always a valid Coder name, for any valid parent and index up to 100', () => {
    fc.assert(
      fc.property(validName, fc.integer({ min: 1, max: 100 }), (parent, index) => {
        const name = childWorkspaceName(parent, index);
        expect(isValidWorkspaceName(name)).toBe(true);
        expect(name.toLowerCase().endsWith(`-${index}`)).toBe(true);
      }),
    );
  });

  it('gives distinct names to distinct indices and to long parents that share a prefix', () => {
    fc.assert(
      fc.property(
        validName,
        validName,
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        (a, b, i, j) => {
          if (i !== j) expect(childWorkspaceName(a, i)).not.toBe(childWorkspaceName(a, j));
          const long = (s: string) => `${'x'.repeat(25)}-${s}`.slice(0, 32).replace(/-+$/, '');
          const la = long(a);
          const lb = long(b);
          if (isValidWorkspaceName(la) && isValidWorkspaceName(lb) && la.toLowerCase() !== lb.toLowerCase()) {
            expect(childWorkspaceName(la, i).toLowerCase()).not.toBe(childWorkspaceName(lb, i).toLowerCase());
          }
        },
      ),
    );
  });

  it('rejects an index below 1', () => {
    expect(() => childWorkspaceName('team', 0)).toThrow(RangeError);
  });

  it.each(['new', 'create', '-a', 'a-', 'a--b', 'a_b', '', 'x'.repeat(33)])(
    '"%s" is not a valid name',
    (name) => {
      expect(isValidWorkspaceName(name)).toBe(false);
    },
  );
});
