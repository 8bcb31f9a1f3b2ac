import {
  flaggerThresholdJudge,
  guardrailsAlarmJudge,
  kayentaMannWhitneyJudge,
  previousThresholdsJudge,
  projectJudge,
} from './judges';
import { type BenchJudge, type Cell, runRollout } from './simulate';

export interface JudgeCellResult {
  judge: string;
  rpm: number;
  baselineErrorRate: number;
  candidateErrorRate: number;
  latencyFactor: number;
  bursts: boolean;
  rollouts: number;
  /** share of rollouts rolled back (0..1) */
  rolledBack: number;
  /** null when none was rolled back */
  medianMinutesToRollback: number | null;
  /** mean expected 5XX served by the candidate above the baseline's rate, per rollout, to the horizon */
  excessErrorsServed: number;
}

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

export const cells = (): Cell[] =>
  RPMS.flatMap((rpm) =>
    BASELINE_RATES.flatMap((baselineErrorRate) =>
      CANDIDATES.flatMap(([errorFactor, latencyFactor]) =>
        [false, true].map((bursts) => ({ rpm, baselineErrorRate, errorFactor, latencyFactor, bursts })),
      ),
    ),
  );

export const judgesFor = (cell: Cell): BenchJudge[] => [
  projectJudge(),
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

/** Every judge on the same seeds of one cell (seed i is rollout i's traffic for all judges). */
export const runCell = (cell: Cell, rollouts: number, seedBase = 1): JudgeCellResult[] =>
  judgesFor(cell).map((judge) => {
    let rolledBack = 0;
    let excess = 0;
    const times: number[] = [];
    for (let i = 0; i < rollouts; i++) {
      const r = runRollout(cell, judge, seedBase + i * 7919);
      excess += r.excessErrors;
      if (r.rolledBack) {
        rolledBack += 1;
        times.push(r.minutes);
      }
    }
    return {
      judge: judge.name,
      rpm: cell.rpm,
      baselineErrorRate: cell.baselineErrorRate,
      candidateErrorRate: cell.baselineErrorRate * cell.errorFactor,
      latencyFactor: cell.latencyFactor,
      bursts: cell.bursts,
      rollouts,
      rolledBack: rolledBack / rollouts,
      medianMinutesToRollback: median(times),
      excessErrorsServed: Math.round((excess / rollouts) * 10) / 10,
    };
  });
