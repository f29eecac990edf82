import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type KeyRoles, type PrunePolicy, planKeyPrune } from '../../../lambdas/core/keys/planner.js';
import type { ProvisionerDaemonRecord, ProvisionerKeyRecord } from '../../../lambdas/core/keys/ports.js';

const NOW = new Date('2026-06-10T12:00:00Z');
const HOUR = 3_600_000;
const ago = (hours: number): Date => new Date(NOW.getTime() - hours * HOUR);
const key = (name: string): ProvisionerKeyRecord => ({
  id: `id-${name}`,
  name,
  createdAt: ago(24 * 40),
  tags: {},
});
const daemon = (
  name: string,
  keyName: string,
  lastSeenHoursAgo: number,
  connected: boolean,
): ProvisionerDaemonRecord => ({
  id: `d-${name}`,
  name,
  keyName,
  lastSeenAt: ago(lastSeenHoursAgo),
  connected,
});
const policy = (overrides: Partial<PrunePolicy> = {}): PrunePolicy => ({
  managedPrefix: 'cfc-rot',
  lastSeenGraceMs: 24 * HOUR,
  keepPrevious: false,
  ...overrides,
});
const roles = (overrides: Partial<KeyRoles> = {}): KeyRoles => ({
  current: { keyName: 'cfc-rot-new', createdAt: ago(48) },
  previous: 'cfc-rot-old',
  pending: [],
  ...overrides,
});

