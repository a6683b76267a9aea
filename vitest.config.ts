import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One temp dir, certificates and netns tag per run; anything left behind fails the run.
    globalSetup: ['test/global-setup.ts'],
    // Generous: tests spawn an 83 MB binary, on 2 busy cores. No test asserts speed (bench/ does).
    testTimeout: 120000,
    hookTimeout: 300000,
    // Integration tests start servers and subprocesses: two cores, keep it calm.
    maxWorkers: 2,
    // The JSON report lets .ci/run end with one plain 'N passed, N failed' line.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
});
