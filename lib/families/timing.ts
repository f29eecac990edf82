/**
 * The families schedule's timing rules that need no CDK: shared by the construct's validation and
 * the controller's config validation (lib/config.ts), which knows the schedule only by default.
 */

/** How often the scheduled full reconcile runs unless the construct is given `scheduleRate`. */
export const DEFAULT_RECONCILE_RATE_MINUTES = 5;

/**
 * The reconcile function's memory: a cold run at 30,000 workspaces peaks near 400 MiB (benchmark
 * scenario 8), and Lambda's CPU grows with memory, which shortens the full listing too.
 */
export const RECONCILE_MEMORY_MB = 1024;

/**
 * Why `gracePeriodMs` is too short for a deployed stack, or undefined. A grace shorter than one
 * reconcile interval lets a single run's view of a missing parent remove its children: the next
 * run, which might see the parent again (a list that moved while it was read, a parent being
 * rebuilt), never gets a say. The engine itself takes any grace (tests and ad-hoc runs use 0).
 */
export const gracePeriodProblem = (
  gracePeriodMs: number,
  scheduleRateSeconds: number,
): string | undefined => {
  const intervalMs = scheduleRateSeconds * 1000;
  if (gracePeriodMs >= intervalMs) return undefined;
  return (
    `${gracePeriodMs} ms is shorter than one reconcile interval (${intervalMs} ms: the schedule runs every ` +
    `${scheduleRateSeconds / 60} minutes); a parent must be missing from two runs before its children are removed`
  );
};
