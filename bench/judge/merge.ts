import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JudgeCellResult } from './benchmark';
import { mergeResults, writeJudgeChart } from './run';

/**
 * `tsx bench/judge/merge.ts a.json b.json ...`: merges the judge cells of benchmark runs made in
 * parallel (each with `--out`) into .local/bench.json, replacing its judge cells (later files win), and
 * redraws the chart.
 */
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const repo = resolve(new URL('../..', import.meta.url).pathname);
  const target = resolve(repo, '.local/bench.json');
  const read = (path: string): Record<string, unknown> =>
    JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const cellsOf = (file: Record<string, unknown>): JudgeCellResult[] =>
    ((file.judge as { cells?: JudgeCellResult[] } | undefined)?.cells ?? []) as JudgeCellResult[];
  let existing: Record<string, unknown> = {};
  try {
    existing = read(target);
  } catch {
    // no earlier results
  }
  let cells: JudgeCellResult[] = [];
  for (const path of process.argv.slice(2)) cells = mergeResults(cells, cellsOf(read(resolve(repo, path))));
  const rollouts = [...new Set(cells.map((c) => c.rollouts))].sort((a, b) => a - b);
  writeFileSync(
    target,
    `${JSON.stringify({ ...existing, judge: { rolloutsPerCell: rollouts, cells } }, null, 2)}\n`,
  );
  const chart = writeJudgeChart(repo, cells);
  console.log(
    `merged ${process.argv.length - 2} files: ${cells.length} judge-cells in .local/bench.json; ${chart}`,
  );
}
