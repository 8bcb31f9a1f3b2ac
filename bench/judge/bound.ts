import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { binomial, mulberry32, poisson } from '../../src/local/cloud/samplers';
import { MAX_CANARY_MINUTES, PLAN } from './simulate';
import { betaRate } from './traffic';

/**
 * A lower bound on the excess 5XX any judge must serve before it rolls back a 5XX regression on
 * independent errors, if it decides on settled minutes and its false-rollback rate is at most
 * alpha on the per-variant overdispersion part of the null family (each variant's rate drawn every
 * minute around one shared mean, coefficient of variation up to 1).
 *
 * The argument (Wald; Lai 1988): take one null of the family, P0, and the regression, P1. For any
 * rule that rolls back at a stopping time with P0(rollback) <= alpha and P1(rollback) = 1 - beta,
 * the expected log likelihood ratio of everything it has seen is at least the binary divergence
 * d(1 - beta, alpha) (data processing). Requests and latency have the same law under both, so the
 * ratio's expectation is the sum, over the settled minutes seen, of the per-minute divergence of
 * the 5XX counts, kappa(weight). Each settled minute also serves x(weight) expected excess 5XX, so
 * the settled minutes serve at least min(x / kappa) d(1 - beta, alpha), and the 3 minutes still
 * settling at the rollback at least 3 x(10 %). A canary not rolled back serves at least 100 x(10 %)
 * (held to the cap or promoted), so beta is small. The bound is the minimum over beta of the
 * larger of the two. It holds for every such judge, however it learns the variance: P0 is one
 * traffic the judge must not roll back on, with a rate and dispersion it does not know.
 * P0 is chosen to make the bound as large as possible (the least favourable null in the grid).
 */

const LAG_MINUTES = 3;

/** log Gamma (Lanczos, g = 7, 9 terms): relative error about 1e-15 for x > 0. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
export const logGamma = (x: number): number => {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
};

const logChoose = (n: number, k: number) => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/** log P(k 5XX of n) when the minute's rate is Beta with this mean and coefficient of variation (0: binomial). */
export const errorsLogPmf = (k: number, n: number, mean: number, cv: number): number => {
  if (cv <= 0) return logChoose(n, k) + k * Math.log(mean) + (n - k) * Math.log1p(-mean);
  const total = (1 - mean) / (cv * cv * mean) - 1;
  const a = mean * total;
  const b = (1 - mean) * total;
  return (
    logChoose(n, k) +
    logGamma(k + a) +
    logGamma(n - k + b) -
    logGamma(n + a + b) -
    logGamma(a) -
    logGamma(b) +
    logGamma(a + b)
  );
};

/** KL(Binomial(n, rate) || the null's law of the count) for one variant and minute. */
const variantDivergence = (n: number, rate: number, nullRate: number, cv: number): number => {
  if (n <= 0) return 0;
  const mean = n * rate;
  const sd = Math.sqrt(mean * (1 - rate));
  let kl = 0;
  for (
    let k = Math.max(0, Math.floor(mean - 12 * sd));
    k <= Math.min(n, Math.ceil(mean + 12 * sd + 5));
    k++
  ) {
    const logP = errorsLogPmf(k, n, rate, 0);
    kl += Math.exp(logP) * (logP - errorsLogPmf(k, n, nullRate, cv));
  }
  return kl;
};

/** A null of the family: both variants at mean rate `rate`, each with its own coefficient of variation. */
export interface NullTraffic {
  rate: number;
  candidateCv: number;
  baselineCv: number;
}

/** The per-minute divergence averaged over Poisson requests (the same law under both). */
const expectedOverRequests = (meanRequests: number, f: (n: number) => number): number => {
  if (meanRequests <= 0) return 0;
  const sd = Math.sqrt(meanRequests);
  let total = 0;
  let weight = 0;
  for (let n = Math.max(0, Math.floor(meanRequests - 6 * sd)); n <= Math.ceil(meanRequests + 6 * sd); n++) {
    const w = Math.exp(n * Math.log(meanRequests) - meanRequests - logGamma(n + 1));
    total += w * f(n);
    weight += w;
  }
  return total / weight;
};

export interface Regression {
  rpm: number;
  baselineRate: number;
  factor: number;
}

