import { describe, expect, it } from 'vitest';
import {
  addInto,
  ceilingMinute,
  errorRatioGrid,
  errorRatioMinute,
  errorScoreMinute,
  errorScoreRho,
  evidenceOf,
  firstLookLimit,
  firstLookWeight,
  logMeanExp,
  passScoreMinute,
  signMinute,
} from '../../../src/domain/judge/sequential';

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

describe("error-ratio test (conditional on each minute's requests)", () => {
  it('one component by hand: p = 0.1, theta = 2, 3 candidate and 2 baseline errors', () => {
    // q = 2(0.1) / (2(0.1) + 0.9) = 0.1818...; 3 ln(q/p) + 2 ln((1-q)/(1-p)) = 1.6028906...
    const [logLr] = errorRatioMinute(minute(100, 3, 900, 2), [2]);
    expect(logLr).toBeCloseTo(1.6028906426582115, 12);
  });

  it('the mixture is the equal-weight mean over the grid sqrt(r) .. r^3', () => {
    expect(errorRatioGrid(2)).toEqual(
      [Math.SQRT2, 2, 2 * Math.SQRT2, 4, 4 * Math.SQRT2, 8].map((x) => expect.closeTo(x, 12)),
    );
    const grid = errorRatioGrid(2);
    expect(evidenceOf(errorRatioMinute(minute(100, 3, 900, 2), grid))).toBeCloseTo(16.184644981393433, 9);
  });

  it('minutes multiply (their logs add), each with its own traffic share', () => {
    const grid = errorRatioGrid(2);
    const totals = grid.map(() => 0);
    addInto(totals, errorRatioMinute(minute(100, 3, 900, 2), grid));
    addInto(totals, errorRatioMinute(minute(250, 5, 750, 5), grid));
    expect(evidenceOf(totals)).toBeCloseTo(40.834357486045036, 9);
  });

  it('a minute without errors or without one of the variants carries no evidence', () => {
    expect(errorRatioMinute(minute(100, 0, 900, 0), [2, 4])).toEqual([0, 0]);
    expect(errorRatioMinute(minute(0, 0, 900, 9), [2, 4])).toEqual([0, 0]);
    expect(errorRatioMinute(minute(100, 9, 0, 0), [2, 4])).toEqual([0, 0]);
  });

  it('a burst that hits both variants alike is evidence for the candidate, not against it', () => {
    const burst = errorRatioMinute(minute(100, 10, 900, 90), errorRatioGrid(2));
    expect(evidenceOf(burst)).toBeLessThan(1);
  });
});

describe('minutes that say nothing about the ratio', () => {
  it('no requests, or 5XX counted before their requests (metrics published apart): no evidence, never NaN', () => {
    const grid = errorRatioGrid(2);
    const none = grid.map(() => 0);
    expect(errorRatioMinute(minute(0, 0, 0, 0), grid)).toEqual(none);
    expect(errorRatioMinute(minute(0, 1, 0, 0), grid)).toEqual(none);
    expect(errorRatioMinute(minute(0, 0, 0, 3), grid)).toEqual(none);
  });

  it("the robust comparison's rho by hand: r = 2, p = 1/4, q = 0.4, lambda = 0.8, rho = 2.5 / 0.64", () => {
    expect(errorScoreRho(2)).toBeCloseTo(3.90625, 12);
  });

  it('the robust pass score by hand: p = 0.1, r = 2, 3 candidate and 2 baseline errors', () => {
    // W = (1 - p) e_c - r p e_b = 2.7 - 0.4 = 2.3, returned negated; its variance at ratio r given
    // E = 5 is (1 - p + r p)^2 E q (1 - q) with q = r p / (r p + 1 - p), which is E r p (1 - p) = 0.9
    const { score, variance } = passScoreMinute(minute(100, 3, 900, 2), 2);
    expect(score).toBeCloseTo(-2.3, 12);
    expect(variance).toBeCloseTo(0.9, 12);
    expect(passScoreMinute(minute(0, 0, 0, 0), 2)).toEqual({ score: 0, variance: 0 });
    expect(passScoreMinute(minute(0, 1, 0, 0), 2)).toEqual({ score: 0, variance: 0 });
  });

  it("the robust score: a minute without a 5XX adds nothing, not even to the dispersion bound's time", () => {
    const nothing = { score: 0, variance: 0, bound: 0, tilt: 0, curvature: 0 };
    expect(errorScoreMinute(minute(100, 0, 900, 0), 0.01)).toEqual(nothing);
    expect(errorScoreMinute(minute(0, 0, 0, 0), 0.01)).toEqual(nothing);
    expect(errorScoreMinute(minute(0, 1, 0, 0), 0.01)).toEqual(nothing);
  });
});

describe('ceiling and latency tests', () => {
  it('ceiling by hand: 100 errors in 1,000 requests against a 5 % ceiling', () => {
    const log = ceilingMinute(1000, 100, 0.05);
    // m = 2: 100 ln 2 - (2 - 1)(0.05)(1000)
    expect(log[1]).toBeCloseTo(100 * Math.log(2) - 50, 12);
    expect(evidenceOf(log)).toBeCloseTo(50032712.298554875, 0);
  });

  it('sign test by hand: 9 slower minutes of 10', () => {
    const totals = signMinute(true, 0.5).map(() => 0);
    for (let i = 0; i < 9; i++) addInto(totals, signMinute(true, 0.5));
    addInto(totals, signMinute(false, 0.5));
    expect(evidenceOf(totals)).toBeCloseTo(21.407679848373654, 9);
  });

  it('logMeanExp is stable for large logs', () => {
    expect(logMeanExp([1000, 1000])).toBeCloseTo(1000, 9);
    expect(logMeanExp([Number.NEGATIVE_INFINITY])).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('first looks at unsettled minutes (alpha spent minute by minute)', () => {
  it('weights 1/((k+1)(k+2)): 1/2, 1/6, 1/12, ... summing to 1 over the canary', () => {
    expect([0, 1, 2, 9].map(firstLookWeight)).toEqual([1 / 2, 1 / 6, 1 / 12, 1 / 110]);
    let sum = 0;
    for (let k = 0; k < 10_000; k++) sum += firstLookWeight(k);
    expect(sum).toBeCloseTo(1 - 1 / 10_001, 12);
  });

  it('limit = 1 / (alpha x weight): minute 0 at a first-look alpha of 0.0005 needs 4,000:1', () => {
    expect(firstLookLimit(0, 0.0005)).toBeCloseTo(4000, 9);
    expect(firstLookLimit(5, 0.0005)).toBeCloseTo(84_000, 6);
  });

  it('a thinned minute is an e-value: its likelihood ratio averages 1 under the null, by exact sum', () => {
    // visible part of a minute: 40 candidate and 360 baseline requests with E = 6 5XX in it; under
    // theta = 1 the candidate's share of them is Binomial(6, 0.1): E[LR(theta)] = 1 for every theta
    const grid = errorRatioGrid(2);
    const choose = (n: number, k: number): number => (k === 0 ? 1 : (choose(n, k - 1) * (n - k + 1)) / k);
    let mean = 0;
    for (let x = 0; x <= 6; x++) {
      const probability = choose(6, x) * 0.1 ** x * 0.9 ** (6 - x);
      mean += probability * evidenceOf(errorRatioMinute(minute(40, x, 360, 6 - x), grid));
    }
    expect(mean).toBeCloseTo(1, 12);
  });
});
