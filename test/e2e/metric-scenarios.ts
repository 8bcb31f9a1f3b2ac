/**
 * The scenarios production-signals.test.ts plays with every log level on and its metrics kept. It
 * checks that they end as expected, so scenarios.test.ts does not play them a second time.
 */
export const METRIC_SCENARIOS = [
  'src/local/scenarios/b-canary-promotion.yml',
  'src/local/scenarios/c-gate-rollback.yml',
  'src/local/scenarios/e-pipeline-deploy.yml',
  'src/local/scenarios/f-pipeline-stopped.yml',
];
