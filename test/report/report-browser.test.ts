import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/local/report';
import { loadScenarioFile, runScenario, type ScenarioResult } from '../../src/local/scenario-runner';

/*
 * The report as a reader sees it: rendered by Debian's Chromium (installed by .ci/run), driven by
 * playwright-core. Where no browser is installed the test is skipped, saying why.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browserPresent = existsSync(CHROMIUM);
if (!browserPresent) {
  process.stdout.write(
    `report browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`,
  );
}

const ROOT = resolve(__dirname, '../..');
const OUT = resolve(ROOT, '.local');
const SCENARIOS = ['c-gate-rollback.yml', 'f-pipeline-stopped.yml'];
let results: ScenarioResult[];

beforeAll(async () => {
  if (!browserPresent) return;
  results = [];
  for (const file of SCENARIOS) {
    const path = resolve(ROOT, 'src/local/scenarios', file);
    results.push(await runScenario(loadScenarioFile(path), { file: path }));
  }
}, 180_000);

describe.skipIf(!browserPresent)('the scenario report in Chromium', () => {
  it('renders every chart with its panels, roles, gates and labelled decisions, without console errors', async () => {
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    mkdirSync(OUT, { recursive: true });
    const page = resolve(OUT, 'report-browser-test.html');
    writeFileSync(page, renderHtml(results));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      tab.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      tab.on('pageerror', (error) => problems.push(error.message));
      tab.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
      await tab.goto(`file://${page}`);

      const charts = await tab.$$eval('figure.chart', (figures) =>
        figures.map((figure) => {
          const svg = figure.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          const count = (selector: string) => figure.querySelectorAll(selector).length;
          return {
            scenario: figure.closest('section')?.id,
            endpoint: figure.getAttribute('data-endpoint'),
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            baselineWeights: count('polyline.weight.baseline'),
            candidateWeights: count('polyline.weight.candidate'),
            rates: count('polyline.rate'),
            gates: count('g.gate'),
            evidence: count('g.evidence'),
            bands: count('g.band'),
            statuses: [...figure.querySelectorAll('g.status title')].map((t) =>
              t.textContent?.split(' ').at(-1),
            ),
            decisions: [...figure.querySelectorAll('g.decision text')].map((t) => t.textContent),
            firstWeightX: Math.min(
              ...[...figure.querySelectorAll('polyline.weight')].flatMap((p) =>
                (p.getAttribute('points') ?? '').split(' ').map((xy: string) => Number(xy.split(',')[0])),
              ),
            ),
            inServiceX: Number(
              [...figure.querySelectorAll('g.status')]
                .find((g) => g.querySelector('title')?.textContent?.endsWith('InService'))
                ?.querySelector('rect')
                ?.getAttribute('x') ?? Number.NaN,
            ),
          };
        }),
      );
      expect(charts.length).toBeGreaterThan(0);
      for (const c of charts) {
        expect(c.width, `${c.scenario} ${c.endpoint}`).toBeGreaterThan(500);
        expect(c.height, `${c.scenario} ${c.endpoint}`).toBeGreaterThan(300);
      }
      const gate = charts.find((c) => c.scenario === 'gate-rollback' && c.endpoint === 'churn-model-prod')!;
      expect(gate).toBeDefined();
      // v3 on trial is the candidate, the version serving the baseline: colour follows the role
      expect(gate.candidateWeights).toBeGreaterThan(0);
      expect(gate.baselineWeights).toBeGreaterThan(0);
      expect(gate.rates).toBeGreaterThan(0);
      expect(gate.gates).toBe(1);
      expect(gate.evidence).toBeGreaterThan(0);
      expect(gate.bands).toBeGreaterThan(0);
      expect(gate.statuses).toEqual(expect.arrayContaining(['Creating', 'InService', 'Updating']));
      expect(gate.decisions).toEqual(
        expect.arrayContaining(['v3 Canary', 'v3 RollingBack', 'v3 RolledBack']),
      );

      // the pipeline was stopped while QA was being created: no weight is drawn before it served
      const stopped = charts.find(
        (c) => c.scenario === 'pipeline-stopped' && c.endpoint === 'churn-model-qa',
      )!;
      expect(stopped.statuses).toEqual(['Creating', 'InService']);
      expect(stopped.firstWeightX).toBeGreaterThanOrEqual(stopped.inServiceX);
      expect(stopped.decisions).toEqual(expect.arrayContaining(['v1 Aborted']));

      expect(problems).toEqual([]);
      await tab.screenshot({ path: resolve(OUT, 'report.png'), fullPage: true });
      expect(existsSync(resolve(OUT, 'report.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
