/** Why a family work message goes back to the queue. */
export type RedeliveryReason = 'locked' | 'failed' | 'poison' | 'cut-short' | 'paced';

/**
 * How long a failed message stays invisible, by why it failed and how often it was received.
 * A lock is held for one family's reconcile (seconds), so a busy family is retried soon and
 * often; a run paced by Coder's provisioners comes back once a job has had time to finish; a
 * failed reconcile backs off exponentially, on top of the engine's own per-family
 * backoff; a poison message comes straight back so it reaches the DLQ without holding its
 * owner's message group for long.
 */
export const retryDelaySeconds = (reason: RedeliveryReason, receiveCount: number): number => {
  const n = Math.max(1, receiveCount);
  if (reason === 'poison' || reason === 'cut-short') return 0;
  if (reason === 'locked') return Math.min(10 * n, 60);
  // Paced by Coder's provisioners: jobs take about a minute each, so a slot opens in about that.
  if (reason === 'paced') return Math.min(60 * n, 300);
  return Math.min(30 * 2 ** (n - 1), 600);
};
