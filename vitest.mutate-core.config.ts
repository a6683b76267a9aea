import { defineConfig } from 'vitest/config';
import base from './vitest.mutate.config.js';

// `npm run mutate:core` (stryker.core.config.mjs): the plugin core (lib/plugin) against its own unit
// tests only. Every check's test also passes through parseArgs and Report, so against the whole unit
// suite each core mutant re-runs hundreds of tests (hours on two shared cores); its own tests take
// minutes, and a mutant only they miss is a situation the core's tests should describe.
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/unit/args.test.ts',
      'test/unit/context.test.ts',
      'test/unit/events.test.ts',
      'test/unit/perfdata.test.ts',
      'test/unit/plugin_core.test.ts',
      'test/unit/range.test.ts',
      'test/unit/range-fuzz.test.ts',
      'test/unit/render.test.ts',
      'test/unit/report.test.ts',
    ],
  },
});
