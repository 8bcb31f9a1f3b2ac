import { describe, expect, it } from 'vitest';
import {
  addScore,
  alternativeExcess,
  boundedEvidence,
  ceilingScoreMinute,
  centreOf,
  EARLY_CENTRE_MARGIN,
  EARLY_MINUTES,
  emptyScoreSum,
  errorScoreMinute,
  logNormalCdf,
  passScoreMinute,
  robustEvidence,
  robustPair,
  robustTime,
} from '../../../src/domain/judge/sequential';
import { binomial, mulberry32 } from '../../../src/local/cloud/samplers';

const minute = (
  candidateRequests: number,
  candidateErrors: number,
  baselineRequests: number,
  baselineErrors: number,
) => ({
  candidateRequests,
  candidateErrors,
  baselineRequests,
  baselineErrors,
});

describe('the robust per-minute scores', () => {
  it('5XX score by hand: p = 0.1, 3 candidate and 2 baseline errors: U = 3 - 0.1 x 5, variance 5 x 0.1 x 0.9', () => {
    const s = errorScoreMinute(minute(100, 3, 900, 2), 0.01);
    expect(s.score).toBeCloseTo(2.5, 12);
    expect(s.variance).toBeCloseTo(0.45, 12);
    // bound: 5 x 0.45 + 2^2 x ((0.9 x 100)^2 + (0.1 x 900)^2) x 0.01^2
    expect(s.bound).toBeCloseTo(2.25 + 4 * 16_200 * 1e-4, 9);
  });

  it('its mean is 0 whenever both variants share a mean rate, however each rate varies (exact sum over a two-point rate law)', () => {
    // each variant's rate is 0.2 % or 1.8 % with probability 1/2 each, independently (mean 1 %, CV 0.8);
    // E[U] = (1 - p) n_c E[r_c] - p n_b E[r_b] = 0 for any n_c, n_b, as the expectation of e_c is n_c E[r_c]
    const rates = [0.002, 0.018];
    for (const [nc, nb] of [
      [100, 900],
      [500, 500],
      [37, 4000],
    ] as const) {
      const p = nc / (nc + nb);
      let mean = 0;
      for (const rc of rates) for (const rb of rates) mean += 0.25 * ((1 - p) * nc * rc - p * nb * rb);
      expect(mean).toBeCloseTo(0, 12);
      // the score is linear in the counts, so its mean at the counts' means is its mean
      expect(errorScoreMinute(minute(nc, nc * 0.01, nb, nb * 0.01)).score).toBeCloseTo(0, 9);
    }
  });

  it('pass score: 0 in mean at exactly r times worse, evidence (positive) when the candidate is better', () => {
    expect(passScoreMinute(minute(100, 2, 900, 9), 2).score).toBeCloseTo(0, 12);
    expect(passScoreMinute(minute(100, 0, 900, 9), 2).score).toBeGreaterThan(0);
    expect(passScoreMinute(minute(100, 4, 900, 9), 2).score).toBeLessThan(0);
  });

  it('ceiling score: the 5XX beyond the ceiling, with its variance at the ceiling and the bound', () => {
    expect(ceilingScoreMinute(1000, 30, 0.02)).toEqual({ score: 10, variance: 20, bound: 5 * 20 + 40 ** 2 });
  });
});

