import { defineConfig } from 'vitest/config';

/**
 * The reliability suite on its own (`npm run test:chaos`; `npm test` runs it too, it fits in time):
 * randomized fault injection,
 * fuzzing and large property runs under test/chaos/, plus the rotation crash matrix, which
 * test/handlers/keys-rotation-crash.test.ts already walks in full (a failure before
 * and after every side effect of every step, and a second one in the retry) and is run here
 * rather than copied.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts', 'test/handlers/keys-rotation-crash.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 30_000,
    // The machine has 2 cores, shared with the simulator and dynalite.
    maxWorkers: 2,
  },
});