/** kappa(weight): the expected divergence of one settled minute at that step. */
export const minuteDivergence = (r: Regression, weight: number, p0: NullTraffic): number =>
  expectedOverRequests(r.rpm * weight, (n) =>
    variantDivergence(n, r.baselineRate * r.factor, p0.rate, p0.candidateCv),
  ) +
  expectedOverRequests(r.rpm * (1 - weight), (n) =>
    variantDivergence(n, r.baselineRate, p0.rate, p0.baselineCv),
  );

const grid = (from: number, to: number, steps: number) =>
  Array.from({ length: steps + 1 }, (_, i) => from + ((to - from) * i) / steps);

/** The null that makes the 10 % step's minutes least informative, on a grid; `sameCv` ties the variants' CVs. */
export const leastFavourableNull = (r: Regression, sameCv: boolean): NullTraffic => {
  const nc = Math.round(r.rpm * 0.1);
  const nb = Math.round(r.rpm * 0.9);
  const rc = r.baselineRate * r.factor;
  const cvs = grid(0, 1, 20);
  let best = { kl: Number.POSITIVE_INFINITY, p0: { rate: r.baselineRate, candidateCv: 0, baselineCv: 0 } };
  for (const rate of grid(r.baselineRate, rc, 40)) {
    const candidate = cvs.map((cv) => variantDivergence(nc, rc, rate, cv));
    const baseline = cvs.map((cv) => variantDivergence(nb, r.baselineRate, rate, cv));
    for (let i = 0; i < cvs.length; i++)
      for (let j = 0; j < cvs.length; j++) {
        if (sameCv && i !== j) continue;
        const kl = candidate[i]! + baseline[j]!;
        if (kl < best.kl) best = { kl, p0: { rate, candidateCv: cvs[i]!, baselineCv: cvs[j]! } };
      }
  }
  return best.p0;
};

const binaryDivergence = (p: number, q: number) =>
  (p > 0 ? p * Math.log(p / q) : 0) + (p < 1 ? (1 - p) * Math.log((1 - p) / (1 - q)) : 0);

export interface ExcessBound {
  p0: NullTraffic;
  /** per step weight: kappa, expected excess 5XX a minute, and their ratio */
  steps: Array<{ weight: number; divergence: number; excessPerMinute: number }>;
  /** the least excess 5XX per unit of divergence over the steps */
  excessPerNat: number;
  /** the bound on the mean excess 5XX served, and the beta at which it is reached */
  excess: number;
  beta: number;
}

export const excessBound = (r: Regression, alpha: number, p0: NullTraffic): ExcessBound => {
  const steps = PLAN.weights.map((percent) => {
    const weight = percent / 100;
    return {
      weight,
      divergence: minuteDivergence(r, weight, p0),
      excessPerMinute: r.rpm * weight * r.baselineRate * (r.factor - 1),
    };
  });
  const excessPerNat = Math.min(...steps.map((s) => s.excessPerMinute / s.divergence));
  const first = steps[0]!.excessPerMinute;
  let best = { excess: Number.POSITIVE_INFINITY, beta: 0 };
  for (let i = 0; i <= 1000; i++) {
    const beta = i / 1000;
    const settled = LAG_MINUTES * first + excessPerNat * binaryDivergence(1 - beta, alpha);
    const excess = Math.max(settled, beta * MAX_CANARY_MINUTES * first);
    if (excess < best.excess) best = { excess, beta };
  }
  return { p0, steps, excessPerNat, ...best };
};

/**
 * Simulation of the same quantities on the benchmark's traffic: the mean per-minute log
 * likelihood ratio at the 10 % step (against kappa), and Wald's sequential probability ratio test
 * of the regression against P0 alone, holding the candidate at 10 % and rolling back at a ratio of
 * 1 / alpha: the fastest rule for that one null (so no bound built on P0 can exceed what it
 * serves), with its false-rollback rate under P0. It is valid for P0 only, not for the family.
 */
