/**
 * Discrete events on the simulator's clock: job completions and people's arrivals happen at a
 * simulated time, and are processed in time order by whoever looks first (a timer, an API request,
 * a clock jump). While an event runs, `now()` is that event's time, so a completion processed late
 * (a busy event loop, a jump over an hour) still stamps the time it happened at and the next job
 * starts then. The queue's figures therefore do not depend on how loaded the benchmark machine is.
 */
import type { SimClock, SimTime } from '../clock.js';

interface ScheduledEvent {
  readonly at: number;
  readonly seq: number;
  readonly run: (at: number) => void;
}

/** A binary min-heap on (at, seq): equal times run in the order they were scheduled. */
class EventHeap {
  private readonly items: ScheduledEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): ScheduledEvent | undefined {
    return this.items[0];
  }

  push(event: ScheduledEvent): void {
    const items = this.items;
    items.push(event);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as ScheduledEvent, items[parent] as ScheduledEvent)) break;
      [items[i], items[parent]] = [items[parent] as ScheduledEvent, items[i] as ScheduledEvent];
      i = parent;
    }
  }

  pop(): ScheduledEvent | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < items.length && before(items[l] as ScheduledEvent, items[smallest] as ScheduledEvent))
        smallest = l;
      if (r < items.length && before(items[r] as ScheduledEvent, items[smallest] as ScheduledEvent))
        smallest = r;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest] as ScheduledEvent, items[i] as ScheduledEvent];
      i = smallest;
    }
    return top;
  }
}

const before = (a: ScheduledEvent, b: ScheduledEvent): boolean =>
  a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class EventScheduler implements SimTime {
  private readonly heap = new EventHeap();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private processing: number | undefined;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly clock: SimClock) {
    this.unsubscribe = clock.onChange(() => this.catchUp());
  }

  /** The time of the event being processed, else the clock's. */
  now(): number {
    return this.processing ?? this.clock.now();
  }

  /** Runs `run` at simulated time `at` (at once on the next catch-up if `at` has passed). */
  at(at: number, run: (at: number) => void): void {
    if (this.closed) return;
    this.heap.push({ at, seq: this.seq++, run });
    if (this.processing === undefined) this.arm();
  }

  /** Processes every event due by now, in time order. Re-entrant calls return at once. */
  catchUp(): void {
    if (this.processing !== undefined || this.closed) return;
    const now = this.clock.now();
    try {
      for (let next = this.heap.peek(); next !== undefined && next.at <= now; next = this.heap.peek()) {
        this.heap.pop();
        this.processing = next.at;
        next.run(next.at);
      }
    } finally {
      this.processing = undefined;
    }
    this.arm();
  }

  /** Events not yet processed. */
  get pending(): number {
    return this.heap.size;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.heap.peek();
    if (next === undefined || this.closed) return;
    // At least 1 ms: a timer of 0 would spin while the clock has not reached `at` yet.
    this.timer = setTimeout(() => this.catchUp(), Math.max(1, Math.ceil(this.clock.realDelayUntil(next.at))));
    // Pending events alone never keep a process alive; the server's socket does.
    this.timer.unref();
  }
}
