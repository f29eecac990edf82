import { describe, expect, it } from 'vitest';
import {
  guardDestructive,
  presenceOf,
  presentWorkspace,
  unconfirmedAbsence,
} from '../../../lambdas/core/families/absence.js';
import { ACTION_KIND_NAMES, isDestructive } from '../../../lambdas/core/families/action-kinds.js';
import {
  type FamiliesSnapshot,
  familyKey,
  type PlannedAction,
  refKey,
  type WorkspaceRead,
  type WorkspaceRef,
} from '../../../lambdas/core/families/model.js';
import { indexSnapshot } from '../../../lambdas/core/families/snapshot-index.js';
import { config, snapshot, workspace } from './fixtures.js';

const family = familyKey('alice', 'team');

/** An index over `listed` with the reads given, as the planner builds it. */
const indexOf = (
  listed: Parameters<typeof snapshot>[0],
  reads: Array<[WorkspaceRef, WorkspaceRead]> = [],
  view: FamiliesSnapshot['view'] = 'complete',
) =>
  indexSnapshot(
    { ...snapshot(listed, []), view, reads: new Map(reads.map(([ref, read]) => [refKey(ref), read])) },
    config(),
  );

describe('presenceOf', () => {
  const listed = workspace('Team-1', { ownerName: 'Alice' });
  const elsewhere = workspace('team-2');

  it.each([
    {
      name: 'listed, by id',
      ref: { id: listed.id },
      reads: [],
      expected: { kind: 'listed', workspace: listed },
    },
    {
      name: 'listed, by owner and name in another case',
      ref: { owner: 'ALICE', name: 'team-1' },
      reads: [],
      expected: { kind: 'listed', workspace: listed },
    },
    {
      name: 'not listed, read by id and present',
      ref: { id: elsewhere.id },
      reads: [[{ id: elsewhere.id }, { state: 'present', workspace: elsewhere }]],
      expected: { kind: 'read', workspace: elsewhere },
    },
    {
      name: 'not listed, read by name (in another case) and present',
      ref: { owner: 'alice', name: 'team-2' },
      reads: [
        [
          { owner: 'Alice', name: 'TEAM-2' },
          { state: 'present', workspace: elsewhere },
        ],
      ],
      expected: { kind: 'read', workspace: elsewhere },
    },
    {
      name: 'read by id: deleted',
      ref: { id: elsewhere.id },
      reads: [[{ id: elsewhere.id }, { state: 'deleted', workspace: elsewhere }]],
      expected: { kind: 'gone' },
    },
    {
      name: 'read by name: vanished',
      ref: { owner: 'alice', name: 'team-2' },
      reads: [[{ owner: 'alice', name: 'team-2' }, { state: 'vanished' }]],
      expected: { kind: 'gone' },
    },
    {
      name: 'read by id: unreadable',
      ref: { id: elsewhere.id },
      reads: [[{ id: elsewhere.id }, { state: 'unreadable', error: 'Coder answered 503' }]],
      expected: { kind: 'unconfirmed', ref: { id: elsewhere.id }, readFailed: 'Coder answered 503' },
    },
    {
      name: 'not listed and not read, by id',
      ref: { id: elsewhere.id },
      reads: [],
      expected: { kind: 'unconfirmed', ref: { id: elsewhere.id }, readFailed: undefined },
    },
    {
      name: 'not listed and not read, by name',
      ref: { owner: 'alice', name: 'team-2' },
      reads: [],
      expected: { kind: 'unconfirmed', ref: { owner: 'alice', name: 'team-2' }, readFailed: undefined },
    },
    {
      name: 'read by name only: a ref by id is still unconfirmed (reads are keyed by how they were asked)',
      ref: { id: elsewhere.id },
      reads: [[{ owner: 'alice', name: 'team-2' }, { state: 'vanished' }]],
      expected: { kind: 'unconfirmed', ref: { id: elsewhere.id }, readFailed: undefined },
    },
  ] as Array<{
    name: string;
    ref: WorkspaceRef;
    reads: Array<[WorkspaceRef, WorkspaceRead]>;
    expected: unknown;
  }>)('$name', ({ ref, reads, expected }) => {
    // Prepare
    const index = indexOf([listed], reads);

    // Act
    const presence = presenceOf(index, ref);

    // Assess
    expect(presence).toEqual(expected);
  });

  it('trusts the list over a read: a listed workspace is listed whatever a read said', () => {
    const index = indexOf([listed], [[{ id: listed.id }, { state: 'deleted', workspace: listed }]]);

    expect(presenceOf(index, { id: listed.id })).toEqual({ kind: 'listed', workspace: listed });
  });

  it('gives the workspace of a listed or read presence only', () => {
    const index = indexOf(
      [listed],
      [
        [{ id: elsewhere.id }, { state: 'present', workspace: elsewhere }],
        [{ id: 'gone' }, { state: 'vanished' }],
      ],
    );

    expect(presentWorkspace(presenceOf(index, { id: listed.id }))).toBe(listed);
    expect(presentWorkspace(presenceOf(index, { id: elsewhere.id }))).toBe(elsewhere);
    expect(presentWorkspace(presenceOf(index, { id: 'gone' }))).toBeUndefined();
    expect(presentWorkspace(presenceOf(index, { id: 'never-read' }))).toBeUndefined();
  });
});

