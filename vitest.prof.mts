import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    root: '/work/wt/integ',
    testTimeout: 600_000, hookTimeout: 600_000, pool: 'forks', maxWorkers: 1,
    execArgv: ['--cpu-prof', '--cpu-prof-dir=/tmp/profD'],
    include: ['test/**/*.test.ts'],
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