export const simulateOracle = (r: Regression, alpha: number, p0: NullTraffic, rollouts: number, seed = 1) => {
  const rc = r.baselineRate * r.factor;
  const llr = (nc: number, ec: number, nb: number, eb: number) =>
    errorsLogPmf(ec, nc, rc, 0) -
    errorsLogPmf(ec, nc, p0.rate, p0.candidateCv) +
    errorsLogPmf(eb, nb, r.baselineRate, 0) -
    errorsLogPmf(eb, nb, p0.rate, p0.baselineCv);
  const u = mulberry32(seed);
  const limit = Math.log(1 / alpha);
  const run = (underNull: boolean) => {
    let total = 0;
    let excess = 0;
    const settled: Array<[number, number, number, number]> = [];
    for (let t = 0; t < MAX_CANARY_MINUTES; t++) {
      const nc = poisson(u, r.rpm * 0.1);
      const nb = poisson(u, r.rpm * 0.9);
      const ec = underNull ? binomial(u, nc, betaRate(u, p0.rate, p0.candidateCv)) : binomial(u, nc, rc);
      const eb = underNull
        ? binomial(u, nb, betaRate(u, p0.rate, p0.baselineCv))
        : binomial(u, nb, r.baselineRate);
      settled.push([nc, ec, nb, eb]);
      excess += nc * (rc - r.baselineRate);
      const now = t + 1;
      if (now - LAG_MINUTES >= 1) {
        total += llr(...settled[now - LAG_MINUTES - 1]!);
        if (total >= limit) return { rolledBack: true, excess, minutes: now };
      }
    }
    return { rolledBack: false, excess, minutes: MAX_CANARY_MINUTES };
  };
  let sumLlr = 0;
  let sumSq = 0;
  const minutes = 20_000;
  for (let i = 0; i < minutes; i++) {
    const nc = poisson(u, r.rpm * 0.1);
    const nb = poisson(u, r.rpm * 0.9);
    const x = llr(nc, binomial(u, nc, rc), nb, binomial(u, nb, r.baselineRate));
    sumLlr += x;
    sumSq += x * x;
  }
  const meanLlr = sumLlr / minutes;
  const seLlr = Math.sqrt((sumSq / minutes - meanLlr * meanLlr) / minutes);
  let excess = 0;
  let rolledBack = 0;
  const times: number[] = [];
  for (let i = 0; i < rollouts; i++) {
    const x = run(false);
    excess += x.excess;
    if (x.rolledBack) {
      rolledBack += 1;
      times.push(x.minutes);
    }
  }
  let falseRollbacks = 0;
  for (let i = 0; i < rollouts; i++) if (run(true).rolledBack) falseRollbacks += 1;
  times.sort((a, b) => a - b);
  return {
    meanLlr,
    seLlr,
    rolledBack: rolledBack / rollouts,
    medianMinutes: times[Math.floor(times.length / 2)] ?? null,
    excess: excess / rollouts,
    falseRollbacks: falseRollbacks / rollouts,
  };
};

/**
 * A test that is valid on the whole per-variant overdispersion subfamily, not only on P0: universal
 * inference (Wasserman, Ramdas and Balakrishnan, PNAS 2020), the likelihood of the regression's
 * own rates over the null's maximum likelihood (shared rate and each variant's CV, on a grid; valid
 * up to the grid), rolled back at 1 / alpha, holding the candidate at 10 %. It knows the
 * regression's rates, so it is no judge; it shows what a bound on this subfamily cannot exceed.
 */
