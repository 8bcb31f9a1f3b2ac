import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (ranked by their time in a run on 2 idle cores), started first
 * within their part (see SlowestFirst) so that no worker is left with one of them at the end
 * while the other has finished. Without this, a run with no result cache (CI) starts the largest
 * files first, and these are not all large.
 */
const SLOWEST_FIRST = [
  // isolated
  'test/cli/local-commands.test.ts',
  // shared
  'test/e2e/fault-model-plants.test.ts',
  'test/e2e/fault-model.test.ts',
  'test/foundation/package.test.ts',
  'test/e2e/crash-rerun.test.ts',
  'test/e2e/deployment.test.ts',
  'test/e2e/scenarios.test.ts',
  'test/cli/region.test.ts',
  'test/e2e/callbacks.test.ts',
  'test/e2e/canary.test.ts',
  'test/domain/judge/false-rollback.test.ts',
  'test/cli/wait.test.ts',
  'test/cli/cli.test.ts',
  'test/report/report-browser.test.ts',
  'test/e2e/real-container.test.ts',
];

/**
 * Files that share their worker process with the files run before them in it (`isolate: false`):
 * a fresh process for each file spent about 1 s of CPU loading vitest, zod and the domain again,
 * and about 4 s more for the SDK, the handlers and the local cloud.
 *
 * The pure ones (domain, config, schemas, the local cloud's own tests, the report's layout, the
 * metrics) keep nothing in the process: no mocks, no environment, no module state they do not
 * reset. The adapters' tests with aws-sdk-client-mock restore the SDK clients' `send` after the
 * file. The end-to-end files each start their own local stack, and `LocalStack` sets and resets
 * what is process-wide (environment, deps, clients, clocks, metric sink); only those shown to pass
 * together are listed. Isolated stays `local-commands` (it lays a kept cloud's environment over `process.env`; first, beside the
 * typecheck and Biome, since its kept cloud runs in a process of its own).
 */
const SHARED_PROCESS = [
  'test/domain/**/*.test.ts',
  // the SDK mocks are restored after each file (afterAll)
  'test/adapters/application-autoscaling.test.ts',
  'test/adapters/aws-errors.test.ts',
  'test/adapters/cloudwatch-metrics.test.ts',
  'test/adapters/dynamodb-state-store.test.ts',
  'test/adapters/dynamodb-status-reader.test.ts',
  'test/adapters/eventbridge-publisher.test.ts',
  'test/adapters/sagemaker-endpoints.test.ts',
  'test/adapters/sagemaker-pipelines.test.ts',
  'test/adapters/sagemaker-registry.test.ts',
  'test/adapters/sqs-convergence-requests.test.ts',
  // they put process.env back in place after the file (test/support/process-env.ts)
  'test/adapters/artifact-lookup.test.ts',
  'test/adapters/clients.test.ts',
  'test/adapters/local-cloud-interop.test.ts',
  'test/config/*.test.ts',
  'test/app/*.test.ts',
  'test/metrics/*.test.ts',
  'test/callbacks/*.test.ts',
  'test/handlers/*.test.ts',
  'test/foundation/clock.test.ts',
  'test/foundation/config-schema.test.ts',
  'test/foundation/config.test.ts',
  'test/foundation/convergence-request.test.ts',
  'test/foundation/esbuild-plugins.test.ts',
  'test/foundation/preflight-policy.test.ts',
  'test/foundation/stage-region-policy.test.ts',
  'test/foundation/stage-region-events.test.ts',
  'test/foundation/lambda-logger.test.ts',
  'test/foundation/schemas.test.ts',
  'test/foundation/timeline-wording.test.ts',
  'test/local-cloud/*.test.ts',
  'test/report/report-layout.test.ts',
  'test/report/report-lanes.test.ts',
  'test/examples/*.test.ts',
  'test/cli/gates-column.test.ts',
  'test/cli/output.test.ts',
  'test/cli/stage-lines.test.ts',
  // processes of their own (the CLI, npm pack, Chromium, a model server, osls package and print,
  // cfn-lint); nothing here
  'test/foundation/package.test.ts',
  'test/cli/closed-pipe.test.ts',
  'test/cli/package.test.ts',
  'test/cli/region.test.ts',
  'test/report/report-browser.test.ts',
  'test/e2e/real-container.test.ts',
  'test/e2e/fault-model-oracle.test.ts',
  'test/e2e/explicit-stages.test.ts',
  'test/e2e/bake.test.ts',
  'test/e2e/per-stage-concurrency.test.ts',
  'test/e2e/qa-restore.test.ts',
  'test/e2e/earlier-stages.test.ts',
  'test/e2e/sdk-retries.test.ts',
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
  'test/e2e/artifact-preflight.test.ts',
  'test/e2e/preflight-faults.test.ts',
  'test/e2e/stage-regions.test.ts',
  'test/e2e/cross-account-events.test.ts',
  'test/e2e/deployment.test.ts',
  // each crash leaves the stack's faults and deps as the stack sets and resets them
  'test/e2e/crash-rerun.test.ts',
  // it puts the log level back after the file
  'test/e2e/production-signals.test.ts',
  // each play's plant wraps the deps of its own stack, which its close resets
  'test/e2e/fault-model.test.ts',
  'test/e2e/fault-model-plants.test.ts',
  'test/e2e/scenarios.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/stage-commands.test.ts',
  'test/cli/stage-region.test.ts',
  'test/cli/wait.test.ts',
  'test/cli/stuck-hint.test.ts',
];

/**
 * The isolated files first, then the shared ones, each part slowest first. A worker keeps its
 * process for the next file only when that file is shared too: with the two kinds mixed, a worker
 * started a fresh process for most shared files. Within each part the slowest start first so that
 * no worker is left with one of them at the end while the other has finished.
 */
class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const path = relative(spec.project.config.root, spec.moduleId);
      const index = SLOWEST_FIRST.findIndex((prefix) => path.startsWith(prefix));
      return index === -1 ? SLOWEST_FIRST.length : index;
    };
    const part = (spec: TestSpecification) => (spec.project.config.isolate === false ? 1 : 0);
    return sorted
      .map((spec, order) => ({ spec, order, part: part(spec), rank: rank(spec) }))
      .sort((a, b) => a.part - b.part || a.rank - b.rank || a.order - b.order)
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
