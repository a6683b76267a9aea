// @ts-check
// `npm run mutate`: mutation testing of the judgement code (checks/, lib/plugin/) against the unit
// tests (vitest.mutate.config.ts). Slow, so never part of `npm test` or CI; see docs/testing.md.
//   npm run mutate                                  every file (add --incremental to reuse the last run: reports/stryker-incremental.json)
//   npm run mutate -- --mutate checks/volumes.ts    one file while writing its tests
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['checks/*.ts', '!checks/index.ts', 'lib/plugin/*.ts'],
  // What the sandbox copy does not need: the 88 MB binary and what only benchmarks read (packaging/
  // stays: calico_nat.test compares its commands with packaging/sudoers).
  ignorePatterns: ['dist', 'bench', 'contrib', 'reports', '.tmp', '*.deb'],
  coverageAnalysis: 'perTest',
  // Static mutants run only while a module loads: here the checks' declarations (help text, options,
  // perfdata docs, examples), which help.test/contrib.test check from the built binary. Each would
  // re-run every unit test in a fresh process; ignoring them keeps the score about judgement.
  ignoreStatic: true,
  // A shared 2-core machine: one or two test processes, and patience before calling a mutant a timeout.
  concurrency: 2,
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 75, break: null },
};
