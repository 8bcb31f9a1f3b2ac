import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JudgeCellResult } from './benchmark';
import { TRAFFIC_MODELS } from './traffic';

/** The README's judge tables, from the cells of .local/bench.json (`npx tsx bench/judge/tables.ts`). */

export const JUDGE_ORDER = [
  'project',
  'project-example-gates',
  'project-exact-only',
  'previous-thresholds',
  'guardrails-alarm',
  'flagger-threshold',
  'kayenta-mann-whitney',
];

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const rpmText = (rpm: number) => rpm.toLocaleString('en-US');
const rateText = (r: number) => `${r * 100} %`;

const find = (
  cells: JudgeCellResult[],
  judge: string,
  rpm: number,
  baseline: number,
  factor: number,
  model: string,
  latency = 1,
) =>
  cells.find(
    (c) =>
      c.judge === judge &&
      c.rpm === rpm &&
      c.baselineErrorRate === baseline &&
      Math.abs(c.candidateErrorRate - baseline * factor) < 1e-12 &&
      c.latencyFactor === latency &&
      c.nullModel === model,
  );

const judgesIn = (cells: JudgeCellResult[]) => JUDGE_ORDER.filter((j) => cells.some((c) => c.judge === j));

/** Healthy candidates, every traffic model: share rolled back on evidence (+ without a verdict). */
export const nullTable = (cells: JudgeCellResult[]): string => {
  const judges = judgesIn(cells);
  const rows = [
    `| traffic model | rpm | baseline 5XX | ${judges.join(' | ')} |`,
    `|---|---|---|${judges.map(() => '---|').join('')}`,
  ];
  for (const model of TRAFFIC_MODELS) {
    const rpms = [...new Set(cells.filter((c) => c.nullModel === model).map((c) => c.rpm))].sort(
      (a, b) => a - b,
    );
    for (const rpm of rpms) {
      for (const baseline of [0.001, 0.01]) {
        const row = judges.map((j) => {
          const c = find(cells, j, rpm, baseline, 1, model);
          if (!c) return '';
          return c.rolledBackNoData > 0
            ? `${pct(c.rolledBack)} (+${pct(c.rolledBackNoData)} no data)`
            : pct(c.rolledBack);
        });
        if (row.every((x) => x === '')) continue;
        rows.push(`| ${model} | ${rpmText(rpm)} | ${rateText(baseline)} | ${row.join(' | ')} |`);
      }
    }
  }
  return rows.join('\n');
};

/** The worst healthy cell of each traffic model, per judge: what each model does to each judge. */
export const modelTable = (cells: JudgeCellResult[]): string => {
  const judges = judgesIn(cells);
  const rows = [
    `| traffic model (healthy candidate) | ${judges.join(' | ')} |`,
    `|---|${judges.map(() => '---|').join('')}`,
  ];
  for (const model of TRAFFIC_MODELS) {
    const row = judges.map((j) => {
      const healthy = cells.filter(
        (c) =>
          c.judge === j &&
          c.nullModel === model &&
          c.candidateErrorRate === c.baselineErrorRate &&
          c.latencyFactor === 1,
      );
      if (healthy.length === 0) return '';
      const worst = healthy.reduce((a, b) => (b.rolledBack > a.rolledBack ? b : a));
      return `${pct(worst.rolledBack)} (${rpmText(worst.rpm)} rpm, ${rateText(worst.baselineErrorRate)})`;
    });
    rows.push(`| ${model} | ${row.join(' | ')} |`);
  }
  return rows.join('\n');
};

/**
 * Healthy candidates a judge rolls back in the healthy cell matching a regression's (same rpm,
 * baseline and traffic model), on evidence or for want of data: what its excess 5XX is bought with.
 */
export const healthyRolledBack = (
  cells: JudgeCellResult[],
  judge: string,
  c: Pick<JudgeCellResult, 'rpm' | 'baselineErrorRate' | 'nullModel'>,
): number | null => {
  const h = find(cells, judge, c.rpm, c.baselineErrorRate, 1, c.nullModel);
  return h ? h.rolledBack + h.rolledBackNoData : null;
};

/**
 * Regressions: share rolled back / median minutes / excess 5XX, per traffic model, and in brackets
 * the share of healthy candidates the judge rolls back in the matching healthy cell.
 */
export const regressionTable = (
  cells: JudgeCellResult[],
  factor: number,
  models: readonly string[],
): string => {
  const judges = judgesIn(cells);
  const rows = [
    `| traffic model | rpm | baseline 5XX | ${judges.join(' | ')} |`,
    `|---|---|---|${judges.map(() => '---|').join('')}`,
  ];
  for (const model of models) {
    const rpms = [
      ...new Set(
        cells
          .filter((c) => c.nullModel === model && c.candidateErrorRate > c.baselineErrorRate)
          .map((c) => c.rpm),
      ),
    ].sort((a, b) => a - b);
    for (const rpm of rpms) {
      for (const baseline of [0.001, 0.01]) {
        const row = judges.map((j) => {
          const c = find(cells, j, rpm, baseline, factor, model);
          if (!c) return '';
          const healthy = healthyRolledBack(cells, j, c);
          const falseRate = healthy === null ? '' : ` (${pct(healthy)})`;
          return `${pct(c.rolledBack)} / ${c.medianMinutesToRollback ?? '-'} min / ${Math.round(c.excessErrorsServed)}${falseRate}`;
        });
        if (row.every((x) => x === '')) continue;
        rows.push(`| ${model} | ${rpmText(rpm)} | ${rateText(baseline)} | ${row.join(' | ')} |`);
      }
    }
  }
  return rows.join('\n');
};

/** Rollouts behind the cells: the smallest and largest count. */
export const rolloutCounts = (cells: JudgeCellResult[]): string => {
  const counts = [...new Set(cells.map((c) => c.rollouts))].sort((a, b) => a - b);
  return counts.join(' / ');
};

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const repo = resolve(new URL('../..', import.meta.url).pathname);
  const file = resolve(repo, process.argv[2] ?? '.local/bench.json');
  if (!existsSync(file)) {
    console.error(
      `no benchmark results at ${file}: run \`npx tsx bench/judge/run.ts\` first (or name a results file)`,
    );
    process.exit(2);
  }
  const cells = (
    JSON.parse(readFileSync(file, 'utf8')) as { judge: { cells: JudgeCellResult[] } }
  ).judge.cells.filter((c) => c.nullModel !== undefined);
  const nulls = cells.filter((c) => c.candidateErrorRate === c.baselineErrorRate && c.latencyFactor === 1);
  console.log(
    `rollouts per cell: ${rolloutCounts(nulls)} (healthy), ${rolloutCounts(cells.filter((c) => !nulls.includes(c)))} (regressions)\n`,
  );
  console.log('### What each traffic model does to each judge (worst healthy cell)\n');
  console.log(modelTable(nulls));
  console.log('\n### Healthy candidates, every cell\n');
  console.log(nullTable(nulls));
  for (const factor of [2, 5]) {
    console.log(
      `\n### ${factor}x 5XX: rolled back / median minutes / excess 5XX (healthy candidates rolled back in the matching cell)\n`,
    );
    console.log(
      regressionTable(cells, factor, ['independent', 'incidents', 'beta-cv0.5', 'beta-cv1', 'clusters-both']),
    );
  }
}
