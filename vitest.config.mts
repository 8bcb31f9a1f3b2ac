import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (40 s of CPU or more each, measured), started first so that no
 * worker is left with one of them at the end while the other has finished. Without this, a run
 * with no result cache (CI) starts the largest files first, and these are not all large.
 */
const SLOWEST_FIRST = [
  'test/e2e/fault-model',
  'test/cli/local-commands.test.ts',
  'test/e2e/scenarios.test.ts',
  'test/foundation/package.test.ts',
  'test/e2e/deployment.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/wait.test.ts',
];

/**
 * End-to-end files that share their worker process with the files run before them in it
 * (`isolate: false`): each fresh process spent about 4 s of CPU loading the SDK, the handlers and
 * the local cloud again (23 of these files: 232 s of CPU isolated, 102 s shared, one run each
 * side by side on a busy machine). Each file starts
 * its own local stack, and `LocalStack` sets and resets what is process-wide (environment, deps,
 * clients, clocks, metric sink). Only files shown to pass together are listed; a file that mocks,
 * spies or changes the environment for good stays isolated (production-signals sets the log
 * level).
 */
const SHARED_PROCESS = [
  'test/e2e/judge-first-look.test.ts',
  'test/e2e/event-time.test.ts',
  'test/e2e/lost-approval.test.ts',
  'test/e2e/native.test.ts',
  'test/e2e/rejected-stays-out.test.ts',
  'test/e2e/retry-after-failure.test.ts',
  'test/e2e/shadow.test.ts',
  'test/e2e/tick-batching.test.ts',
  'test/e2e/canary.test.ts',
  'test/e2e/control.test.ts',
  'test/e2e/desired-state.test.ts',
  'test/e2e/endpoint-states.test.ts',
  'test/e2e/invalid-datapoints.test.ts',
  'test/e2e/timeouts-without-metrics.test.ts',
  'test/e2e/cross-account-gates.test.ts',
  'test/e2e/private-payloads.test.ts',
  'test/e2e/adopt-existing-endpoint.test.ts',
  'test/e2e/autoscaling.test.ts',
  'test/e2e/callback-tokens.test.ts',
  'test/e2e/callbacks.test.ts',
  'test/e2e/command-url.test.ts',
  'test/e2e/executor-split.test.ts',
  'test/e2e/pre-traffic.test.ts',
  'test/e2e/deployment.test.ts',
  'test/e2e/scenarios.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/wait.test.ts',
  'test/cli/stuck-hint.test.ts',
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const path = relative(spec.project.config.root, spec.moduleId);
      const index = SLOWEST_FIRST.findIndex((prefix) => path.startsWith(prefix));
      return index === -1 ? SLOWEST_FIRST.length : index;
    };
    return sorted
      .map((spec, order) => ({ spec, order, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.order - b.order)
      .map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default is one worker fewer than the cores, a single one on 2 cores; but the main
    // process only collects results, and the test files need every core
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: SlowestFirst },
    projects: [
      {
        extends: true,
        test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: SHARED_PROCESS },
      },
      { extends: true, test: { name: 'shared-process', include: SHARED_PROCESS, isolate: false } },
    ],
    env: {
      // handlers log structured JSON in Lambda; in tests the local stack records what matters
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // the SDK reads exactly this variable, and only the value "true"
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
