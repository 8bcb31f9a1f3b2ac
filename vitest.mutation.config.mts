import { defineConfig } from 'vitest/config';

/**
 * The tests `npm run test:mutation` runs against each mutant: the deterministic unit tests of
 * src/domain. The Monte Carlo checks of the judge (false-rollback, robust-null, latency-null, power)
 * are left out: they take seconds each, and a mutant they alone would catch is a gap the fast tests
 * should close.
 */
export default defineConfig({
  test: {
    include: ['test/domain/**/*.test.ts'],
    exclude: [
      'test/domain/judge/false-rollback.test.ts',
      'test/domain/judge/robust-null.test.ts',
      'test/domain/judge/latency-null.test.ts',
      'test/domain/judge/power.test.ts',
    ],
    testTimeout: 60_000,
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // the property search still walks the flows, at a count that keeps one mutant's run short
      INVARIANT_RUNS: '25',
    },
  },
});
