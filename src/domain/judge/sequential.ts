/**
 * Anytime-valid sequential tests (pure math). Each test is a mixture of likelihood ratios against
 * its null hypothesis: a nonnegative supermartingale under the null, so by Ville's inequality the
 * chance that it EVER reaches 1/alpha, however often it is looked at, is at most alpha.
 * Everything is kept in natural logs; a test is a list of log likelihood ratios, one per mixture
 * component, summed minute by minute, and its evidence is the prior-weighted mixture of them.
 */

/** One minute of one comparison: requests and 5XX per variant. */
export interface MinuteCounts {
  candidateRequests: number;
  candidateErrors: number;
  baselineRequests: number;
  baselineErrors: number;
}

/** log(sum(exp(xs)) / xs.length): the log of an equal-weight mixture. */
export const logMeanExp = (xs: readonly number[]): number => {
  const max = Math.max(...xs);
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum / xs.length);
};

/**
 * Rate ratios theta = candidate rate / baseline rate in the error test's mixture: log-spaced from
 * sqrt(r) to r^3 around the regression the user wants caught (r = detectErrorRatio), equal weights.
 */
export const errorRatioGrid = (detectErrorRatio: number): number[] => {
  let grid = grids.get(detectErrorRatio);
  if (!grid) {
    grid = [0.5, 1, 1.5, 2, 2.5, 3].map((k) => detectErrorRatio ** k);
    grids.set(detectErrorRatio, grid);
  }
  return grid;
};
const grids = new Map<number, number[]>();

/**
 * Error-rate comparison, conditional on each minute's request counts (Lindon & Malek, arXiv
 * 2011.03567): given E errors in a minute in which the candidate served a share p of the requests,
 * the candidate's errors are Binomial(E, q) with q = theta p / (theta p + 1 - p). Under the null
 * (theta <= 1) q <= p. Returns the minute's log likelihood ratio of q(theta) against q(1) = p for
 * every theta of the grid. A burst that multiplies both variants' rates in a minute leaves q as it
 * is, so shared incidents add no false evidence.
 */
export const errorRatioMinute = (m: MinuteCounts, grid: readonly number[]): number[] => {
  const n = m.candidateRequests + m.baselineRequests;
  const errors = m.candidateErrors + m.baselineErrors;
  if (n <= 0 || errors <= 0) return grid.map(() => 0);
  const p = m.candidateRequests / n;
  if (p <= 0 || p >= 1) return grid.map(() => 0);
  return grid.map((theta) => {
    const q = (theta * p) / (theta * p + 1 - p);
    return m.candidateErrors * Math.log(q / p) + m.baselineErrors * Math.log((1 - q) / (1 - p));
  });
};

/**
 * The pass test's alternatives: the candidate is better than the regression to catch (theta below
 * r). Its null is theta >= r, so a candidate r times worse passes a step on this evidence with
 * probability at most 1 / PASS_EVIDENCE, however often it is looked at.
 */
export const passRatioGrid = (detectErrorRatio: number): number[] => [
  1 / detectErrorRatio,
  1,
  Math.sqrt(detectErrorRatio),
];

/** Evidence that the candidate is not r times worse, needed for a step to pass on evidence (1/0.05). */
export const PASS_EVIDENCE = 20;

/**
 * Pass test, per minute: log likelihood ratio of each theta' of the grid against theta = r (the
 * same conditional binomial as errorRatioMinute).
 */
export const passRatioMinute = (m: MinuteCounts, detectErrorRatio: number): number[] => {
  const grid = passRatioGrid(detectErrorRatio);
  const against = errorRatioMinute(m, [detectErrorRatio])[0]!;
  return errorRatioMinute(m, grid).map((x) => x - against);
};

/** Multipliers m of the ceiling c in the ceiling test's mixture (alternatives: rate m x c). */
export const CEILING_GRID: readonly number[] = [1.5, 2, 3, 5, 10];

