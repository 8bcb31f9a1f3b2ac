// Mutation testing of the domain rules: `npm run test:mutation` mutates every folder below;
// MUTATION_SCOPE=judge (or flows, rules) mutates one part, with its own report and incremental file.
const scopes = {
  judge: ['src/domain/judge/**/*.ts'],
  flows: ['src/domain/flows/**/*.ts'],
  rules: [
    'src/domain/reconcile.ts',
    'src/domain/authorization.ts',
    'src/domain/draft.ts',
    'src/domain/decide.ts',
    'src/domain/artifacts.ts',
    'src/domain/stage-place.ts',
  ],
};
const scope = process.env.MUTATION_SCOPE ?? 'all';
if (scope !== 'all' && !(scope in scopes)) {
  throw new Error(`MUTATION_SCOPE must be one of all, ${Object.keys(scopes).join(', ')}; got "${scope}"`);
}
// MUTATION_REPORT_DIR: where a run with its own --mutate (some files of a scope) reports
const out = process.env.MUTATION_REPORT_DIR ?? `.local/mutation/${scope}`;
process.env.MUTATION_LIVE_FILE ??= `${out}/live.jsonl`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mts', related: false },
  coverageAnalysis: 'perTest',
  mutate: scope === 'all' ? Object.values(scopes).flat() : scopes[scope],
  // the machine is shared: two test runners at most
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 5_000,
  incremental: true,
  incrementalFile: `${out}/incremental.json`,
  // mutation-progress: every tested mutant appended to live.jsonl as the run goes
  plugins: ['@stryker-mutator/*', './test/support/mutation-progress-reporter.mjs'],
  reporters: ['clear-text', 'progress', 'html', 'json', 'mutation-progress'],
  htmlReporter: { fileName: `${out}/report.html` },
  jsonReporter: { fileName: `${out}/report.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 85, low: 70, break: null },
};
