import { existsSync } from 'node:fs';

/** Debian's Chromium (installed by .ci/run), or the one CHROMIUM_PATH names. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const browserPresent = existsSync(CHROMIUM);

/**
 * The scenarios report-browser.test.ts plays and draws: a shadow phase that fails, latency that
 * decides after an extended bake, an alarm, an early stop, a prod rollback that takes QA back too.
 * It checks that each ends as expected, so scenarios.test.ts does not play them a second time
 * where a browser is present (where none is, the browser test is skipped and scenarios.test.ts
 * plays them).
 */
export const BROWSER_SCENARIOS = [
  'src/local/scenarios/s-shadow-regression.yml',
  'src/local/scenarios/l-latency-regression.yml',
  'src/local/scenarios/i-alarm-rollback.yml',
  'src/local/scenarios/f-pipeline-stopped.yml',
  'src/local/scenarios/v-earlier-stages-rollback.yml',
];
