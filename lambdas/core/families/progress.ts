/**
 * What a reconcile tells its caller while it runs, as typed events: the CLI draws its meters and
 * progress lines from these (cli/families-progress.ts), never from log text.
 */
import type { FamilyKey } from './model.js';
import type { ReportedAction } from './record.js';

export type FamilyProgress =
  /** The snapshot is read: this many families to look at, from this many workspaces. */
  | { readonly kind: 'snapshot-read'; readonly families: number; readonly workspaces: number }
  /** Parameter reads of this run: `done` of `total` builds read from Coder (cache misses only). */
  | { readonly kind: 'parameters-read'; readonly done: number; readonly total: number }
  /** Families whose plans change something; the first lock follows. */
  | { readonly kind: 'changes-planned'; readonly families: number; readonly actions: number }
  /** One action's outcome, the moment it is known. */
  | { readonly kind: 'action-settled'; readonly family: FamilyKey; readonly action: ReportedAction };

export type FamilyProgressSink = (event: FamilyProgress) => void;

/** For callers that show no progress (the Lambdas). */
export const ignoreProgress: FamilyProgressSink = () => {};
