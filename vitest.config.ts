import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20000,
    hookTimeout: 60000,
    // Integration tests start servers and subprocesses: two cores, keep it calm.
    maxWorkers: 2,
  },
});
