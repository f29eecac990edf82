/**
 * Every action kind and what it is, in one table (as cdk-nag's rule packs are tables): which phase
 * runs it, whether it changes Coder or the ledger, and whether it is destructive. Every grouping the
 * engine uses is derived from here, so a new kind is one row; a row with a field missing does not
 * compile, and test/core/families/action-kinds.test.ts checks every kind has one.
 */
import type { ActionKind, PlannedAction } from './model.js';

export interface ActionKindTraits {
  /**
   * `ledger`: bookkeeping, run first and in plan order so Coder work sees an up-to-date ledger;
   * `coder`: a Coder mutation, run in parallel under the run's concurrency bound;
   * `report`: nothing is changed, the action is only reported.
   */
  readonly phase: 'ledger' | 'coder' | 'report';
  /** Changes Coder or the ledger. A family whose plan has none is not locked at all. */
  readonly mutates: boolean;
  /** Writes the ownership ledger (before, or as part of, any Coder call it makes). */
  readonly ledger: boolean;
  /**
   * Removes, stops or forgets something. Planned only on a complete view, and only when every
   * absence it rests on was confirmed by reading the workspace itself (absence.ts).
   */
  readonly destructive: boolean;
  /** Counted in the report's `removed` when done (children removed because N shrank or the parent went). */
  readonly removal: 'always' | 'when-policy' | 'never';
}

const report: ActionKindTraits = {
  phase: 'report',
  mutates: false,
  ledger: false,
  destructive: false,
  removal: 'never',
};

export const ACTION_KINDS = {
  'create-child': { phase: 'coder', mutates: true, ledger: true, destructive: false, removal: 'never' },
  'start-child': { phase: 'coder', mutates: true, ledger: false, destructive: false, removal: 'never' },
  'stop-child': { phase: 'coder', mutates: true, ledger: false, destructive: true, removal: 'when-policy' },
  'delete-child': { phase: 'coder', mutates: true, ledger: false, destructive: true, removal: 'always' },
  'adopt-child': { phase: 'ledger', mutates: true, ledger: true, destructive: false, removal: 'never' },
  'forget-child': { phase: 'ledger', mutates: true, ledger: true, destructive: true, removal: 'never' },
  'release-child': { phase: 'ledger', mutates: true, ledger: true, destructive: true, removal: 'always' },
  'record-parent-missing': {
    phase: 'ledger',
    mutates: true,
    ledger: true,
    destructive: true,
    removal: 'never',
  },
  'clear-parent-missing': {
    phase: 'ledger',
    mutates: true,
    ledger: true,
    destructive: false,
    removal: 'never',
  },
  'clear-failures': { phase: 'ledger', mutates: true, ledger: true, destructive: false, removal: 'never' },
  'report-conflict': report,
  'backoff-skip': report,
  'hard-limit-skip': report,
  'grace-wait': report,
  'child-busy': report,
  'count-clamped': report,
  'keep-child': report,
  'ownership-undecided': report,
  'removal-deferred': report,
} as const satisfies Record<ActionKind, ActionKindTraits>;

/** The kinds whose row says `destructive: true`. */
export type DestructiveKind = {
  [K in keyof typeof ACTION_KINDS]: (typeof ACTION_KINDS)[K]['destructive'] extends true ? K : never;
}[keyof typeof ACTION_KINDS];

export const ACTION_KIND_NAMES = Object.keys(ACTION_KINDS) as ActionKind[];

export const traitsOf = (kind: ActionKind): ActionKindTraits => ACTION_KINDS[kind];

/** Changes Coder or the ledger; everything else is a report. */
export const isMutation = (action: Pick<PlannedAction, 'kind'>): boolean => ACTION_KINDS[action.kind].mutates;

export const isDestructive = (kind: ActionKind): kind is DestructiveKind => ACTION_KINDS[kind].destructive;

/** A child removed because its family no longer wants it (a `stop-child` counts only as the removal policy). */
export const isRemoval = (action: PlannedAction): boolean => {
  const removal = ACTION_KINDS[action.kind].removal;
  return (
    removal === 'always' || (removal === 'when-policy' && action.kind === 'stop-child' && action.removal)
  );
};
