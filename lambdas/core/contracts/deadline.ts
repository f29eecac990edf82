/**
 * How long a run may still talk to remote systems. A Lambda builds it from
 * `context.getRemainingTimeInMillis()` minus a safety margin (lambdas/wiring/deadline.ts); the CLI and
 * the benchmark build one from a clock. Runs plan against it and stop cleanly before it, reporting
 * what is left (STYLE.md: "it never sleeps past the deadline").
 */
export interface Deadline {
  /** Milliseconds left; zero or less means the run must stop now. */
  remainingMs(): number;
}

/** What every Coder call of a run carries: the run's deadline, as a value (never a global). */
export interface RunCall {
  readonly deadline: Deadline;
}

/** No deadline: an operator's CLI run without `--deadline`, most tests. */
export const NO_DEADLINE: Deadline = { remainingMs: () => Number.POSITIVE_INFINITY };

/** A deadline at `atMs` on `now`'s clock (epoch ms). */
export const deadlineAt = (atMs: number, now: () => number): Deadline => ({
  remainingMs: () => atMs - now(),
});

/** The earlier of two deadlines. */
export const earlierOf = (a: Deadline, b: Deadline | undefined): Deadline =>
  b === undefined ? a : { remainingMs: () => Math.min(a.remainingMs(), b.remainingMs()) };

/**
 * Thrown when a step would need more time than is left: a clean stop, not a failure. Adapters throw
 * their own errors with `kind: 'deadline'` (e.g. CoderDeadlineError); `isDeadlineStop` accepts both.
 */
export class DeadlineReachedError extends Error {
  override readonly name = 'DeadlineReachedError';
  readonly kind = 'deadline' as const;
}

/** True for any error that means "the run is out of time", whichever layer threw it. */
export const isDeadlineStop = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'kind' in error && error.kind === 'deadline';
