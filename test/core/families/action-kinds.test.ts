import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ACTION_KIND_NAMES,
  ACTION_KINDS,
  type ActionKindTraits,
  type DestructiveKind,
  isDestructive,
  isMutation,
  isRemoval,
  traitsOf,
} from '../../../lambdas/core/families/action-kinds.js';
import { type ActionKind, familyKey, type PlannedAction } from '../../../lambdas/core/families/model.js';

const family = familyKey('alice', 'team');
const child = { index: 2, childName: 'team-2' };

/**
 * One action of every kind. Typed as a record over `ActionKind`, so a kind added to the union
 * without a sample here does not compile.
 */
const SAMPLES: { [K in ActionKind]: Extract<PlannedAction, { kind: K }> } = {
  'create-child': {
    kind: 'create-child',
    family,
    ...child,
    ownerName: 'alice',
    organizationId: 'org',
    templateId: 'tpl',
    parentId: 'p',
    parameters: [],
    reason: 'r',
  },
  'adopt-child': { kind: 'adopt-child', family, ...child, childId: 'c', reason: 'r' },
  'delete-child': { kind: 'delete-child', family, ...child, childId: 'c', reason: 'r' },
  'stop-child': { kind: 'stop-child', family, ...child, childId: 'c', removal: true, reason: 'r' },
  'start-child': { kind: 'start-child', family, ...child, childId: 'c', reason: 'r' },
  'forget-child': { kind: 'forget-child', family, ...child, childId: 'c', reason: 'r' },
  'release-child': { kind: 'release-child', family, ...child, childId: 'c', reason: 'r' },
  'record-parent-missing': { kind: 'record-parent-missing', family, since: 1, reason: 'r' },
  'clear-parent-missing': { kind: 'clear-parent-missing', family, reason: 'r' },
  'clear-failures': { kind: 'clear-failures', family, reason: 'r' },
  'report-conflict': { kind: 'report-conflict', family, ...child, holderId: 'h', reason: 'r' },
  'backoff-skip': { kind: 'backoff-skip', family, until: 1, reason: 'r' },
  'hard-limit-skip': { kind: 'hard-limit-skip', family, failures: 3, reason: 'r' },
  'grace-wait': { kind: 'grace-wait', family, until: 1, reason: 'r' },
  'child-busy': { kind: 'child-busy', family, ...child, childId: 'c', reason: 'r' },
  'count-clamped': { kind: 'count-clamped', family, requested: 30, max: 20, reason: 'r' },
  'keep-child': { kind: 'keep-child', family, ...child, childId: 'c', reason: 'r' },
  'ownership-undecided': { kind: 'ownership-undecided', family, ...child, holderId: 'h', reason: 'r' },
  'removal-deferred': {
    kind: 'removal-deferred',
    family,
    deferred: 'delete-child',
    cause: 'partial-view',
    reason: 'r',
  },
};
const EVERY_KIND = Object.keys(SAMPLES) as ActionKind[];

describe('the table of action kinds', () => {
  it('has a row for every kind of the PlannedAction union, and no other', () => {
    // Prepare: the kinds the union has, as a type and (through SAMPLES) at runtime.
    type Missing = Exclude<ActionKind, keyof typeof ACTION_KINDS>;
    type Extra = Exclude<keyof typeof ACTION_KINDS, ActionKind>;

    // Assess
    expectTypeOf<Missing>().toEqualTypeOf<never>();
    expectTypeOf<Extra>().toEqualTypeOf<never>();
    expect([...ACTION_KIND_NAMES].sort()).toEqual([...EVERY_KIND].sort());
  });

  it.each(EVERY_KIND)('%s has every trait, each with a value the engine knows', (kind) => {
    const traits: ActionKindTraits = traitsOf(kind);

    expect(traits).toBe(ACTION_KINDS[kind]);
    expect(Object.keys(traits).sort()).toEqual(['destructive', 'ledger', 'mutates', 'phase', 'removal']);
    expect(['ledger', 'coder', 'report']).toContain(traits.phase);
    expect(typeof traits.mutates).toBe('boolean');
    expect(typeof traits.ledger).toBe('boolean');
    expect(typeof traits.destructive).toBe('boolean');
    expect(['always', 'when-policy', 'never']).toContain(traits.removal);
  });

  it.each(EVERY_KIND)('%s: its traits are consistent with each other', (kind) => {
    const { phase, mutates, ledger, destructive, removal } = ACTION_KINDS[kind];

    // Destructive ⇒ mutates: a report never removes anything, so nothing destructive is unlocked.
    if (destructive) expect(mutates).toBe(true);
    // A report changes nothing; anything else changes Coder or the ledger (and takes the lock).
    expect(mutates).toBe(phase !== 'report');
    // The ledger phase only ever writes the ledger; writing it means mutating.
    if (phase === 'ledger') expect(ledger).toBe(true);
    if (ledger) expect(mutates).toBe(true);
    // A removal is destructive, so the partial-view rule guards every removal.
    if (removal !== 'never') expect(destructive).toBe(true);
  });

  it('names exactly the kinds the partial-view rule guards as destructive', () => {
    const destructive = EVERY_KIND.filter((k) => ACTION_KINDS[k].destructive).sort();

    expect(destructive).toEqual([
      'delete-child',
      'forget-child',
      'record-parent-missing',
      'release-child',
      'stop-child',
    ]);
    expectTypeOf<DestructiveKind>().toEqualTypeOf<
      'delete-child' | 'forget-child' | 'record-parent-missing' | 'release-child' | 'stop-child'
    >();
  });
});

describe('the groupings derived from the table', () => {
  it.each(EVERY_KIND)('%s: isMutation and isDestructive read its row', (kind) => {
    expect(isMutation(SAMPLES[kind])).toBe(ACTION_KINDS[kind].mutates);
    expect(isMutation({ kind })).toBe(ACTION_KINDS[kind].mutates);
    expect(isDestructive(kind)).toBe(ACTION_KINDS[kind].destructive);
  });

  it.each(EVERY_KIND)('%s: isRemoval follows its removal trait', (kind) => {
    const removal = ACTION_KINDS[kind].removal;

    const counted = isRemoval(SAMPLES[kind]);

    expect(counted).toBe(removal === 'always' || removal === 'when-policy');
  });

  it('counts a stop as a removal only when stopping is the removal policy, not when following the parent', () => {
    const policyStop: PlannedAction = { ...SAMPLES['stop-child'], removal: true };
    const powerStop: PlannedAction = { ...SAMPLES['stop-child'], removal: false };

    expect(isRemoval(policyStop)).toBe(true);
    expect(isRemoval(powerStop)).toBe(false);
  });
});
