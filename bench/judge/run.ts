import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cells, type JudgeCellResult, runCell } from './benchmark';
import { detectionChart } from './chart';
import { checkTargets } from './targets';

export const ROLLOUTS_PER_CELL = 2000;

/** Every cell x every judge, the same seeds for all judges of a cell. */
export const judgeBenchmark = (
  rollouts = ROLLOUTS_PER_CELL,
): { cells: JudgeCellResult[]; seconds: number } => {
  const started = Date.now();
  const results = cells().flatMap((cell, i) => runCell(cell, rollouts, 1 + i * 1_000_003));
  return { cells: results, seconds: Math.round((Date.now() - started) / 1000) };
};

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export const printJudgeTable = (results: JudgeCellResult[]): void => {
  console.log('Canary judges (share rolled back / median minutes to rollback / excess 5XX served)');
  const keyOf = (c: JudgeCellResult) =>
    `${c.rpm} rpm, base ${pct(c.baselineErrorRate)}, cand ${pct(c.candidateErrorRate)}, lat x${c.latencyFactor}${c.bursts ? ', bursts' : ''}`;
  const rows: Record<string, Record<string, string>> = {};
  for (const c of results) {
    rows[keyOf(c)] ??= {};
    rows[keyOf(c)]![c.judge] =
      `${pct(c.rolledBack)} ${c.medianMinutesToRollback ?? '-'}m ${Math.round(c.excessErrorsServed)}`;
  }
  console.table(rows);
  for (const t of checkTargets(results)) {
    console.log(`${t.met ? 'met' : 'NOT met'}: ${t.target}`);
    for (const miss of t.misses) console.log(`    ${miss}`);
  }
};

/** Writes the chart for the README (docs/judge-detection.svg). */
export const writeJudgeChart = (repo: string, results: JudgeCellResult[]): void => {
  mkdirSync(resolve(repo, 'docs'), { recursive: true });
  writeFileSync(resolve(repo, 'docs/judge-detection.svg'), detectionChart(results));
};

// `tsx bench/judge/run.ts [rollouts]`: the judge benchmark alone, merged into .local/bench.json.
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const repo = resolve(new URL('../..', import.meta.url).pathname);
  const rollouts = Number(process.argv[2] ?? ROLLOUTS_PER_CELL);
  const judge = judgeBenchmark(rollouts);
  printJudgeTable(judge.cells);
  const path = resolve(repo, '.local/bench.json');
  let existing: Record<string, unknown> = {};
  try {
    existing = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // no earlier results
  }
  mkdirSync(resolve(repo, '.local'), { recursive: true });
  writeFileSync(
    path,
    `${JSON.stringify({ ...existing, judge: { rolloutsPerCell: rollouts, ...judge } }, null, 2)}\n`,
  );
  writeJudgeChart(repo, judge.cells);
  console.log(
    `judge benchmark: ${judge.cells.length} judge-cells in ${judge.seconds} s; wrote .local/bench.json and docs/judge-detection.svg`,
  );
}