describe('planKeyPrune', () => {
  const cases: {
    name: string;
    keys: string[];
    daemons?: ProvisionerDaemonRecord[];
    roles?: Partial<KeyRoles>;
    policy?: Partial<PrunePolicy>;
    expected: Record<string, string>;
  }[] = [
    {
      name: 'keeps current, deletes an orphan from an abandoned rotation, keeps unmanaged keys',
      keys: ['cfc-rot-new', 'cfc-rot-orphan', 'team-a', 'CFC-ROT'],
      roles: { previous: undefined },
      expected: {
        'cfc-rot-new': 'keep:current',
        'cfc-rot-orphan': 'delete',
        'team-a': 'keep:unmanaged',
        'CFC-ROT': 'keep:unmanaged',
      },
    },
    {
      name: 'the previous key stays while a daemon is connected with it',
      keys: ['cfc-rot-new', 'cfc-rot-old'],
      daemons: [daemon('prov-1', 'cfc-rot-old', 0, true)],
      expected: { 'cfc-rot-new': 'keep:current', 'cfc-rot-old': 'keep:previous' },
    },
    {
      name: 'the previous key goes once nothing used it for the grace period since the rotation',
      keys: ['cfc-rot-new', 'cfc-rot-old'],
      daemons: [daemon('prov-1', 'cfc-rot-old', 30, false), daemon('prov-2', 'cfc-rot-new', 0, true)],
      expected: { 'cfc-rot-new': 'keep:current', 'cfc-rot-old': 'delete' },
    },
    {
      name: 'the previous key stays within the grace period after its last daemon left',
      keys: ['cfc-rot-new', 'cfc-rot-old'],
      daemons: [daemon('prov-1', 'cfc-rot-old', 3, false)],
      expected: { 'cfc-rot-new': 'keep:current', 'cfc-rot-old': 'keep:previous' },
    },
    {
      name: 'the previous key stays within the grace period after the rotation even if never used',
      keys: ['cfc-rot-new', 'cfc-rot-old'],
      roles: { current: { keyName: 'cfc-rot-new', createdAt: ago(2) } },
      expected: { 'cfc-rot-new': 'keep:current', 'cfc-rot-old': 'keep:previous' },
    },
    {
      name: 'finishSecret keeps the previous key however idle it is',
      keys: ['cfc-rot-new', 'cfc-rot-old', 'cfc-rot-older'],
      policy: { keepPrevious: true },
      expected: { 'cfc-rot-new': 'keep:current', 'cfc-rot-old': 'keep:previous', 'cfc-rot-older': 'delete' },
    },
    {
      name: 'a key of a rotation in progress is kept even before its version has a value',
      keys: ['cfc-rot-new', 'cfc-rot-old', 'cfc-rot-pending'],
      roles: { pending: ['cfc-rot-pending'] },
      policy: { keepPrevious: true },
      expected: {
        'cfc-rot-new': 'keep:current',
        'cfc-rot-old': 'keep:previous',
        'cfc-rot-pending': 'keep:pending',
      },
    },
    {
      name: 'an older managed key that a daemon still uses is kept',
      keys: ['cfc-rot-new', 'cfc-rot-old', 'cfc-rot-older'],
      daemons: [daemon('stuck', 'cfc-rot-older', 0, true)],
      policy: { keepPrevious: true },
      expected: {
        'cfc-rot-new': 'keep:current',
        'cfc-rot-old': 'keep:previous',
        'cfc-rot-older': 'keep:in_use',
      },
    },
    {
      name: 'an unmanaged previous key is never deleted (migrated from a hand-made key)',
      keys: ['cfc-rot-new', 'hand-made'],
      roles: { previous: 'hand-made' },
      expected: { 'cfc-rot-new': 'keep:current', 'hand-made': 'keep:unmanaged' },
    },
    {
      name: 'an unmanaged current key is kept',
      keys: ['hand-made', 'cfc-rot-x'],
      roles: { current: { keyName: 'hand-made', createdAt: ago(1) }, previous: undefined },
      expected: { 'hand-made': 'keep:current', 'cfc-rot-x': 'delete' },
    },
    {
      name: 'a key a daemon used within the grace stays though none is connected (its pool scaled to 0 for the night)',
      keys: ['cfc-rot-new', 'cfc-rot-other'],
      daemons: [daemon('night-0', 'cfc-rot-other', 10, false)],
      roles: { previous: undefined },
      expected: { 'cfc-rot-new': 'keep:current', 'cfc-rot-other': 'keep:in_use' },
    },
    {
      name: 'a key no daemon used within the grace goes',
      keys: ['cfc-rot-new', 'cfc-rot-other'],
      daemons: [daemon('gone-0', 'cfc-rot-other', 30, false)],
      roles: { previous: undefined },
      expected: { 'cfc-rot-new': 'keep:current', 'cfc-rot-other': 'delete' },
    },
    {
      name: 'at finishSecret a key any daemon was ever seen with waits for the daily check; a never-used orphan goes',
      keys: ['cfc-rot-new', 'cfc-rot-old', 'cfc-rot-seen', 'cfc-rot-orphan'],
      daemons: [daemon('old-0', 'cfc-rot-seen', 200, false)],
      policy: { keepPrevious: true, lastSeenGraceMs: Number.POSITIVE_INFINITY },
      expected: {
        'cfc-rot-new': 'keep:current',
        'cfc-rot-old': 'keep:previous',
        'cfc-rot-seen': 'keep:in_use',
        'cfc-rot-orphan': 'delete',
      },
    },
    {
      name: "with its own prefix, a deployment deletes its previous key from before the upgrade (legacy prefix), never another's",
      keys: ['cfc-0a1b2c3d-new', 'cfc-rot-old', 'cfc-rot-theirs', 'cfc-0a1b2c3d-orphan'],
      roles: { current: { keyName: 'cfc-0a1b2c3d-new', createdAt: ago(48) }, previous: 'cfc-rot-old' },
      policy: { managedPrefix: 'cfc-0a1b2c3d' },
      expected: {
        'cfc-0a1b2c3d-new': 'keep:current',
        'cfc-rot-old': 'delete',
        'cfc-rot-theirs': 'keep:unmanaged',
        'cfc-0a1b2c3d-orphan': 'delete',
      },
    },
    {
      name: 'names compare case-insensitively, as Coder does',
      keys: ['CFC-ROT-NEW', 'cfc-rot-Old'],
      daemons: [daemon('prov-1', 'cfc-rot-old', 0, true)],
      expected: { 'CFC-ROT-NEW': 'keep:current', 'cfc-rot-Old': 'keep:previous' },
    },
  ];

  it.each(cases)('$name', ({ keys, daemons = [], roles: r = {}, policy: p = {}, expected }) => {
    const actions = planKeyPrune(keys.map(key), daemons, roles(r), NOW, policy(p));

    const decided = Object.fromEntries(
      actions.map((a) => [a.keyName, a.kind === 'delete' ? 'delete' : `keep:${a.role}`]),
    );
    expect(decided).toEqual(expected);
    for (const action of actions) expect(action.reason.length).toBeGreaterThan(10);
  });

  it('explains a previous-key deletion with the idle time and the grace', () => {
    const [, old] = planKeyPrune([key('cfc-rot-new'), key('cfc-rot-old')], [], roles(), NOW, policy());
    expect(old).toEqual({
      kind: 'delete',
      keyName: 'cfc-rot-old',
      reason: 'it is the previous key and no daemon has used it for 48.0h (grace 24.0h)',
    });
  });

  describe('properties', () => {
    const names = fc.constantFrom(
      'cfc-rot-a',
      'cfc-rot-b',
      'cfc-rot-c',
      'cfc-rot-d',
      'CFC-ROT-E',
      'other-a',
      'cfc-rotx',
      'team-key',
      'user-auth',
    );
    const world = fc.record({
      keys: fc.uniqueArray(names, { minLength: 0, maxLength: 9, selector: (n) => n.toLowerCase() }),
      daemons: fc.array(
        fc.record({
          name: fc.string({ minLength: 1, maxLength: 5 }),
          keyName: names,
          lastSeenHoursAgo: fc.integer({ min: 0, max: 24 * 10 }),
          connected: fc.boolean(),
        }),
        { maxLength: 8 },
      ),
      current: fc.option(names, { nil: undefined }),
      currentAgeHours: fc.integer({ min: 0, max: 24 * 100 }),
      previous: fc.option(names, { nil: undefined }),
      pending: fc.array(names, { maxLength: 2 }),
      graceHours: fc.integer({ min: 0, max: 24 * 7 }),
      keepPrevious: fc.boolean(),
    });
    type World = typeof world extends fc.Arbitrary<infer T> ? T : never;
    const plan = (w: World) => {
      const daemons = w.daemons.map((d) => daemon(d.name, d.keyName, d.lastSeenHoursAgo, d.connected));
      const actions = planKeyPrune(
        w.keys.map(key),
        daemons,
        {
          current: w.current ? { keyName: w.current, createdAt: ago(w.currentAgeHours) } : undefined,
          previous: w.previous,
          pending: w.pending,
        },
        NOW,
        policy({ lastSeenGraceMs: w.graceHours * HOUR, keepPrevious: w.keepPrevious }),
      );
      return { actions, daemons, deleted: actions.filter((a) => a.kind === 'delete').map((a) => a.keyName) };
    };
    const lower = (s: string | undefined) => s?.toLowerCase();

    it('never deletes the current key', () => {
      fc.assert(
        fc.property(world, (w) => {
          expect(plan(w).deleted.map(lower)).not.toContain(lower(w.current));
        }),
      );
    });

    it('never deletes a key the controller did not create', () => {
      fc.assert(
        fc.property(world, (w) => {
          for (const name of plan(w).deleted) expect(name.toLowerCase().startsWith('cfc-rot-')).toBe(true);
        }),
      );
    });

    it('never deletes a key a daemon is connected with', () => {
      fc.assert(
        fc.property(world, (w) => {
          const { deleted, daemons } = plan(w);
          const inUse = new Set(daemons.filter((d) => d.connected).map((d) => lower(d.keyName)));
          for (const name of deleted) expect(inUse.has(name.toLowerCase())).toBe(false);
        }),
      );
    });

    it('never deletes a key a daemon used within the last-seen grace, connected or not', () => {
      fc.assert(
        fc.property(world, (w) => {
          const { deleted } = plan(w);
          for (const name of deleted) {
            for (const d of w.daemons.filter((d) => lower(d.keyName) === name.toLowerCase())) {
              expect(d.lastSeenHoursAgo).toBeGreaterThanOrEqual(w.graceHours);
            }
          }
        }),
      );
    });

    it('never deletes a pending key, nor the previous key at finishSecret', () => {
      fc.assert(
        fc.property(world, (w) => {
          const deleted = plan(w).deleted.map(lower);
          for (const p of w.pending) expect(deleted).not.toContain(lower(p));
          if (w.keepPrevious) expect(deleted).not.toContain(lower(w.previous));
        }),
      );
    });

    it('decides every listed key exactly once', () => {
      fc.assert(
        fc.property(world, (w) => {
          expect(plan(w).actions.map((a) => a.keyName)).toEqual(w.keys);
        }),
      );
    });
  });
});
