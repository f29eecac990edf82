/** The engine's timers on Node's own: a repeating task that never overlaps itself and stops cleanly. */
import type { RepeatingTask, Scheduler } from '../core/families/ports.js';

export const intervalScheduler: Scheduler = {
  every(intervalMs: number, task: () => Promise<void>): RepeatingTask {
    let running: Promise<void> | undefined;
    let stopped = false;
    const timer = setInterval(() => {
      if (running || stopped) return;
      running = task()
        // The task reports its own failures (a lost lease); a throw here must not crash the process.
        .catch(() => undefined)
        .finally(() => {
          running = undefined;
        });
    }, intervalMs);
    // A renewal timer alone must not keep a CLI process (or a test) alive.
    timer.unref?.();
    return {
      stop: async () => {
        stopped = true;
        clearInterval(timer);
        await running;
      },
    };
  },
};