/** One action of each kind that the guard may see, with a child where the kind has one. */
const sample = (kind: PlannedAction['kind']): PlannedAction => {
  const child = { index: 3, childName: 'team-3' };
  switch (kind) {
    case 'stop-child':
      return { kind, family, ...child, childId: 'c3', removal: true, reason: 'count is now 2' };
    case 'delete-child':
    case 'release-child':
    case 'start-child':
    case 'adopt-child':
    case 'keep-child':
    case 'child-busy':
      return { kind, family, ...child, childId: 'c3', reason: 'count is now 2' };
    case 'forget-child':
      return { kind, family, ...child, reason: 'count is now 2' };
    case 'record-parent-missing':
      return { kind, family, since: 5, reason: 'parent is gone' };
    case 'create-child':
      return {
        kind,
        family,
        ...child,
        ownerName: 'alice',
        organizationId: 'org',
        templateId: 'tpl',
        parentId: 'p',
        parameters: [],
        reason: 'missing',
      };
    case 'clear-parent-missing':
    case 'clear-failures':
      return { kind, family, reason: 'r' };
    case 'report-conflict':
    case 'ownership-undecided':
      return { kind, family, ...child, holderId: 'h', reason: 'r' };
    case 'backoff-skip':
    case 'grace-wait':
      return { kind, family, until: 9, reason: 'r' };
    case 'hard-limit-skip':
      return { kind, family, failures: 3, reason: 'r' };
    case 'count-clamped':
      return { kind, family, requested: 30, max: 20, reason: 'r' };
    case 'removal-deferred':
      return { kind, family, deferred: 'delete-child', cause: 'unconfirmed', reason: 'r' };
  }
};

const DESTRUCTIVE = ACTION_KIND_NAMES.filter(isDestructive);
const OTHERS = ACTION_KIND_NAMES.filter((k) => !isDestructive(k));

describe('guardDestructive', () => {
  it.each(ACTION_KIND_NAMES)('admits %s on a complete view, unchanged', (kind) => {
    const action = sample(kind);

    const guarded = guardDestructive({ view: 'complete' }, action);

    expect(guarded).toBe(action);
  });

  it.each(DESTRUCTIVE)('defers %s on a partial view, keeping its family, child and reason', (kind) => {
    // Prepare
    const action = sample(kind);

    // Act
    const guarded = guardDestructive({ view: 'partial' }, action);

    // Assess
    expect(guarded).toMatchObject({
      kind: 'removal-deferred',
      family,
      deferred: kind,
      cause: 'partial-view',
    });
    if ('index' in action) expect(guarded).toMatchObject({ index: 3, childName: 'team-3' });
    else expect(guarded).not.toHaveProperty('index');
    expect(guarded.reason).toContain(action.reason);
    expect(guarded.reason).toMatch(/partial/);
  });

  it.each(OTHERS)('lets %s through on a partial view: a partial view may create, never remove', (kind) => {
    const action = sample(kind);

    expect(guardDestructive({ view: 'partial' }, action)).toBe(action);
  });
});

describe('unconfirmedAbsence', () => {
  it('defers the decision with cause "unconfirmed", naming the failed read and the child', () => {
    const presence = { kind: 'unconfirmed', ref: { id: 'c3' }, readFailed: 'Coder answered 503' } as const;

    const action = unconfirmedAbsence(family, 'forget-child', presence, 'recorded child team-3', {
      index: 3,
      childName: 'team-3',
    });

    expect(action).toMatchObject({
      kind: 'removal-deferred',
      family,
      deferred: 'forget-child',
      cause: 'unconfirmed',
      index: 3,
      childName: 'team-3',
    });
    expect(action.reason).toContain('recorded child team-3');
    expect(action.reason).toContain('Coder answered 503');
  });

  it('carries no child for a family-level decision', () => {
    const presence = { kind: 'unconfirmed', ref: { id: 'p' }, readFailed: 'timeout' } as const;

    const action = unconfirmedAbsence(family, 'record-parent-missing', presence, 'parent team');

    expect(action).toMatchObject({ deferred: 'record-parent-missing', cause: 'unconfirmed' });
    expect(action).not.toHaveProperty('index');
  });
});
