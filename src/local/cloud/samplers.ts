/**
 * Seeded random samplers for simulated traffic (the local cloud and the judge benchmark). Exact
 * inversion for small means, normal approximations (rounded, clipped) for large ones, where the
 * difference is far below the noise a canary judge sees.
 */

/** A uniform source on [0, 1), e.g. the local cloud's `Rng.next`. */
export type Uniform = () => number;

/** mulberry32: a small, fast, seeded PRNG. */
export const mulberry32 = (seed: number): Uniform => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** Standard normal (Box-Muller). */
export const normal = (u: Uniform): number => {
  const a = 1 - u();
  return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
};

/** Poisson(mean): inversion below a mean of 30, a rounded normal above. */
export const poisson = (u: Uniform, mean: number): number => {
  if (mean <= 0) return 0;
  if (mean < 30) {
    let k = 0;
    let p = Math.exp(-mean);
    let cdf = p;
    const x = u();
    while (x > cdf && k < 1000) {
      k += 1;
      p *= mean / k;
      cdf += p;
    }
    return k;
  }
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(u)));
};

/** Binomial(n, p): inversion while n p is small, else a rounded normal clipped to [0, n]. */
export const binomial = (u: Uniform, n: number, p: number): number => {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (mean < 30 || n * (1 - p) < 30) {
    if (p > 0.5) return n - binomial(u, n, 1 - p);
    // inversion on the probability mass, walking up from 0
    const q = 1 - p;
    let prob = q ** n;
    if (prob === 0) return Math.max(0, Math.min(n, Math.round(mean + Math.sqrt(mean * q) * normal(u))));
    let cdf = prob;
    let k = 0;
    const x = u();
    while (x > cdf && k < n) {
      prob *= ((n - k) / (k + 1)) * (p / q);
      k += 1;
      cdf += prob;
    }
    return k;
  }
  return Math.max(0, Math.min(n, Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(u))));
};

/** Log-normal with the given median and log-space spread sigma. */
export const logNormal = (u: Uniform, median: number, sigma: number): number =>
  median * Math.exp(sigma * normal(u));

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export const normalQuantile = (p: number): number => {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628274631,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
};

/**
 * The p-quantile of `n` log-normal samples as one draw: exact (sort the samples) for small n, else
 * the order statistic's normal approximation, sd sqrt(p(1-p)/n) / density at the quantile.
 */
export const sampleQuantileLogNormal = (
  u: Uniform,
  n: number,
  median: number,
  sigma: number,
  p: number,
): number => {
  if (n <= 0) return Number.NaN;
  if (n <= 200) {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) xs.push(logNormal(u, median, sigma));
    xs.sort((a, b) => a - b);
    return xs[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  }
  const z = normalQuantile(p);
  const density = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
  const sd = Math.sqrt((p * (1 - p)) / n) / density;
  return median * Math.exp(sigma * (z + sd * normal(u)));
};
