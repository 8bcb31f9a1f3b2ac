import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      // handlers log structured JSON in Lambda; in tests the local stack records what matters
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // the SDK reads exactly this variable, and only the value "true"
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
