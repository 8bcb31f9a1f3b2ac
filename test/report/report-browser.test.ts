import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/local/report';
import { loadScenarioFile, runScenario, type ScenarioResult } from '../../src/local/scenario-runner';
import { BROWSER_SCENARIOS, browserPresent, CHROMIUM } from './browser-scenarios';

/*
 * The report as a reader sees it: rendered by Debian's Chromium (installed by .ci/run), driven by
 * playwright-core, at a desktop width and at a phone's (390 px), measured by the boxes the browser
 * lays out. Where no browser is installed the test is skipped, saying why.
 */
if (!browserPresent) {
  process.stdout.write(
    `report browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`,
  );
}

const ROOT = resolve(__dirname, '../..');
const OUT = resolve(ROOT, '.local');
const WIDTHS = { desktop: 1100, phone: 390 } as const;
let results: ScenarioResult[];
let browser: Browser | undefined;
let page: string;

beforeAll(async () => {
  if (!browserPresent) return;
  results = [];
  for (const file of BROWSER_SCENARIOS) {
    const path = resolve(ROOT, file);
    results.push(await runScenario(loadScenarioFile(path), { file: path }));
  }
  mkdirSync(OUT, { recursive: true });
  page = resolve(OUT, 'report-browser-test.html');
  writeFileSync(page, renderHtml(results));
  browser = await chromium.launch({
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
}, BROWSER_SCENARIOS.length * 90_000); // each scenario stops itself at its 90 s wall-clock limit

afterAll(async () => {
  await browser?.close();
});

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** What each visible chart shows, as laid out: boxes in CSS pixels. */
interface ChartView {
  scenario: string;
  endpoint: string;
  layout: string;
  svg: Box;
  /** every text element: its box, its rendered font size (px) and its words */
  texts: Array<Box & { text: string; px: number }>;
  /** decision and extension labels */
  labels: Array<Box & { text: string; kind: string }>;
  count: Record<string, number>;
  judged: string[];
  alarms: Array<{ name: string; x0: number; x1: number }>;
  decisionX: Record<string, number>;
  statuses: string[];
  firstWeightX: number;
  inServiceX: number;
  /** the drawn evidence of each test: first and last point's y, and its limit's y (SVG units, down is less) */
  evidence: Array<{ test: string; firstY: number; lastY: number; limitY: number }>;
}

async function open(width: number): Promise<{ tab: Page; problems: string[] }> {
  const tab = await browser!.newPage({ viewport: { width, height: 900 } });
  const problems: string[] = [];
  tab.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  tab.on('pageerror', (error) => problems.push(error.message));
  tab.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  await tab.goto(`file://${page}`);
  return { tab, problems };
}

/** Measured in the page by measure-charts.js (plain JavaScript: the project's types have no DOM). */
const MEASURE = readFileSync(resolve(__dirname, 'measure-charts.js'), 'utf8');
const chartsOf = (tab: Page): Promise<ChartView[]> => tab.evaluate(MEASURE) as Promise<ChartView[]>;

/** Each stages view, as laid out (measure-lanes.js). */
interface LanesView {
  scenario: string;
  layout: string;
  svg: Box;
  texts: Array<Box & { text: string; px: number }>;
  lanes: Array<{
    stage: string;
    name: string;
    top: number;
    segments: Array<Box & { label: (Box & { text: string }) | null; title: string }>;
    markers: Array<{ outcome: string; x: number; text: string; glyph: Box; title: string }>;
  }>;
}
const MEASURE_LANES = readFileSync(resolve(__dirname, 'measure-lanes.js'), 'utf8');
const lanesOf = (tab: Page): Promise<LanesView[]> => tab.evaluate(MEASURE_LANES) as Promise<LanesView[]>;

const overlap = (a: Box, b: Box) =>
  a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;

const find = (charts: ChartView[], scenario: string, endpoint: string) => {
  const chart = charts.find((c) => c.scenario === scenario && c.endpoint === endpoint);
  expect(chart, `${scenario} ${endpoint}`).toBeDefined();
  return chart!;
};

/**
 * A chart or stages view laid out for the device, within the screen, every text at least 10 px
 * and inside the view: not cut off at either side.
 */
const expectLegibleInside = (
  view: { layout: string; svg: Box; texts: (Box & { text: string; px: number })[] },
  where: string,
  device: string,
  width: number,
) => {
  expect(view.layout, where).toBe(device === 'phone' ? 'narrow' : 'wide');
  expect(view.svg.right, where).toBeLessThanOrEqual(width);
  for (const t of view.texts) {
    expect(t.px, `${where}: "${t.text}" font`).toBeGreaterThanOrEqual(10);
    expect(t.left, `${where}: "${t.text}" left`).toBeGreaterThanOrEqual(view.svg.left - 0.5);
    expect(t.right, `${where}: "${t.text}" right`).toBeLessThanOrEqual(view.svg.right + 0.5);
  }
};

describe.skipIf(!browserPresent)('the scenario report in Chromium', () => {
  it('ran the scenarios it draws, each ending as expected (scenarios.test.ts leaves these to this file)', () => {
    expect(results).toHaveLength(BROWSER_SCENARIOS.length);
    for (const result of results) {
      expect(result.failures, result.name).toEqual([]);
      expect(result.outcome, result.name).toBe(result.expected);
      expect(result.ok, result.name).toBe(true);
      expect(result.timeline.length, result.name).toBeGreaterThan(0);
      expect(result.samples.length, result.name).toBeGreaterThan(0);
    }
  });

  for (const [device, width] of Object.entries(WIDTHS)) {
    it(`at ${width} px (${device}): legible text inside the charts, labels apart, nothing wider than the screen`, async () => {
      const { tab, problems } = await open(width);
      try {
        const charts = await chartsOf(tab);
        expect(charts.length).toBeGreaterThan(4);
        for (const c of charts) {
          const where = `${device} ${c.scenario} ${c.endpoint}`;
          expectLegibleInside(c, where, device, width);
          for (const [i, a] of c.labels.entries())
            for (const b of c.labels.slice(i + 1))
              expect(overlap(a, b), `${where}: "${a.text}" overlaps "${b.text}"`).toBe(false);
        }
        // the stages above each scenario's charts: names, segment labels and markers legible and apart
        const views = await lanesOf(tab);
        expect(views.map((v) => v.scenario)).toEqual(results.map((r) => r.name));
        for (const v of views) {
          const where = `${device} ${v.scenario} stages`;
          expectLegibleInside(v, where, device, width);
          for (const [i, a] of v.texts.entries())
            for (const b of v.texts.slice(i + 1))
              expect(overlap(a, b), `${where}: "${a.text}" overlaps "${b.text}"`).toBe(false);
          for (const lane of v.lanes) {
            for (const s of lane.segments)
              if (s.label) {
                // the label inside its segment
                expect(s.label.left, `${where} ${lane.stage}: "${s.label.text}"`).toBeGreaterThanOrEqual(
                  s.left,
                );
                expect(s.label.right, `${where} ${lane.stage}: "${s.label.text}"`).toBeLessThanOrEqual(
                  s.right,
                );
              }
            for (const [i, a] of lane.markers.entries())
              for (const b of lane.markers.slice(i + 1))
                expect(overlap(a.glyph, b.glyph), `${where} ${lane.stage}: "${a.text}" on "${b.text}"`).toBe(
                  false,
                );
          }
        }
        // the summary table and the page fit the screen
        const fit = (await tab.evaluate(`({
          table: document.querySelector('table.summary').getBoundingClientRect().right,
          page: document.documentElement.scrollWidth,
          screen: document.documentElement.clientWidth,
        })`)) as { table: number; page: number; screen: number };
        expect(fit.table).toBeLessThanOrEqual(fit.screen);
        expect(fit.page).toBeLessThanOrEqual(fit.screen);
        expect(problems).toEqual([]);
        await tab.screenshot({ path: resolve(OUT, `report-${device}.png`), fullPage: true });
      } finally {
        await tab.close();
      }
    });

    it(`at ${width} px (${device}): each chart shows why the rollout ended`, async () => {
      const { tab } = await open(width);
      try {
        const charts = await chartsOf(tab);

        // the shadow phase: the candidate's lines while it answered copies, the failed verdict
        const shadow = find(charts, 'shadow-regression', 'shadow-model-prod');
        expect(shadow.count['g.band.shadow']).toBe(1);
        expect(shadow.count['polyline.weight.candidate.shadow']).toBeGreaterThan(0);
        expect(shadow.count['.rate.candidate.shadow']).toBeGreaterThan(0);
        expect(shadow.count['g.verdict.failed']).toBe(1);
        expect(Object.keys(shadow.decisionX)).toEqual(
          expect.arrayContaining(['v2 Shadow', 'v2 RollingBack', 'v2 RolledBack']),
        );
        // the 5XX comparison fired: its evidence rose from below its limit to at or above it
        const errors = shadow.evidence.find((e) => e.test === 'errors')!;
        expect(errors.firstY).toBeGreaterThan(errors.limitY);
        expect(errors.lastY).toBeLessThanOrEqual(errors.limitY);
        expect(shadow.judged).toEqual([
          expect.stringMatching(
            /^v2 shadow phase: “5XX above the baseline’s” test at [\d,]+:1, limit 794:1: the limit was reached → rolled back$/,
          ),
        ]);

        // latency decided: a latency panel with the tolerated line, the latency test against its limit
        const latency = find(charts, 'latency-regression', 'churn-model-prod');
        expect(latency.count['polyline.latency.candidate']).toBeGreaterThan(0);
        expect(latency.count['polyline.latency.baseline']).toBeGreaterThan(0);
        expect(latency.count['polyline.tolerated']).toBeGreaterThan(0);
        const slower = latency.evidence.find((e) => e.test === 'latency')!;
        expect(slower.firstY).toBeGreaterThan(slower.limitY);
        expect(slower.lastY).toBeLessThanOrEqual(slower.limitY);
        expect(latency.judged.join()).toMatch(
          /“slower than tolerated” test at [\d,]+:1, limit 400:1: the limit was reached → rolled back/,
        );
        // its first bake was extended: shaded and labelled as such, not drawn as a pass
        expect(latency.count['g.extension']).toBe(1);
        expect(latency.labels.filter((l) => l.kind === 'extension-label').map((l) => l.text)).toEqual([
          'bake extended 1/2',
        ]);
        expect(latency.count['g.verdict.extended']).toBe(1);
        expect(latency.count['g.verdict.passed']).toBe(0);
        expect(latency.count['g.verdict.failed']).toBe(1);
        expect(latency.count['polyline.weight.candidate']).toBeGreaterThan(0);
        expect(latency.count['polyline.weight.baseline']).toBeGreaterThan(0);
        expect(latency.statuses).toEqual(expect.arrayContaining(['Creating', 'InService', 'Updating']));

        // the alarm as a span with its name, in ALARM when the rollback began
        const alarm = find(charts, 'alarm-rollback', 'churn-model-prod');
        expect(alarm.alarms.map((a) => a.name)).toEqual(['churn-model-prod-business-kpi']);
        const rollingBack = alarm.decisionX['v2 RollingBack']!;
        expect(alarm.alarms[0]!.x0).toBeLessThanOrEqual(rollingBack);
        expect(alarm.alarms[0]!.x1).toBeGreaterThan(rollingBack);
        expect(alarm.judged.join()).toMatch(
          /alarm churn-model-prod-business-kpi in ALARM → rolled back \(no test reached its limit/,
        );

        // the pipeline was stopped while QA was being created: no weight is drawn before it served
        const stopped = find(charts, 'pipeline-stopped', 'churn-model-qa');
        expect(stopped.statuses).toEqual(['Creating', 'InService']);
        // points are written to 0.1 of a unit
        expect(stopped.firstWeightX).toBeGreaterThanOrEqual(stopped.inServiceX - 0.05);
        expect(Object.keys(stopped.decisionX)).toEqual(expect.arrayContaining(['v1 Aborted']));
      } finally {
        await tab.close();
      }
    });

    it(`at ${width} px (${device}): the stages show what each endpoint served, and QA's restore`, async () => {
      const { tab } = await open(width);
      try {
        const view = (await lanesOf(tab)).find((v) => v.scenario === 'earlier-stages-rollback')!;
        expect(view).toBeDefined();
        // markers in time order (they are drawn upper rows first)
        const [qa, prod] = view.lanes.map((l) => ({
          ...l,
          markers: [...l.markers].sort((a, b) => a.x - b.x),
        }));
        expect(view.lanes.map((l) => [l.stage, l.name])).toEqual([
          ['qa', 'qa · churn-model-qa'],
          ['prod', 'prod · churn-model-prod'],
        ]);
        expect(qa!.top).toBeLessThan(prod!.top);
        // QA served v1, then v2, then v1 again once prod rolled v2 back; prod served v2 only as the
        // canary's 10 %, then v1 alone (each segment's title says what it served; its label, where
        // it fits, too: QA's last minute is too short for one on a phone)
        const served = (lane: typeof qa) =>
          lane!.segments.map((s) => /: (.*) \(endpoint \w+\)$/.exec(s.title)?.[1]);
        expect(served(qa)).toEqual(['v1 100%', 'v2 100%', 'v1 100%']);
        expect(served(prod)).toEqual(['v1 100%', 'v1 90%, v2 10%', 'v1 100%']);
        expect(qa!.segments.map((s) => s.label?.text)).toEqual([
          'v1',
          'v2',
          device === 'phone' ? undefined : 'v1',
        ]);
        expect(qa!.markers.map((m) => m.text)).toEqual(['v1 promoted', 'v2 promoted', 'v1 restored']);
        expect(prod!.segments.map((s) => s.label?.text)).toEqual([
          'v1',
          device === 'phone' ? 'v2 10%' : 'v1 90% · v2 10%',
          'v1',
        ]);
        expect(prod!.markers.map((m) => m.text)).toEqual(['v1 promoted', 'v2 rolled back']);
        expect(prod!.markers[1]!.title).toMatch(
          /^\d\d:\d\d:\d\d v2 rolled back in prod \(us-east-1\), churn-model:v2: .*gate failed/,
        );
        // each moment on the shared time axis: the restore once prod had gone back to v1, where QA's v1 began
        const restored = qa!.markers[2]!;
        expect(restored.x).toBeGreaterThanOrEqual(prod!.segments[2]!.left - 1);
        expect(Math.abs(restored.x - qa!.segments[2]!.left)).toBeLessThanOrEqual(1);
        expect(prod!.markers[1]!.x).toBeGreaterThanOrEqual(prod!.segments[2]!.left - 1);
      } finally {
        await tab.close();
      }
    });
  }
});
