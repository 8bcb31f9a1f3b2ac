/**
 * How often a candidate no slower than the baseline still reads slower in a minute, from the two
 * samples' sizes alone (pure math).
 *
 * A minute's ModelLatency percentile is an order statistic of that minute's requests. If every
 * request of both variants draws its latency from one distribution F, then by the probability
 * integral transform the chance that the candidate's k-th smallest of m exceeds the baseline's
 * j-th smallest of n does not depend on F: it is a statement about how the m + n requests
 * interleave, and every interleaving is equally likely. So the sign test can compare each minute
 * against that chance instead of against 1/2, which is right only for equal samples: a candidate
 * p99 over 69-99 requests is the sample maximum, above the true p99 more often than not.
 */

/** Statistics the latency test can judge: order statistics of the minute's requests. */
export type OrderStatistic = 'p50' | 'p90' | 'p99' | 'Maximum';

const SMALL = 4096;
const logFactorials: number[] = [0];

/** log(n!) for integer n >= 0: exact table up to SMALL, Stirling's series above (error < 1e-18). */
const logFactorial = (n: number): number => {
  if (n < SMALL) {
    for (let k = logFactorials.length; k <= n; k++) logFactorials[k] = logFactorials[k - 1]! + Math.log(k);
    return logFactorials[n]!;
  }
  const inv = 1 / n;
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + inv / 12 - inv ** 3 / 360 + inv ** 5 / 1260;
};

const logChoose = (a: number, b: number): number => logFactorial(a) - logFactorial(b) - logFactorial(a - b);

/**
 * P(X_(i:m) > Y_(j:n)) for two independent samples of sizes m and n from one continuous
 * distribution. With K the number of X's below the j-th smallest Y, X_(i) > Y_(j) iff K < i, and
 * P(K = k) = C(k + j - 1, k) C(m - k + n - j, m - k) / C(m + n, m) (the first k + j - 1 of the
 * merged order hold k X's and j - 1 Y's, then comes the j-th Y, then the rest). Sums the shorter
 * side of the distribution.
 */
export const orderStatisticExceeds = (i: number, m: number, j: number, n: number): number => {
  const total = logChoose(m + n, m);
  const term = (k: number) => Math.exp(logChoose(k + j - 1, k) + logChoose(m - k + n - j, m - k) - total);
  let sum = 0;
  if (i <= m - i + 1) {
    for (let k = 0; k < i; k++) sum += term(k);
    return Math.min(1, sum);
  }
  for (let k = i; k <= m; k++) sum += term(k);
  return Math.max(0, 1 - sum);
};

/**
 * The rank of a minute's p-quantile among its n requests: the nearest rank, ceil(p n), the
 * smallest value with at least p of the minute's data at or below it, which is how CloudWatch
 * defines a percentile ("p95 ... 95 percent of the data within the period is lower than this
 * value"). CloudWatch may round values into buckets; that maps every value through one increasing
 * function, which keeps the order and only adds ties, and a tie never reads as slower, so the
 * chance computed stays an upper bound.
 */
export const nearestRank = (statistic: OrderStatistic, n: number): number =>
  statistic === 'Maximum' ? n : Math.min(n, Math.max(1, Math.ceil((Number(statistic.slice(1)) * n) / 100)));

const cache = new Map<string, number>();
const CACHE_LIMIT = 20_000;

/**
 * Upper bound on the chance that the candidate's statistic over `candidateRequests` requests
 * exceeds the baseline's over `baselineRequests`, when both variants' requests draw their latency
 * from one distribution (any one, changing from minute to minute as it may). It also bounds the
 * chance of exceeding `ratio` x the baseline's for any ratio >= 1, since latencies are >= 0.
 */
export const slowerChanceUnderNull = (
  statistic: OrderStatistic,
  candidateRequests: number,
  baselineRequests: number,
): number => {
  const m = Math.round(candidateRequests);
  const n = Math.round(baselineRequests);
  if (m < 1 || n < 1) throw new RangeError(`both samples need a request (candidate ${m}, baseline ${n})`);
  const key = `${statistic}|${m}|${n}`;
  let chance = cache.get(key);
  if (chance === undefined) {
    chance = orderStatisticExceeds(nearestRank(statistic, m), m, nearestRank(statistic, n), n);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, chance);
  }
  return chance;
};
