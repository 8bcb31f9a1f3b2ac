import { canaryGatesSchema, type GateConfig } from '../../../src/config/schema';
import { emptyTally, evidenceFrom, type Tally, tallyMinute } from '../../../src/domain/judge';
import { nearestRank } from '../../../src/domain/judge/latency-order';

/**
 * Canaries simulated request by request for the latency test alone: per minute, Poisson requests
 * split by the step's weight, each request's latency heavy-tailed (log-normal, and 1 % of requests
 * 10x slower), the minute's statistic computed as CloudWatch reports a percentile (nearest rank),
 * and the latency evidence checked after every minute, as the tick does.
 */

export interface LatencyCell {
  rpm: number;
  /** log-space spread of the log-normal */
  sigma: number;
  /** candidate latency multiplier: 1 for the null (same distribution), 1.5 or 2 for a regression */
  slowdown: number;
  statistic: GateConfig['latencyStatistic'];
  maxLatencyRatio: number;
  /** candidate weight (percent) and minutes per step */
  steps: Array<{ weight: number; minutes: number }>;
  /** how the simulated CloudWatch computes a percentile (default: nearest rank) */
  percentile?: PercentileDefinition;
}

/** The example config's churn-model steps: 10 / 25 / 50 % for 15 / 15 / 30 minutes. */
export const EXAMPLE_STEPS = [
  { weight: 10, minutes: 15 },
  { weight: 25, minutes: 15 },
  { weight: 50, minutes: 30 },
];

/** mulberry32: small, seeded, good enough for Monte Carlo. */
const seeded = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const normal = (random: () => number): number => {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
};

const poisson = (random: () => number, mean: number): number => {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
};

/**
 * How the simulated CloudWatch turns a minute's sorted latencies into a percentile: the nearest
 * rank (the judge's assumption), or linear interpolation between order statistics (R-7, as
 * numpy's default), to see what the judge does if CloudWatch interpolated.
 */
export type PercentileDefinition = 'nearest-rank' | 'interpolated';

const percentileOf = (
  sorted: Float64Array,
  statistic: GateConfig['latencyStatistic'],
  definition: PercentileDefinition,
): number => {
  const n = sorted.length;
  if (statistic === 'Maximum') return sorted[n - 1]!;
  if (definition === 'nearest-rank') return sorted[nearestRank(statistic, n) - 1]!;
  const h = ((n - 1) * Number(statistic.slice(1))) / 100;
  const below = Math.floor(h);
  const above = Math.min(n - 1, below + 1);
  return sorted[below]! + (h - below) * (sorted[above]! - sorted[below]!);
};

/** One minute's statistic over n requests, each log-normal and 1 % of them 10x slower. */
const minuteStatistic = (random: () => number, n: number, scale: number, cell: LatencyCell): number => {
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const tail = random() < 0.01 ? 10 : 1;
    values[i] = scale * 50 * Math.exp(cell.sigma * normal(random)) * tail;
  }
  values.sort();
  return percentileOf(values, cell.statistic, cell.percentile ?? 'nearest-rank');
};

/** Whether one simulated canary's latency test ever reaches its limit. */
const latencyRollsBack = (cell: LatencyCell, gates: GateConfig, random: () => number): boolean => {
  const tally: Tally = emptyTally(gates);
  const limit = evidenceFrom(tally, gates).latencyLimit;
  let at = 0;
  for (const step of cell.steps) {
    for (let minute = 0; minute < step.minutes; minute++, at += 60_000) {
      const nc = poisson(random, (cell.rpm * step.weight) / 100);
      const nb = poisson(random, (cell.rpm * (100 - step.weight)) / 100);
      const latency = (n: number, scale: number) => (n > 0 ? minuteStatistic(random, n, scale, cell) : null);
      tallyMinute(
        tally,
        { at, invocations: nc, errors5xx: 0, latencyMs: latency(nc, cell.slowdown) },
        { at, invocations: nb, errors5xx: 0, latencyMs: latency(nb, 1) },
        gates,
      );
      if (evidenceFrom(tally, gates).latency >= limit) return true;
    }
  }
  return false;
};

export interface CellResult {
  rollouts: number;
  rolledBack: number;
  rate: number;
}

/** Share of `rollouts` simulated canaries the latency test rolls back (seeded: reproducible). */
export const simulateLatencyCell = (cell: LatencyCell, rollouts: number, seed = 1): CellResult => {
  const gates = canaryGatesSchema.parse({
    latencyStatistic: cell.statistic,
    maxLatencyRatio: cell.maxLatencyRatio,
  });
  const random = seeded(seed * 7919 + cell.rpm);
  let rolledBack = 0;
  for (let i = 0; i < rollouts; i++) if (latencyRollsBack(cell, gates, random)) rolledBack++;
  return { rollouts, rolledBack, rate: rolledBack / rollouts };
};
