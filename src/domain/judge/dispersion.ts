/**
 * Per-variant dispersion of the 5XX counts, learned from each variant's own minutes, and the
 * variance of the robust 5XX score it implies under the null (both variants at one mean rate).
 */

/** Running moments of one variant's per-minute requests n and 5XX e. */
export interface VariantMoments {
  minutes: number;
  requests: number;
  errors: number;
  errorsSquared: number;
  errorsTimesRequests: number;
  requestsSquared: number;
}

export const emptyMoments = (): VariantMoments => ({
  minutes: 0,
  requests: 0,
  errors: 0,
  errorsSquared: 0,
  errorsTimesRequests: 0,
  requestsSquared: 0,
});

export const addMoments = (m: VariantMoments, requests: number, errors: number): void => {
  if (requests <= 0) return;
  m.minutes += 1;
  m.requests += requests;
  m.errors += errors;
  m.errorsSquared += errors * errors;
  m.errorsTimesRequests += errors * requests;
  m.requestsSquared += requests * requests;
};

/**
 * The variant's variance-to-mean ratio: Pearson's sum of (e - n R)^2 over its minutes (R its own
 * rate over all of them) per expected 5XX, with k - 1 degrees of freedom for k minutes; at least 1
 * (binomial or Poisson counts). Clusters of s failing requests give about E[s^2] / E[s]; a rate
 * that varies from minute to minute gives 1 + CV^2 n R. Centred on the variant's own rate, a
 * regression's shift does not count as dispersion.
 */
const pearsonOf = (m: VariantMoments): number => {
  const rate = m.errors / m.requests;
  const pearson = m.errorsSquared - 2 * rate * m.errorsTimesRequests + rate * rate * m.requestsSquared;
  return pearson / (1 - 1 / m.minutes);
};

export const dispersionOf = (m: VariantMoments): number => {
  if (m.minutes < 2 || m.errors <= 0) return 1;
  return Math.max(1, pearsonOf(m) / m.errors);
};

/**
 * The variant's extra-Poisson variance per squared mean: Var(e) = n R + kappa (n R)^2 fitted to the
 * same Pearson sum (a rate that varies from minute to minute with coefficient of variation c gives
 * kappa = c^2, whatever the minute's size).
 */
export const squaredDispersionOf = (m: VariantMoments): number => {
  if (m.minutes < 2 || m.errors <= 0) return 0;
  const rate = m.errors / m.requests;
  return Math.max(0, (pearsonOf(m) - m.errors) / (rate * rate * m.requestsSquared));
};

/** Both variants' moments and the score's variance weights (sums over minutes of V (1 - p) and V p). */
export interface ErrorDispersion {
  candidate: VariantMoments;
  baseline: VariantMoments;
  candidateWeight: number;
  baselineWeight: number;
  /** sums over minutes of ((1 - p) n_c mu)^2 and (p n_b mu)^2, mu the minute's pooled rate */
  candidateSquaredWeight: number;
  baselineSquaredWeight: number;
}

export const emptyDispersion = (): ErrorDispersion => ({
  candidate: emptyMoments(),
  baseline: emptyMoments(),
  candidateWeight: 0,
  baselineWeight: 0,
  candidateSquaredWeight: 0,
  baselineSquaredWeight: 0,
});

/**
 * Adds a minute: requests and 5XX of both variants. The score U = (1 - p) e_c - p e_b has, when
 * both variants share the rate mu and each variant's count has variance d times its mean,
 * variance (1 - p)^2 d_c n_c mu + p^2 d_b n_b mu; with mu = E / n that is V ((1 - p) d_c + p d_b),
 * V = E p (1 - p) the binomial one.
 */
export const addDispersion = (
  d: ErrorDispersion,
  candidateRequests: number,
  candidateErrors: number,
  baselineRequests: number,
  baselineErrors: number,
): void => {
  addMoments(d.candidate, candidateRequests, candidateErrors);
  addMoments(d.baseline, baselineRequests, baselineErrors);
  const n = candidateRequests + baselineRequests;
  const errors = candidateErrors + baselineErrors;
  if (n <= 0 || errors <= 0) return;
  const p = candidateRequests / n;
  const variance = errors * p * (1 - p);
  d.candidateWeight += variance * (1 - p);
  d.baselineWeight += variance * p;
  d.candidateSquaredWeight += ((1 - p) * p * errors) ** 2;
  d.baselineSquaredWeight += (p * (1 - p) * errors) ** 2;
};

/** The score sum's variance under the null at the dispersions learned so far. */
export const restrictedVariance = (d: ErrorDispersion): number => {
  const linear = dispersionOf(d.candidate) * d.candidateWeight + dispersionOf(d.baseline) * d.baselineWeight;
  const quadratic =
    d.candidateWeight +
    d.baselineWeight +
    squaredDispersionOf(d.candidate) * d.candidateSquaredWeight +
    squaredDispersionOf(d.baseline) * d.baselineSquaredWeight;
  return Math.max(linear, quadratic);
};
