import { describe, expect, it } from 'vitest';
import { betaRate, clusteredErrors } from '../../../bench/judge/traffic';
import {
  addDispersion,
  addMoments,
  dispersionOf,
  emptyDispersion,
  emptyMoments,
  restrictedVariance,
  squaredDispersionOf,
} from '../../../src/domain/judge/dispersion';
import {
  addScore,
  emptyScoreSum,
  errorRobustEvidence,
  errorScoreMinute,
  floorWeightOf,
  LOW_COUNT_FLOOR,
  robustTime,
  WIDE_RHO_FACTOR,
} from '../../../src/domain/judge/sequential';
import { binomial, mulberry32, poisson } from '../../../src/local/cloud/samplers';

const momentsOf = (minutes: Array<[number, number]>) => {
  const m = emptyMoments();
  for (const [requests, errors] of minutes) addMoments(m, requests, errors);
  return m;
};

describe('per-variant dispersion of the 5XX counts', () => {
  it('by hand: (100, 0), (100, 2), (200, 1): Pearson 2.375 over 2 of 3 degrees of freedom, per 3 errors', () => {
    const m = momentsOf([
      [100, 0],
      [100, 2],
      [200, 1],
    ]);
    // R = 3 / 400; (0 - 0.75)^2 + (2 - 0.75)^2 + (1 - 1.5)^2 = 2.375, x 3 / 2 = 3.5625
    expect(dispersionOf(m)).toBeCloseTo(3.5625 / 3, 12);
    // (3.5625 - 3) / (R^2 x (100^2 + 100^2 + 200^2))
    expect(squaredDispersionOf(m)).toBeCloseTo(0.5625 / 3.375, 12);
  });

  it('is 1 (and no squared dispersion) before two minutes or a single 5XX, and never below 1', () => {
    expect(dispersionOf(momentsOf([[100, 4]]))).toBe(1);
    expect(squaredDispersionOf(momentsOf([[100, 4]]))).toBe(0);
    expect(
      dispersionOf(
        momentsOf([
          [100, 0],
          [100, 0],
        ]),
      ),
    ).toBe(1);
    // perfectly even counts: Pearson 0
    const even = momentsOf([
      [100, 1],
      [100, 1],
      [100, 1],
    ]);
    expect(dispersionOf(even)).toBe(1);
    expect(squaredDispersionOf(even)).toBe(0);
    // a minute without requests is no minute
    expect(momentsOf([[0, 0]]).minutes).toBe(0);
  });

  it('learns what the traffic does: Poisson about 1, clusters of 2-5 about E[s^2]/E[s] = 3.86, CV 1 about kappa 1', () => {
    const u = mulberry32(7);
    const poissonMinutes = momentsOf(Array.from({ length: 400 }, () => [300, poisson(u, 3)]));
    expect(dispersionOf(poissonMinutes)).toBeLessThan(1.2);
    const clustered = momentsOf(Array.from({ length: 400 }, () => [1000, clusteredErrors(u, 1000, 0.003)]));
    expect(dispersionOf(clustered)).toBeGreaterThan(3.2);
    expect(dispersionOf(clustered)).toBeLessThan(4.6);
    const varying = momentsOf(
      Array.from({ length: 400 }, () => [1000, binomial(u, 1000, betaRate(u, 0.01, 1))]),
    );
    expect(squaredDispersionOf(varying)).toBeGreaterThan(0.7);
    expect(squaredDispersionOf(varying)).toBeLessThan(1.3);
  });
});

describe('the restricted variance of the 5XX score', () => {
  it('by hand: the larger of the linear and quadratic fits over three minutes', () => {
    const d = emptyDispersion();
    addDispersion(d, 100, 0, 900, 5);
    addDispersion(d, 100, 2, 900, 4);
    addDispersion(d, 200, 1, 800, 6);
    // sum of V (1 - p): 5 x .1 x .9 x .9 + 6 x .1 x .9 x .9 + 7 x .2 x .8 x .8
    expect(d.candidateWeight).toBeCloseTo(1.787, 12);
    expect(d.baselineWeight).toBeCloseTo(0.323, 12);
    // linear: 1.1875 x 1.787 + 1 x 0.323; quadratic: 1.787 + 0.323 + (1/6) x 1.7485 (smaller)
    expect(restrictedVariance(d)).toBeCloseTo(1.1875 * 1.787 + 0.323, 9);
  });

  it('equals sum V = E p (1 - p) for counts without dispersion', () => {
    const d = emptyDispersion();
    addDispersion(d, 100, 1, 300, 3);
    addDispersion(d, 100, 1, 300, 3);
    const v = 2 * 4 * 0.25 * 0.75;
    expect(restrictedVariance(d)).toBeCloseTo(v, 12);
  });

  it('stays near sum V for a 5x regression at low counts, where the squares come out 2-3x sum V', () => {
    const u = mulberry32(11);
    const s = emptyScoreSum();
    const d = emptyDispersion();
    for (let t = 0; t < 200; t++) {
      const c = binomial(u, 30, 0.005);
      const b = binomial(u, 270, 0.001);
      addScore(
        s,
        errorScoreMinute({
          candidateRequests: 30,
          candidateErrors: c,
          baselineRequests: 270,
          baselineErrors: b,
        }),
      );
      addDispersion(d, 30, c, 270, b);
    }
    expect(s.squares / s.variance).toBeGreaterThan(1.8);
    expect(restrictedVariance(d) / s.variance).toBeLessThan(1.3);
  });
});

describe('the 5XX comparison time and evidence with the restricted variance', () => {
  const sum = (over: Partial<ReturnType<typeof emptyScoreSum>>) => ({ ...emptyScoreSum(), ...over });

  it('time: max(sum V, restricted, floor), the floor the squares less excess at their floor weights', () => {
    // no tilt, so no excess: floor = 12 x (6 / 12)
    const s = sum({ sum: 5, variance: 4, squares: 12, floorSquares: 6, minutes: 10 });
    expect(robustTime(s, 5)).toBe(6);
    expect(robustTime(s, 7)).toBe(7);
    expect(robustTime(s, 3)).toBe(6);
    expect(robustTime({ ...s, floorSquares: 2 }, 3)).toBe(4);
    // without a restricted variance (the ceiling and pass tests): the squares as before
    expect(robustTime(s)).toBe(12);
  });

  it('floor weight: LOW_COUNT_FLOOR below one expected candidate 5XX a minute, else 1', () => {
    expect(floorWeightOf(0.3)).toBe(LOW_COUNT_FLOOR);
    expect(floorWeightOf(1)).toBe(1);
    expect(floorWeightOf(25)).toBe(1);
  });

  it('evidence: the mean of the normal mixtures at rho and rho x WIDE_RHO_FACTOR', () => {
    const s = sum({ sum: 15, variance: 5, squares: 5, floorSquares: 5, minutes: 40 });
    const mixture = (rho: number) => {
      const scale = 5 + rho;
      // 2 sqrt(rho / scale) exp(S^2 / 2 scale) Phi(S / sqrt(scale)), Phi(15 / sqrt(scale)) = 1 to 3e-7 here
      return 2 * Math.sqrt(rho / scale) * Math.exp(225 / (2 * scale));
    };
    const expected = (mixture(4) + mixture(4 * WIDE_RHO_FACTOR)) / 2;
    expect(errorRobustEvidence(s, 4, 5) / expected).toBeCloseTo(1, 5);
    // the wide prior is what carries a large shift over a short time
    expect(mixture(4 * WIDE_RHO_FACTOR)).toBeGreaterThan(10 * mixture(4));
  });
});
