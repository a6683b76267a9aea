import { defineConfig } from 'vitest/config';

// The tests `npm run mutate` (stryker.config.mjs) runs against each mutant: the unit tests of the
// judgement code, in-process. Integration tests spawn the built binary, which holds none of the
// mutants, and the transport tests (API client, host commands, TLS) exercise lib/kube and lib/host,
// which are not mutated: both would only cost time.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: [
      'test/unit/client_*.test.ts',
      'test/unit/host_command.test.ts',
      'test/unit/tls_verify.test.ts',
    ],
    testTimeout: 120000,
  },
});
