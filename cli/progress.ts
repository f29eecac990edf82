import type { CliIo } from './output.js';

/**
 * A progress line for long work (counts, rate, what is left) on stderr, redrawn in place. Only
 * for a person at a terminal: with --json, in CI or when stderr is not a terminal it prints
 * nothing, so logs and scripts see only the usual progress lines.
 */
export interface ProgressMeter {
  /** False when nothing is drawn (--json, CI, not a terminal): callers keep their plain progress lines. */
  readonly active: boolean;
  /** A new phase; `total` when it is known, so the line can say what is left. */
  start(label: string, total?: number): void;
  add(count?: number): void;
  /** Ends the phase: the final figures stay on screen. */
  done(): void;
}

const REDRAW_MS = 250;

/** `CI` set to anything but `false`/`0` means a CI system is running the CLI. */
export const isCi = (env: CliIo['env']): boolean => {
  const ci = env.CI?.toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
};

const count = (n: number): string => n.toLocaleString('en-US');

/** One line: `label: done/total (rate/s), left left, about N s` (the parts that are known). */
export const progressLine = (label: string, done: number, total: number | undefined, seconds: number) => {
  const rate = seconds > 0 ? done / seconds : 0;
  const parts = [`${label}: ${total === undefined ? count(done) : `${count(done)}/${count(total)}`}`];
  if (seconds >= 0.5) parts[0] += ` (${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s)`;
  if (total !== undefined) {
    const left = Math.max(0, total - done);
    parts.push(`${count(left)} left`);
    if (left > 0 && rate > 0 && seconds >= 0.5) parts.push(`about ${Math.ceil(left / rate)} s`);
  }
  return parts.join(', ');
};

export const createProgressMeter = (
  io: CliIo,
  json: boolean,
  now: () => number = () => performance.now(),
): ProgressMeter => {
  if (json || io.interactive !== true || isCi(io.env)) {
    return { active: false, start() {}, add() {}, done() {} };
  }
  let phase: { label: string; total: number | undefined; done: number; started: number } | undefined;
  let drawn = 0;
  const draw = (force: boolean) => {
    if (!phase) return;
    const at = now();
    if (!force && at - drawn < REDRAW_MS) return;
    drawn = at;
    io.stderr(
      `\r\x1b[2K› ${progressLine(phase.label, phase.done, phase.total, (at - phase.started) / 1000)}`,
    );
  };
  return {
    active: true,
    start(label, total) {
      phase = { label, total, done: 0, started: now() };
      draw(true);
    },
    add(n = 1) {
      if (!phase) return;
      phase.done += n;
      draw(false);
    },
    done() {
      if (!phase) return;
      draw(true);
      io.stderr('\n');
      phase = undefined;
    },
  };
};