export const simulateUniversalInference = (
  r: Regression,
  alpha: number,
  rollouts: number,
  seed = 1,
  underNull?: NullTraffic,
) => {
  const rc = r.baselineRate * r.factor;
  const rates = grid(Math.log(r.baselineRate * 0.3), Math.log(rc * 2), 69).map(Math.exp);
  const cvs = grid(0, 1, 20);
  const u = mulberry32(seed);
  const limit = Math.log(1 / alpha);
  let rolledBack = 0;
  let excess = 0;
  const times: number[] = [];
  for (let i = 0; i < rollouts; i++) {
    const candidate = rates.map(() => cvs.map(() => 0));
    const baseline = rates.map(() => cvs.map(() => 0));
    let numerator = 0;
    let served = 0;
    const minutes: Array<[number, number, number, number]> = [];
    for (let t = 0; t < MAX_CANARY_MINUTES; t++) {
      const nc = poisson(u, r.rpm * 0.1);
      const nb = poisson(u, r.rpm * 0.9);
      const ec = underNull
        ? binomial(u, nc, betaRate(u, underNull.rate, underNull.candidateCv))
        : binomial(u, nc, rc);
      const eb = underNull
        ? binomial(u, nb, betaRate(u, underNull.rate, underNull.baselineCv))
        : binomial(u, nb, r.baselineRate);
      minutes.push([nc, ec, nb, eb]);
      served += nc * (rc - r.baselineRate);
      const now = t + 1;
      if (now - LAG_MINUTES < 1) continue;
      const [n1, e1, n2, e2] = minutes[now - LAG_MINUTES - 1]!;
      numerator += errorsLogPmf(e1, n1, rc, 0) + errorsLogPmf(e2, n2, r.baselineRate, 0);
      let denominator = Number.NEGATIVE_INFINITY;
      for (let a = 0; a < rates.length; a++) {
        let bestC = Number.NEGATIVE_INFINITY;
        let bestB = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < cvs.length; c++) {
          const viable = cvs[c]! === 0 || (1 - rates[a]!) / (cvs[c]! ** 2 * rates[a]!) > 1;
          if (!viable) continue;
          candidate[a]![c]! += errorsLogPmf(e1, n1, rates[a]!, cvs[c]!);
          baseline[a]![c]! += errorsLogPmf(e2, n2, rates[a]!, cvs[c]!);
          bestC = Math.max(bestC, candidate[a]![c]!);
          bestB = Math.max(bestB, baseline[a]![c]!);
        }
        denominator = Math.max(denominator, bestC + bestB);
      }
      if (numerator - denominator >= limit) {
        rolledBack += 1;
        times.push(now);
        break;
      }
    }
    excess += served;
  }
  times.sort((a, b) => a - b);
  return {
    rolledBack: rolledBack / rollouts,
    meanMinutes: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    medianMinutes: times[Math.floor(times.length / 2)] ?? null,
    excess: excess / rollouts,
  };
};

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rpm: { type: 'string', default: '3000' },
      rate: { type: 'string', default: '0.01' },
      factor: { type: 'string', default: '2' },
      alpha: { type: 'string', default: '0.01,0.0063' },
      rollouts: { type: 'string', default: '20000' },
    },
  });
  const r: Regression = {
    rpm: Number(values.rpm),
    baselineRate: Number(values.rate),
    factor: Number(values.factor),
  };
  const alphas = values.alpha.split(',').map(Number);
  const rollouts = Number(values.rollouts);
  for (const x of [r.rpm, r.baselineRate, r.factor, rollouts, ...alphas])
    if (!Number.isFinite(x) || x <= 0)
      throw new Error('--rpm, --rate, --factor, --alpha and --rollouts take positive numbers');
  const f = (x: number, d = 2) => x.toFixed(d);
  for (const sameCv of [false, true]) {
    const p0 = leastFavourableNull(r, sameCv);
    console.log(
      `${r.factor}x at ${r.rpm} rpm on ${r.baselineRate * 100} %, null ${sameCv ? 'with one CV for both variants' : 'with each variant its own CV'}: rate ${f(p0.rate * 100, 3)} %, CV candidate ${f(p0.candidateCv)} / baseline ${f(p0.baselineCv)}`,
    );
    for (const alpha of alphas) {
      const b = excessBound(r, alpha, p0);
      const steps = b.steps
        .map(
          (s) =>
            `${s.weight * 100} %: kappa ${f(s.divergence, 3)}, ${f(s.excessPerMinute, 1)} excess a minute`,
        )
        .join('; ');
      console.log(`  alpha ${alpha}: ${steps}`);
      console.log(
        `    at least ${f(b.excess, 1)} excess 5XX on average (beta ${f(b.beta, 3)}, ${f(b.excessPerNat)} per nat)`,
      );
    }
    const sim = simulateOracle(r, alphas[0]!, p0, rollouts);
    console.log(
      `  simulated (${rollouts} canaries each way): kappa at 10 % ${f(sim.meanLlr, 3)} +- ${f(sim.seLlr, 3)}; SPRT against this null alone at alpha ${alphas[0]}: rolled back ${f(sim.rolledBack * 100, 1)} % at minute ${sim.medianMinutes} (median), ${f(sim.excess, 1)} excess 5XX, false rollbacks under it ${f(sim.falseRollbacks * 100, 2)} %`,
    );
  }
}