/**
 * Absolute ceiling: candidate 5XX rate above `ceiling`. Per minute, the Poisson likelihood ratio of
 * rate m c against c: m^e exp(-(m - 1) c n). For binomial errors with rate <= c its expectation is
 * (1 - r + r m)^n exp(-(m - 1) c n) <= 1, so it is a supermartingale under the null.
 */
export const ceilingMinute = (requests: number, errors: number, ceiling: number): number[] =>
  CEILING_GRID.map((m) => errors * Math.log(m) - (m - 1) * ceiling * requests);

/**
 * Odds multipliers k in the latency test's mixture: under the alternative, "candidate slower" is k
 * times as likely in odds as the null allows. Against a null chance of 1/2 they are the chances
 * 0.6, 0.7, 0.8, 0.9 and 0.97.
 */
export const SIGN_GRID: readonly number[] = [1.5, 7 / 3, 4, 9, 97 / 3];

/** A minute whose null chance is this close to 1 says nothing (and would divide by ~0). */
const UNINFORMATIVE = 1 - 1e-9;

/**
 * Latency sign test: each minute with both variants' latency gives one Bernoulli outcome
 * (candidate slower than tolerance x baseline). Under the null it happens with probability at most
 * `nullChance` (the minute's own bound, from the two samples' sizes: see latency-order.ts); the
 * alternatives raise its odds k-fold, so q = k p / (1 - p + k p) >= p, and for any true chance at
 * most p the likelihood ratio of q against p has expectation at most 1. Log LR per component.
 */
export const signMinute = (slower: boolean, nullChance: number): number[] => {
  if (!(nullChance > 0) || nullChance >= UNINFORMATIVE) return SIGN_GRID.map(() => 0);
  const p = nullChance;
  return SIGN_GRID.map((k) => {
    const q = (k * p) / (1 - p + k * p);
    return slower ? Math.log(q / p) : Math.log((1 - q) / (1 - p));
  });
};

/**
 * First looks: the newest complete minute, read at the first tick after it ends, before the
 * ingestion lag has settled it. The part of a minute CloudWatch shows early is a thinning of its
 * requests that does not depend on the variant or the outcome, so the conditional binomial of
 * errorRatioMinute on the visible counts alone is a likelihood ratio with expectation at most 1
 * under the null: an e-value. Each minute is looked at this way once, on its own, and minute k of
 * the canary (k = 0, 1, ...) spends the share 1 / ((k + 1)(k + 2)) of the first-look alpha; the
 * shares sum to 1, so by the union bound the first looks together roll back a candidate no worse
 * than the baseline with probability at most that alpha.
 *
 * Pooling the visible part of unsettled minutes into the running total instead is not valid: when
 * the rest of a minute arrives, the pooled minute's likelihood ratio is recomputed with the whole
 * minute's traffic share p. With no 5XX in the early part (LR 1) and E in the late part, whose
 * candidate share is p_late, E[LR(whole)] = (1 + (p_late - p)(q/p - (1-q)/(1-p)))^E under the null,
 * above 1 whenever p_late > p (for theta > 1): the total is not a supermartingale.
 */
export const firstLookWeight = (minuteOfCanary: number): number =>
  1 / ((minuteOfCanary + 1) * (minuteOfCanary + 2));

/** Evidence a first look needs to roll back: 1 / (alpha x weight of the minute). */
export const firstLookLimit = (minuteOfCanary: number, firstLookAlpha: number): number =>
  1 / (firstLookAlpha * firstLookWeight(minuteOfCanary));

/** Adds a minute's log likelihood ratios into running totals (same grid). */
export const addInto = (totals: number[], minute: readonly number[]): void => {
  for (let i = 0; i < totals.length; i++) totals[i]! += minute[i]!;
};

/** Evidence (mixture likelihood ratio) from per-component log totals. */
export const evidenceOf = (logTotals: readonly number[]): number => Math.exp(logMeanExp(logTotals));
