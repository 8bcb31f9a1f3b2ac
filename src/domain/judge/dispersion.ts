/**
 * How much more the candidate's share of each minute's 5XX varies than independent errors allow,
 * learned from the minutes themselves, and the variance of the robust 5XX score it implies under
 * the null (both variants at one mean rate).
 */

/** One minute of the 5XX comparison: the candidate's share of the requests and the 5XX. */
interface ShareMinute {
  p: number;
  candidateErrors: number;
  errors: number;
}

/** The minutes of the comparison so far, with the requests and 5XX of each variant in total. */
export interface ErrorDispersion {
  minutes: ShareMinute[];
  candidateRequests: number;
  candidateErrors: number;
  baselineRequests: number;
  baselineErrors: number;
}

export const emptyDispersion = (): ErrorDispersion => ({
  minutes: [],
  candidateRequests: 0,
  candidateErrors: 0,
  baselineRequests: 0,
  baselineErrors: 0,
});

export const addDispersion = (
  d: ErrorDispersion,
  candidateRequests: number,
  candidateErrors: number,
  baselineRequests: number,
  baselineErrors: number,
): void => {
  d.candidateRequests += candidateRequests;
  d.candidateErrors += candidateErrors;
  d.baselineRequests += baselineRequests;
  d.baselineErrors += baselineErrors;
  const n = candidateRequests + baselineRequests;
  const errors = candidateErrors + baselineErrors;
  if (n <= 0 || errors <= 0 || candidateRequests <= 0 || baselineRequests <= 0) return;
  d.minutes.push({ p: candidateRequests / n, candidateErrors, errors });
};

/**
 * The score sum's variance under the null: sum V x phi, or sum V + psi x sum V^2, whichever is
 * larger (V = E p (1 - p), the binomial variance of the minute's score U = e_c - p E).
 * Each minute's residual e_c - E q is taken at the candidate's own fitted share q (its rate ratio
 * over the canary so far, theta: q = theta p / (theta p + 1 - p)), so a regression's shift is not
 * counted as variation, and given the minute's 5XX E, so variation both variants share (an
 * incident, a ramp) is not either. Independent errors give residual variance w = E q (1 - q); the
 * squared residuals against it give phi (clusters of s failing together: about E[s^2] / E[s]) and,
 * fitted to the same sum, psi of w + psi w^2 (each variant's rate varying from minute to minute
 * with coefficient of variation c gives about 2 c^2, growing with the minute's size). k - 1
 * degrees of freedom for k minutes; phi at least 1, psi at least 0.
 */
export const restrictedVariance = (d: ErrorDispersion): number => {
  let variance = 0;
  let varianceSquared = 0;
  for (const m of d.minutes) {
    const v = m.errors * m.p * (1 - m.p);
    variance += v;
    varianceSquared += v * v;
  }
  const k = d.minutes.length;
  if (k < 2 || d.candidateErrors <= 0 || d.baselineErrors <= 0) return variance;
  const theta = d.candidateErrors / d.candidateRequests / (d.baselineErrors / d.baselineRequests);
  let squares = 0;
  let expected = 0;
  let expectedSquared = 0;
  for (const m of d.minutes) {
    const q = (theta * m.p) / (theta * m.p + 1 - m.p);
    const w = m.errors * q * (1 - q);
    squares += (m.candidateErrors - m.errors * q) ** 2;
    expected += w;
    expectedSquared += w * w;
  }
  const pearson = squares / (1 - 1 / k);
  const phi = expected > 0 ? Math.max(1, pearson / expected) : 1;
  const psi = expectedSquared > 0 ? Math.max(0, (pearson - expected) / expectedSquared) : 0;
  return Math.max(phi * variance, variance + psi * varianceSquared);
};