describe('robust evidence', () => {
  it('log Phi: matches known values and stays finite far in the left tail', () => {
    expect(Math.exp(logNormalCdf(0))).toBeCloseTo(0.5, 7);
    expect(Math.exp(logNormalCdf(1.959963985))).toBeCloseTo(0.975, 6);
    expect(Math.exp(logNormalCdf(-3))).toBeCloseTo(0.0013499, 6);
    expect(logNormalCdf(-40)).toBeLessThan(-800);
    // the far left tail (z < -8, the asymptotic series): log Phi(-9) = -43.6281, log Phi(-10) = -53.2313
    expect(Math.abs(logNormalCdf(-9) - -43.6281)).toBeLessThan(0.02);
    expect(Math.abs(logNormalCdf(-10) - -53.2313)).toBeLessThan(0.02);
    expect(Number.isFinite(logNormalCdf(-40))).toBe(true);
  });

  it('the half-normal mixture in closed form: 2 sqrt(rho / (T + rho)) exp(S^2 / 2(T + rho)) Phi(S / sqrt(T + rho))', () => {
    const s = { ...emptyScoreSum(), sum: 6, variance: 4, squares: 3, bound: 10, minutes: 4 };
    const scale = 4 + 2;
    const expected =
      2 * Math.sqrt(2 / scale) * Math.exp(36 / (2 * scale)) * Math.exp(logNormalCdf(6 / Math.sqrt(scale)));
    expect(robustEvidence(s, 2)).toBeCloseTo(expected, 9);
    // the bounded test uses the bound as its time
    const bounded = 2 * Math.sqrt(2 / 12) * Math.exp(36 / 24) * Math.exp(logNormalCdf(6 / Math.sqrt(12)));
    expect(boundedEvidence(s, 2)).toBeCloseTo(bounded, 9);
    expect(robustPair(s, 2)).toBeCloseTo(Math.max(0.9 * expected, 0.1 * bounded), 9);
  });

  it('the squares carry the variance the minutes show: the same sum judged on noisy minutes is weaker evidence', () => {
    const steady = emptyScoreSum();
    const noisy = emptyScoreSum();
    for (let i = 0; i < 20; i++) {
      addScore(steady, { score: 1, variance: 1 });
      addScore(noisy, { score: i % 2 === 0 ? 6 : -4, variance: 1 });
    }
    expect(steady.sum).toBe(noisy.sum);
    expect(robustEvidence(noisy, 2)).toBeLessThan(robustEvidence(steady, 2) / 100);
  });

  it('the sums by hand: score, variance, bound and minutes add up; an early square is centred on a lower bound only', () => {
    const s = emptyScoreSum();
    addScore(s, { score: 3, variance: 2 });
    expect(s.squares).toBe(9);
    // the second minute is within the first EARLY_MINUTES: centred on a = (3 - 0.75 sqrt(9)) / 2 = 0.375,
    // so its square is (1 - 0.375 x 2)^2 = 0.0625
    addScore(s, { score: 1, variance: 2 });
    expect(s.squares).toBeCloseTo(9.0625, 12);
    expect(s).toMatchObject({ sum: 4, variance: 4, bound: 4, minutes: 2 });
  });

  it("a regression's own mean inflates its variance less: squares centred on the evidence so far", () => {
    const s = emptyScoreSum();
    for (let i = 0; i < 30; i++) addScore(s, { score: 3, variance: 1 });
    // uncentred, the squares would be 30 x 9 = 270
    expect(s.squares).toBeLessThan(0.8 * 270);
    expect(robustEvidence(s, 2)).toBeGreaterThan(1e6);
  });
});

