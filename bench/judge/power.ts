import { resolve } from 'node:path';
import { binomial, mulberry32, poisson } from '../../src/local/cloud/samplers';

/**
 * The most any test can detect on the data a canary sees. Neyman-Pearson tests with every rate
 * known, at a false-rollback rate alpha, against the regression to catch: if even they miss a
 * target, no judge can meet it.
 */

/** One step of the canary: expected requests per variant over its bake. */
export interface StepCounts {
  candidateRequests: number;
  baselineRequests: number;
}

/** Expected requests per step: rpm x minutes, split by the step's weight. */
export const stepCounts = (rpm: number, weights: readonly number[], bakeMinutes: number): StepCounts[] =>
  weights.map((w) => ({
    candidateRequests: rpm * bakeMinutes * (w / 100),
    baselineRequests: rpm * bakeMinutes * (1 - w / 100),
  }));

const poissonPmf = (mean: number, k: number): number => {
  let logP = -mean + k * Math.log(mean);
  for (let i = 2; i <= k; i++) logP -= Math.log(i);
  return Math.exp(logP);
};

/**
 * Power of the randomized Neyman-Pearson test of "candidate 5XX count ~ Poisson(n r)" against
 * Poisson(n r factor), size exactly alpha: the oracle that knows the baseline's rate r, for which the
 * candidate's count is all the evidence there is. An upper bound on the power of every test whose
 * false-rollback rate is at most alpha when the candidate equals the baseline.
 */
export const oraclePower = (
  candidateRequests: number,
  baselineErrorRate: number,
  factor: number,
  alpha: number,
): number => {
  const null0 = candidateRequests * baselineErrorRate;
  const alt = null0 * factor;
  // reject for large counts: find k with P0(X > k) <= alpha < P0(X >= k), randomize at k
  let tail = 1;
  let k = 0;
  while (tail - poissonPmf(null0, k) > alpha) {
    tail -= poissonPmf(null0, k);
    k += 1;
  }
  const above = tail - poissonPmf(null0, k);
  const gamma = (alpha - above) / poissonPmf(null0, k);
  let altAbove = 1;
  for (let i = 0; i <= k; i++) altAbove -= poissonPmf(alt, i);
  return altAbove + gamma * poissonPmf(alt, k);
};

/**
 * Power of the randomized Neyman-Pearson test on the conditional binomial (what the judge's error
 * test sees): given each step's 5XX total E_s, the candidate's share of them is Binomial(E_s, q_s)
 * with q_s = theta p_s / (theta p_s + 1 - p_s), p_s the candidate's share of the step's requests;
 * theta = 1 against theta = factor, size exactly alpha for every E. Monte Carlo over E and the
 * candidate's share under the regression, `runs` canaries; the test for each E is exact.
 */
export const conditionalPower = (
  steps: readonly StepCounts[],
  baselineErrorRate: number,
  factor: number,
  alpha: number,
  runs: number,
  seed = 1,
): number => {
  const u = mulberry32(seed);
  const p = steps.map((s) => s.candidateRequests / (s.candidateRequests + s.baselineRequests));
  const q1 = p.map((x) => (factor * x) / (factor * x + 1 - x));
  const logRatio = p.map((x, i) => [Math.log(q1[i]! / x), Math.log((1 - q1[i]!) / (1 - x))] as const);
  const cache = new Map<string, (score: number) => number>();
  let power = 0;
  for (let r = 0; r < runs; r++) {
    const totals = steps.map((s) =>
      poisson(u, s.candidateRequests * baselineErrorRate * factor + s.baselineRequests * baselineErrorRate),
    );
    const candidate = totals.map((e, i) => binomial(u, e, q1[i]!));
    const key = totals.join(',');
    let rejects = cache.get(key);
    if (!rejects) {
      rejects = exactRejection(totals, p, logRatio, alpha);
      cache.set(key, rejects);
    }
    const score = candidate.reduce(
      (s, x, i) => s + x * logRatio[i]![0] + (totals[i]! - x) * logRatio[i]![1],
      0,
    );
    power += rejects(score);
  }
  return power / runs;
};

/** The exact size-alpha randomized NP rejection probability as a function of the log LR, given E per step. */
const exactRejection = (
  totals: readonly number[],
  p: readonly number[],
  logRatio: ReadonlyArray<readonly [number, number]>,
  alpha: number,
): ((score: number) => number) => {
  // null distribution of the log likelihood ratio: convolution over steps of Binomial(E_s, p_s)
  let dist = new Map<number, number>([[0, 1]]);
  totals.forEach((e, i) => {
    const next = new Map<number, number>();
    let pmf = (1 - p[i]!) ** e;
    for (let x = 0; x <= e; x++) {
      const add = x * logRatio[i]![0] + (e - x) * logRatio[i]![1];
      for (const [s, prob] of dist) {
        const key = Math.round((s + add) * 1e9) / 1e9;
        next.set(key, (next.get(key) ?? 0) + prob * pmf);
      }
      pmf *= ((e - x) / (x + 1)) * (p[i]! / (1 - p[i]!));
    }
    dist = next;
  });
  const scores = [...dist.entries()].sort((a, b) => b[0] - a[0]);
  let tail = 0;
  for (const [score, prob] of scores) {
    if (tail + prob > alpha) {
      const gamma = (alpha - tail) / prob;
      return (s) => (s > score + 1e-9 ? 1 : Math.abs(s - score) <= 1e-9 ? gamma : 0);
    }
    tail += prob;
  }
  return () => 1;
};

// `tsx bench/judge/power.ts`: the 2x-at-300-rpm cell and what would make it feasible.
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const alpha = 0.01;
  const runs = 200_000;
  const weights = [10, 25, 50];
  const row = (label: string, rpm: number, bake: number, extraMinutesAt50 = 0) => {
    const steps = stepCounts(rpm, weights, bake);
    if (extraMinutesAt50 > 0) steps.push(...stepCounts(rpm, [50], extraMinutesAt50));
    const n = steps.reduce((s, x) => s + x.candidateRequests, 0);
    const oracle = oraclePower(n, 0.001, 2, alpha);
    const conditional = conditionalPower(steps, 0.001, 2, alpha, runs);
    console.log(
      `${label}: candidate requests ${n}, oracle ${(oracle * 100).toFixed(1)} %, conditional ${(conditional * 100).toFixed(1)} % (${runs} runs)`,
    );
  };
  row('300 rpm, 10-minute bakes', 300, 10);
  row('300 rpm, 10-minute bakes + 3 extensions at 50 %', 300, 10, 30);
  row('300 rpm, 10-minute bakes + 3 extensions at each step', 300, 40);
  // the counts depend on rpm x bake only: 3,000 rpm with 10-minute bakes is 300 rpm with 100-minute bakes
  for (const rpm of [1000, 2000, 3000, 4000, 5000]) row(`${rpm} rpm, 10-minute bakes`, rpm, 10);
}
