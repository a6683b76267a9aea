// @ts-check
// `npm run mutate:core`: lib/plugin's judgement pieces (ranges, states, the report, rendering, options)
// against the core's own unit tests (vitest.mutate-core.config.ts). See docs/testing.md.
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { configFile: 'vitest.mutate-core.config.ts' },
  // run.ts, help.ts, check.ts and the rest are the CLI path: the integration tests run them from the binary.
  mutate: ['lib/plugin/{args,context,duration,options,perfdata,range,render,report,result,sanitize,state}.ts'],
  incrementalFile: 'reports/stryker-incremental-core.json',
};
