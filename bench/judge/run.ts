import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CellKind,
  cellIdentity,
  cells,
  type JudgeCellResult,
  judgesFor,
  type KindedCell,
  runCell,
} from './benchmark';
import { detectionChart } from './chart';
import { checkTargets } from './targets';
import { TRAFFIC_MODELS } from './traffic';

export const ROLLOUTS_PER_CELL = 2000;

/** Which cells and judges to run; every field empty means all. */
export interface BenchSelection {
  rpms?: number[];
  baselineRates?: number[];
  models?: string[];
  kinds?: CellKind[];
  judges?: string[];
  errorFactors?: number[];
}

const selected = (cell: KindedCell, s: BenchSelection): boolean =>
  (!s.rpms?.length || s.rpms.includes(cell.rpm)) &&
  (!s.baselineRates?.length || s.baselineRates.includes(cell.baselineErrorRate)) &&
  (!s.models?.length || s.models.includes(cell.traffic)) &&
  (!s.kinds?.length || s.kinds.includes(cell.kind)) &&
  (!s.errorFactors?.length || s.errorFactors.includes(cell.errorFactor));

/** The selected cells x judges, the same seeds for all judges of a cell (and in every subset). */
export const judgeBenchmark = (
  rollouts = ROLLOUTS_PER_CELL,
  selection: BenchSelection = {},
): { cells: JudgeCellResult[]; seconds: number } => {
  const started = Date.now();
  const judgeFilter = (name: string) => !selection.judges?.length || selection.judges.includes(name);
  const results = cells()
    .filter((cell) => selected(cell, selection))
    .flatMap((cell) => runCell(cell, rollouts, judgeFilter));
  return { cells: results, seconds: Math.round((Date.now() - started) / 1000) };
};

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export const printJudgeTable = (results: JudgeCellResult[]): void => {
  console.log(
    'Canary judges (share rolled back on evidence [+ without a verdict] / median minutes to rollback / excess 5XX served)',
  );
  const keyOf = (c: JudgeCellResult) =>
    `${c.rpm} rpm, base ${pct(c.baselineErrorRate)}, cand ${pct(c.candidateErrorRate)}, lat x${c.latencyFactor}, ${c.nullModel}`;
  const rows: Record<string, Record<string, string>> = {};
  for (const c of results) {
    rows[keyOf(c)] ??= {};
    const noData = c.rolledBackNoData > 0 ? ` +${pct(c.rolledBackNoData)}` : '';
    rows[keyOf(c)]![c.judge] =
      `${pct(c.rolledBack)}${noData} ${c.medianMinutesToRollback ?? '-'}m ${Math.round(c.excessErrorsServed)}`;
  }
  console.table(rows);
  for (const t of checkTargets(results)) {
    console.log(`${t.met ? 'met' : 'NOT met'}: ${t.target}`);
    for (const miss of t.misses) console.log(`    ${miss}`);
  }
};

/** The full benchmark's judge-cells (every judge on every cell), by resultKey. */
const fullRunKeys = (): Set<string> =>
  new Set(
    cells().flatMap((cell) => judgesFor(cell).map((judge) => resultKey(cellIdentity(cell, judge.name)))),
  );

/** How many of the full benchmark's judge-cells `results` lack. */
export const missingFromFullRun = (results: JudgeCellResult[]): number => {
  const have = new Set(results.map(resultKey));
  return [...fullRunKeys()].filter((key) => !have.has(key)).length;
};

/**
 * Writes the chart for the README (docs/judge-detection.svg) when the results cover the full
 * benchmark; a subset run on a checkout without the full results leaves the README's chart as it
 * is. Returns what it did, in words.
 */
export const writeJudgeChart = (repo: string, results: JudgeCellResult[]): string => {
  const missing = missingFromFullRun(results);
  if (missing > 0)
    return `docs/judge-detection.svg left as it is: the merged results lack ${missing} judge-cells of the full benchmark`;
  mkdirSync(resolve(repo, 'docs'), { recursive: true });
  writeFileSync(resolve(repo, 'docs/judge-detection.svg'), detectionChart(results));
  return 'docs/judge-detection.svg written';
};