describe('centring and the shift taken out of the squares', () => {
  it(`the first ${EARLY_MINUTES} squares centred on a lower bound of the mean, then each about a x V with a = max(0, S) / sum V of the minutes before`, () => {
    const s = emptyScoreSum();
    // minute 1 uncentred: 9; minute 2: a = (3 - 0.75 x 3) / 1 = 0.75, (3 - 0.75)^2 = 5.0625;
    // minute 3: a = (6 - 0.75 sqrt(14.0625)) / 2 = 1.59375, (3 - 1.59375)^2 = 1.9775390625
    for (let i = 0; i < EARLY_MINUTES; i++) addScore(s, { score: 3, variance: 1 });
    expect(s.squares).toBeCloseTo(9 + 5.0625 + 1.9775390625, 12);
    const early = s.squares;
    // a = 9 / 3 = 3: a score of 3 with variance 1 adds 0; one of 5 with variance 2 adds (5 - 12 / 4 x 2)^2 = 1
    addScore(s, { score: 3, variance: 1 });
    expect(s.squares).toBeCloseTo(early, 12);
    addScore(s, { score: 5, variance: 2 });
    expect(s.squares).toBeCloseTo(early + 1, 12);
    // a negative sum centres on 0
    const below = emptyScoreSum();
    for (let i = 0; i < 4; i++) addScore(below, { score: -2, variance: 1 });
    expect(below.squares).toBe(16);
  });

  it('early centring: a lone large score is centred on at most a quarter of itself, so a healthy first minute keeps most of its square', () => {
    // at high traffic the model variance is small against the minute's own variation: V = 1, score 10
    const s = emptyScoreSum();
    addScore(s, { score: 10, variance: 1 });
    expect(EARLY_CENTRE_MARGIN).toBe(0.75);
    expect(centreOf(s)).toBeCloseTo((10 - 0.75 * 10) / 1, 12);
    // a next minute of 0 keeps (0 - 2.5)^2 = 6.25 of the square; centred on the point estimate it would add 100
    addScore(s, { score: 0, variance: 1 });
    expect(s.squares).toBeCloseTo(106.25, 12);
    // two minutes of opposite sign: the lower bound is below 0 and nothing is centred
    const mixed = emptyScoreSum();
    addScore(mixed, { score: 10, variance: 1 });
    addScore(mixed, { score: -10, variance: 1 });
    expect(centreOf(mixed)).toBe(0);
  });

  it('a steady gross regression is no longer capped at sqrt(k) standard errors after k minutes', () => {
    const s = emptyScoreSum();
    for (let i = 0; i < EARLY_MINUTES; i++) addScore(s, { score: 10, variance: 1 });
    // uncentred, S / sqrt(squares) would be exactly sqrt(3); the lower-bound centring leaves
    // 100 + 56.25 + (10 - 5.3125)^2 = 178.22 of the 300
    expect(s.squares).toBeCloseTo(100 + 56.25 + 4.6875 ** 2, 9);
    expect(s.sum / Math.sqrt(robustTime(s))).toBeGreaterThan(2.2);
  });

  it('alternativeExcess by hand: a = (S - sqrt(T)) / sum V, excess a tilt - a^2 curvature; 0 below 1 standard error', () => {
    const s = {
      ...emptyScoreSum(),
      sum: 40,
      variance: 100,
      squares: 144,
      tilt: 80,
      curvature: 5,
      minutes: 30,
    };
    // T = 144, a = (40 - 12) / 100 = 0.28, excess = 0.28 x 80 - 0.0784 x 5 = 22.008
    expect(alternativeExcess(s)).toBeCloseTo(22.008, 9);
    expect(robustTime(s)).toBeCloseTo(144 - 22.008, 9);
    expect(alternativeExcess({ ...s, sum: 12 })).toBe(0);
    // never below the model variance
    expect(robustTime({ ...s, squares: 101 })).toBe(100);
    // scores without a tilt (pass, ceiling) are judged on their squares as they are
    expect(robustTime({ ...s, tilt: 0 })).toBe(144);
  });

  it("a 2x regression at 10 % of the traffic is judged against the null's variance, not its own larger one", () => {
    const u = mulberry32(11);
    const s = emptyScoreSum();
    // 1 % baseline, candidate 2 %, 300 of 3,000 requests a minute: q = 2p / (1 + p) = 0.18 of the 5XX
    for (let t = 0; t < 30; t++) {
      const m = minute(300, binomial(u, 300, 0.02), 2700, binomial(u, 2700, 0.01));
      addScore(s, errorScoreMinute(m, 0.01));
    }
    const own = s.squares / s.variance;
    // the squares carry the alternative's variance, q (1 - q) / (p (1 - p)) = 1.65 times the null's
    expect(own).toBeGreaterThan(1.3);
    expect(robustTime(s) / s.variance).toBeLessThan(own - 0.25);
    expect(robustEvidence(s, 2)).toBeGreaterThan(normalMixtureOf(s.sum, s.squares, 2));
  });
});

const normalMixtureOf = (sum: number, time: number, rho: number) =>
  robustEvidence({ ...emptyScoreSum(), sum, variance: time, squares: 0 }, rho);
