import type { MinuteCounts } from '../../src/domain/judge/sequential';
import { binomial, normal, type Uniform } from '../../src/local/cloud/samplers';

/**
 * How 5XX arise in a minute, for both variants: the null family the judge must not be fooled by
 * (both variants with the same mean rate), and the same models with a regression on top.
 * - `independent`: every request fails on its own with the variant's rate (binomial);
 * - `incidents`: the same, plus shared incidents of 1-3 minutes with 10x the errors on both;
 * - `beta-cv0.5`, `beta-cv1`: each variant draws its own rate every minute, Beta around its mean
 *   with that coefficient of variation (a slow host, a noisy neighbour, a GC pause on one fleet);
 * - `clusters-candidate`, `clusters-both`: failures come in clusters of 2-5 requests (retries,
 *   a batch failing together) on the candidate, or on both;
 * - `diurnal`: traffic and both rates ramp together over the hour (+-30 % and +-50 %);
 * - `late-revised`: independent errors, but 1 minute in 20 misses one variant's datapoint until 2
 *   minutes after the settle lag, and 1 in 20 is revised after it (one variant first shows
 *   70-95 % of its requests).
 */
export const TRAFFIC_MODELS = [
  'independent',
  'incidents',
  'beta-cv0.5',
  'beta-cv1',
  'clusters-candidate',
  'clusters-both',
  'diurnal',
  'late-revised',
] as const;
export type TrafficModel = (typeof TRAFFIC_MODELS)[number];

/** Gamma(shape, 1), Marsaglia-Tsang (boosted below shape 1). */
const gamma = (u: Uniform, shape: number): number => {
  if (shape < 1) return gamma(u, shape + 1) * u() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(u);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = u();
    if (w < 1 - 0.0331 * x ** 4 || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
};

/** A rate drawn from the Beta distribution with this mean and coefficient of variation. */
export const betaRate = (u: Uniform, mean: number, cv: number): number => {
  if (mean <= 0 || mean >= 1) return mean;
  const total = (1 - mean) / (cv * cv * mean) - 1;
  if (total <= 0) return u() < mean ? 1 : 0;
  const a = gamma(u, mean * total);
  const b = gamma(u, (1 - mean) * total);
  return a / (a + b);
};

/** 5XX of `requests` at `rate` in clusters of 2-5 requests failing together (same mean). */
export const clusteredErrors = (u: Uniform, requests: number, rate: number): number => {
  const meanSize = 3.5;
  const clusters = binomial(u, requests, Math.min(1, rate / meanSize));
  let errors = 0;
  for (let i = 0; i < clusters; i++) errors += 2 + Math.floor(u() * 4);
  return Math.min(requests, errors);
};

/** Traffic and rate multipliers of the diurnal ramp at minute t. */
export const diurnal = (t: number): { traffic: number; rate: number } => ({
  traffic: 1 + 0.3 * Math.sin((2 * Math.PI * t) / 60),
  rate: 1 + 0.5 * Math.sin((2 * Math.PI * t) / 60 + 1),
});

/** 5XX of one variant in one minute under the model (incidents are applied by the caller). */
export const variantErrors = (
  u: Uniform,
  model: TrafficModel,
  requests: number,
  rate: number,
  isCandidate: boolean,
): number => {
  switch (model) {
    case 'beta-cv0.5':
      return binomial(u, requests, betaRate(u, rate, 0.5));
    case 'beta-cv1':
      return binomial(u, requests, betaRate(u, rate, 1));
    case 'clusters-both':
      return clusteredErrors(u, requests, rate);
    case 'clusters-candidate':
      return isCandidate ? clusteredErrors(u, requests, rate) : binomial(u, requests, rate);
    default:
      return binomial(u, requests, rate);
  }
};

/** What the settled view shows of a minute before tick `until`, when it is late or revised. */
export interface Provisional {
  until: number;
  counts: MinuteCounts;
}

/** For `late-revised`: whether this minute is late or revised, and what it shows until then. */
export const provisionalView = (
  u: Uniform,
  t: number,
  settleLag: number,
  counts: MinuteCounts,
): Provisional | undefined => {
  const x = u();
  if (x >= 0.1) return undefined;
  const candidateSide = u() < 0.5;
  const until = t + 1 + settleLag + 2;
  if (x < 0.05) {
    // one variant's datapoint is missing until then
    return {
      until,
      counts: candidateSide
        ? { ...counts, candidateRequests: 0, candidateErrors: 0 }
        : { ...counts, baselineRequests: 0, baselineErrors: 0 },
    };
  }
  // revised: one variant first shows a share of its requests, drawn independently of the outcome
  const f = 0.7 + 0.25 * u();
  const thin = (n: number, e: number) => {
    const errors = binomial(u, e, f);
    return { requests: errors + binomial(u, n - e, f), errors };
  };
  if (candidateSide) {
    const c = thin(counts.candidateRequests, counts.candidateErrors);
    return { until, counts: { ...counts, candidateRequests: c.requests, candidateErrors: c.errors } };
  }
  const b = thin(counts.baselineRequests, counts.baselineErrors);
  return { until, counts: { ...counts, baselineRequests: b.requests, baselineErrors: b.errors } };
};