const resultKey = (
  c: Pick<
    JudgeCellResult,
    'judge' | 'rpm' | 'baselineErrorRate' | 'candidateErrorRate' | 'latencyFactor' | 'nullModel'
  >,
) => `${c.judge}|${c.rpm}|${c.baselineErrorRate}|${c.candidateErrorRate}|${c.latencyFactor}|${c.nullModel}`;

/** Earlier results with this run's cells replaced by the new ones (a subset run updates its rows). */
export const mergeResults = (earlier: JudgeCellResult[], fresh: JudgeCellResult[]): JudgeCellResult[] => {
  const freshKeys = new Set(fresh.map(resultKey));
  return [...earlier.filter((c) => c.nullModel !== undefined && !freshKeys.has(resultKey(c))), ...fresh];
};

const numbers = (xs: string[] | undefined) => (xs ?? []).flatMap((x) => x.split(',')).map(Number);
const words = (xs: string[] | undefined) => (xs ?? []).flatMap((x) => x.split(','));

/**
 * `tsx bench/judge/run.ts [--rollouts N] [--rpm 300,1000] [--rate 0.01] [--model beta-cv1]
 * [--kind null|regression|overdispersed] [--factor 2] [--judge project] [--out file]`: the judge
 * benchmark alone (or a subset of it, e.g. one row in seconds with `--rollouts 200`), merged into
 * .local/bench.json (or `--out`, relative to the repository).
 * A bare number as the first argument is the rollout count.
 */
export const parseBenchArgs = (
  argv: string[],
): { rollouts: number; selection: BenchSelection; out: string } => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rollouts: { type: 'string' },
      rpm: { type: 'string', multiple: true },
      rate: { type: 'string', multiple: true },
      model: { type: 'string', multiple: true },
      kind: { type: 'string', multiple: true },
      factor: { type: 'string', multiple: true },
      judge: { type: 'string', multiple: true },
      out: { type: 'string' },
    },
  });
  const rollouts = Number(values.rollouts ?? positionals[0] ?? ROLLOUTS_PER_CELL);
  if (!Number.isInteger(rollouts) || rollouts < 1)
    throw new Error(`--rollouts must be a positive integer, got ${values.rollouts ?? positionals[0]}`);
  const selection: BenchSelection = {
    rpms: numbers(values.rpm),
    baselineRates: numbers(values.rate),
    models: words(values.model),
    kinds: words(values.kind) as CellKind[],
    errorFactors: numbers(values.factor),
    judges: words(values.judge),
  };
  for (const m of selection.models ?? [])
    if (!(TRAFFIC_MODELS as readonly string[]).includes(m))
      throw new Error(`--model ${m} is not one of ${TRAFFIC_MODELS.join(', ')}`);
  for (const k of selection.kinds ?? [])
    if (!['null', 'regression', 'overdispersed'].includes(k))
      throw new Error(`--kind ${k} is not one of null, regression, overdispersed`);
  for (const x of [
    ...(selection.rpms ?? []),
    ...(selection.baselineRates ?? []),
    ...(selection.errorFactors ?? []),
  ])
    if (!Number.isFinite(x)) throw new Error('--rpm, --rate and --factor take numbers (comma-separated)');
  return { rollouts, selection, out: values.out ?? '.local/bench.json' };
};

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const repo = resolve(new URL('../..', import.meta.url).pathname);
  const { rollouts, selection, out } = parseBenchArgs(process.argv.slice(2));
  const judge = judgeBenchmark(rollouts, selection);
  printJudgeTable(judge.cells);
  const path = resolve(repo, out);
  let existing: Record<string, unknown> = {};
  try {
    existing = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // no earlier results
  }
  const earlier = ((existing.judge as { cells?: JudgeCellResult[] } | undefined)?.cells ??
    []) as JudgeCellResult[];
  const merged = mergeResults(earlier, judge.cells);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    `${JSON.stringify({ ...existing, judge: { rolloutsPerCell: rollouts, seconds: judge.seconds, cells: merged } }, null, 2)}\n`,
  );
  const chart = writeJudgeChart(repo, merged);
  console.log(
    `judge benchmark: ${judge.cells.length} judge-cells at ${rollouts} rollouts in ${judge.seconds} s; merged into ${out} (${merged.length} judge-cells); ${chart}`,
  );
}
