import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // CDK synth and the simulator are CPU-heavy; the machine has 2 cores.
    maxWorkers: 2,
  },
});
