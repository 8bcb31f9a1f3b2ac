import {
  flaggerThresholdJudge,
  guardrailsAlarmJudge,
  kayentaMannWhitneyJudge,
  previousThresholdsJudge,
  projectJudge,
} from './judges';
import { type BenchJudge, type Cell, runRollout } from './simulate';
import { TRAFFIC_MODELS, type TrafficModel } from './traffic';

export interface JudgeCellResult {
  judge: string;
  rpm: number;
  baselineErrorRate: number;
  candidateErrorRate: number;
  latencyFactor: number;
  /** shared incidents (nullModel `incidents`) */
  bursts: boolean;
  /** how 5XX arise in the cell (TRAFFIC_MODELS) */
  nullModel: TrafficModel;
  rollouts: number;
  /** share of rollouts rolled back on evidence (0..1) */
  rolledBack: number;
  /** share rolled back without a statistical verdict (no data after the extensions), counted apart */
  rolledBackNoData: number;
  /** null when none was rolled back */
  medianMinutesToRollback: number | null;
  /** mean expected 5XX served by the candidate above the baseline's rate, per rollout, to the horizon */
  excessErrorsServed: number;
}

/** The regression grid: independent errors and shared incidents, every candidate. */
export const RPMS = [30, 300, 3000, 30000];
export const BASELINE_RATES = [0.001, 0.01];
/** [errorFactor, latencyFactor] */
export const CANDIDATES: Array<[number, number]> = [
  [1, 1],
  [1.5, 1],
  [2, 1],
  [5, 1],
  [1, 1.2],
  [1, 1.5],
];
/** The null family: healthy candidates under every traffic model. */
export const NULL_RPMS = [10, 300, 1000, 3000, 10000, 30000];
/** Power where the minutes vary: 2x and 5x under overdispersion and clusters. */
export const OVERDISPERSED_RPMS = [300, 3000, 30000];
export const OVERDISPERSED_MODELS: TrafficModel[] = ['beta-cv0.5', 'beta-cv1', 'clusters-both'];

export type CellKind = 'regression' | 'null' | 'overdispersed';

export interface KindedCell extends Cell {
  kind: CellKind;
}

export const cellKey = (c: Cell): string =>
  `${c.rpm}|${c.baselineErrorRate}|${c.errorFactor}|${c.latencyFactor}|${c.traffic}`;

export const cells = (): KindedCell[] => {
  const all: KindedCell[] = [];
  const seen = new Set<string>();
  const add = (cell: Cell, kind: CellKind) => {
    if (seen.has(cellKey(cell))) return;
    seen.add(cellKey(cell));
    all.push({ ...cell, kind });
  };
  for (const rpm of NULL_RPMS)
    for (const baselineErrorRate of BASELINE_RATES)
      for (const traffic of TRAFFIC_MODELS)
        add({ rpm, baselineErrorRate, errorFactor: 1, latencyFactor: 1, traffic }, 'null');
  for (const rpm of RPMS)
    for (const baselineErrorRate of BASELINE_RATES)
      for (const [errorFactor, latencyFactor] of CANDIDATES)
        for (const traffic of ['independent', 'incidents'] as const)
          add({ rpm, baselineErrorRate, errorFactor, latencyFactor, traffic }, 'regression');
  for (const rpm of OVERDISPERSED_RPMS)
    for (const baselineErrorRate of BASELINE_RATES)
      for (const errorFactor of [2, 5])
        for (const traffic of OVERDISPERSED_MODELS)
          add({ rpm, baselineErrorRate, errorFactor, latencyFactor: 1, traffic }, 'overdispersed');
  return all;
};

/** The gates of the example config's churn-model canary (rollouts.config.yml): a 2 % ceiling. */
export const EXAMPLE_GATES = { maxErrorRate: 0.02 } as const;

export const judgesFor = (cell: Cell): BenchJudge[] => [
  projectJudge(),
  projectJudge(EXAMPLE_GATES, 'project-example-gates'),
  // the exact tests alone (the judge before the robust tests): what robustness buys and costs
  projectJudge({}, 'project-exact-only', false),
  previousThresholdsJudge(),
  guardrailsAlarmJudge(cell.baselineErrorRate),
  flaggerThresholdJudge(cell.baselineErrorRate),
  kayentaMannWhitneyJudge(),
];

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** A cell's seed from its key alone, so a subset run reproduces the full run's numbers. */
export const cellSeed = (cell: Cell): number => {
  let h = 2166136261;
  for (const ch of cellKey(cell)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h % 1_000_000_007;
};

/** Every judge on the same seeds of one cell (seed i is rollout i's traffic for all judges). */
/** What names a judge's result on a cell (the fields a result's key and the tables read). */
export const cellIdentity = (
  cell: Cell,
  judge: string,
): Pick<
  JudgeCellResult,
  'judge' | 'rpm' | 'baselineErrorRate' | 'candidateErrorRate' | 'latencyFactor' | 'bursts' | 'nullModel'
> => ({
  judge,
  rpm: cell.rpm,
  baselineErrorRate: cell.baselineErrorRate,
  candidateErrorRate: cell.baselineErrorRate * cell.errorFactor,
  latencyFactor: cell.latencyFactor,
  bursts: cell.traffic === 'incidents',
  nullModel: cell.traffic,
});

export const runCell = (
  cell: Cell,
  rollouts: number,
  judgeFilter: (name: string) => boolean = () => true,
): JudgeCellResult[] => {
  const seedBase = cellSeed(cell);
  return judgesFor(cell)
    .filter((judge) => judgeFilter(judge.name))
    .map((judge) => {
      let rolledBack = 0;
      let gaveUp = 0;
      let excess = 0;
      const times: number[] = [];
      for (let i = 0; i < rollouts; i++) {
        const r = runRollout(cell, judge, seedBase + i * 7919);
        excess += r.excessErrors;
        if (r.gaveUp) gaveUp += 1;
        else if (r.rolledBack) {
          rolledBack += 1;
          times.push(r.minutes);
        }
      }
      return {
        ...cellIdentity(cell, judge.name),
        rollouts,
        rolledBack: rolledBack / rollouts,
        rolledBackNoData: gaveUp / rollouts,
        medianMinutesToRollback: median(times),
        excessErrorsServed: Math.round((excess / rollouts) * 10) / 10,
      };
    });
};
