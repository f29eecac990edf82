/**
 * The simulator's clock. Every time the simulated Coder shows or acts on (timestamps, job
 * durations, daemons' last_seen_at, the rate-limit window, people's arrivals) is read from here, so
 * that a benchmark can run it faster than real time (`scale`) or jump it forward between two
 * controller runs (`advance`) and still see one consistent deployment.
 *
 * With scale 1 and no jump it is the wall clock, which is what every test that does not ask for
 * anything else gets.
 */
export class SimClock {
  private originSim: number;
  private originReal: number;
  private readonly listeners = new Set<() => void>();

  constructor(
    private currentScale = 1,
    start: number = Date.now(),
  ) {
    if (!(currentScale > 0)) throw new RangeError(`clock scale must be > 0, got ${currentScale}`);
    this.originSim = start;
    this.originReal = Date.now();
  }

  /** Simulated milliseconds per real millisecond. */
  get scale(): number {
    return this.currentScale;
  }

  /** Simulated epoch milliseconds. */
  now(): number {
    return this.originSim + (Date.now() - this.originReal) * this.currentScale;
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Real milliseconds until simulated time `at` (0 when it has passed). */
  realDelayUntil(at: number): number {
    return Math.max(0, (at - this.now()) / this.currentScale);
  }

  /**
   * Jumps simulated time forward by `ms` at once. Whatever is due in between (job completions,
   * arrivals) is processed in time order by the listeners before this returns.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`can only advance by a non-negative amount, got ${ms}`);
    this.originSim += ms;
    for (const listener of this.listeners) listener();
  }

  /** Jumps to `at` if it is ahead; no-op otherwise. */
  advanceTo(at: number): void {
    const now = this.now();
    if (at > now) this.advance(at - now);
  }

  /** Changes the rate from now on; time already elapsed keeps its value. */
  setScale(scale: number): void {
    if (!(scale > 0)) throw new RangeError(`clock scale must be > 0, got ${scale}`);
    this.originSim = this.now();
    this.originReal = Date.now();
    this.currentScale = scale;
    for (const listener of this.listeners) listener();
  }

  /** Called after every jump or change of rate (the job queue re-arms its timer and catches up). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** What the state reads the time from: the clock, or the event being processed (see EventScheduler). */
export interface SimTime {
  /** Simulated epoch milliseconds. */
  now(): number;
}

export const isoNow = (time: SimTime): string => new Date(time.now()).toISOString();

/** The wall clock, for state used without a simulator around it. */
export const WALL_TIME: SimTime = { now: () => Date.now() };
