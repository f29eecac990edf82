/**
 * The client's side of a run's deadline: it refuses to wait (pacing, `Retry-After`, backoff) or to
 * send a request past the time the run has left, and throws CoderDeadlineError instead. Callers
 * treat it as "stop cleanly", never as a failure of what they were doing.
 */
import { CoderError } from './errors.js';

export type DeadlineStep = 'pacing' | 'retry-after' | 'backoff' | 'send' | 'answer';

/** The run is out of time: nothing was sent for this attempt, or its answer came too late to wait for. */
export class CoderDeadlineError extends CoderError {
  override readonly name = 'CoderDeadlineError';
  readonly kind = 'deadline' as const;
  /** What the client would have had to wait for. */
  readonly step: DeadlineStep;
  /** How long it would have waited (ms), when it was a wait. */
  readonly waitMs: number | undefined;
  /**
   * False when no attempt of this call reached Coder (or every one was answered 429), so the call
   * certainly had no effect; true when an attempt was cut off and may have taken effect.
   */
  readonly mayHaveTakenEffect: boolean;

  constructor(
    message: string,
    fields: {
      method: string;
      route: string;
      attempts: number;
      step: DeadlineStep;
      waitMs?: number | undefined;
      mayHaveTakenEffect: boolean;
    },
  ) {
    super(message, fields);
    this.step = fields.step;
    this.waitMs = fields.waitMs;
    this.mayHaveTakenEffect = fields.mayHaveTakenEffect;
  }
}
