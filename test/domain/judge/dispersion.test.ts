import { describe, expect, it } from 'vitest';
import { betaRate, clusteredErrors } from '../../../bench/judge/traffic';
import { addDispersion, emptyDispersion, restrictedVariance } from '../../../src/domain/judge/dispersion';
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
import { binomial, mulberry32 } from '../../../src/local/cloud/samplers';

type Minute = [
  candidateRequests: number,
  candidateErrors: number,
  baselineRequests: number,
  baselineErrors: number,
];

const dispersionOf = (minutes: Minute[]) => {
  const d = emptyDispersion();
  for (const [nc, ec, nb, eb] of minutes) addDispersion(d, nc, ec, nb, eb);
  return d;
};
const sumV = (minutes: Minute[]) =>
  minutes.reduce((v, [nc, ec, nb, eb]) => v + ((ec + eb) * nc * nb) / (nc + nb) ** 2, 0);

describe('the restricted variance of the 5XX score', () => {
  it('by hand: three minutes, the candidate 1.3 times the baseline, residuals at that share', () => {
    const minutes: Minute[] = [
      [100, 0, 900, 5],
      [100, 2, 900, 4],
      [200, 1, 800, 6],
    ];
    // theta = (3 / 400) / (15 / 2600) = 1.3; q = 1.3 p / (1.3 p + 1 - p); residuals e_c - E q:
    // squares 2.45666, independent variance sum of E q (1 - q) = 2.50896 (of its squares 2.42110),
    // Pearson 2.45666 x 3 / 2; phi = 1.46873, psi = (3.68499 - 2.50896) / 2.42110 = 0.48574;
    // sum V = 2.11, of V^2 1.7485: max(1.46873 x 2.11, 2.11 + 0.48574 x 1.7485)
    expect(sumV(minutes)).toBeCloseTo(2.11, 12);
    expect(restrictedVariance(dispersionOf(minutes))).toBeCloseTo(3.099027, 5);
  });

  it('is sum V with fewer than two minutes, without 5XX on a side, and never below it', () => {
    expect(restrictedVariance(dispersionOf([[100, 4, 300, 2]]))).toBeCloseTo(sumV([[100, 4, 300, 2]]), 12);
    const oneSided: Minute[] = [
      [100, 2, 300, 0],
      [100, 0, 300, 0],
      [100, 3, 300, 0],
    ];
    expect(restrictedVariance(dispersionOf(oneSided))).toBeCloseTo(sumV(oneSided), 12);
    // the candidate's share exactly as fitted every minute: no residual, phi 1
    const even: Minute[] = [
      [100, 1, 300, 3],
      [100, 1, 300, 3],
    ];
    expect(restrictedVariance(dispersionOf(even))).toBeCloseTo(sumV(even), 12);
    // a minute in which a variant served nothing is no minute of the comparison
    expect(dispersionOf([[0, 0, 300, 3]]).minutes).toHaveLength(0);
  });

  const simulate = (minutes: number, draw: (u: () => number) => Minute) => {
    const u = mulberry32(11);
    return Array.from({ length: minutes }, () => draw(u));
  };

  it('learns clusters: 2-5 failing together multiply it by about E[s^2] / E[s] = 3.86', () => {
    const clustered = simulate(300, (u) => [
      300,
      clusteredErrors(u, 300, 0.01),
      900,
      clusteredErrors(u, 900, 0.01),
    ]);
    const ratio = restrictedVariance(dispersionOf(clustered)) / sumV(clustered);
    expect(ratio).toBeGreaterThan(3);
    expect(ratio).toBeLessThan(4.8);
  });

  it("is not raised by what both variants share (incidents of 10x the errors), given each minute's 5XX", () => {
    const incidents = simulate(300, (u) => {
      const rate = u() < 0.1 ? 0.1 : 0.01;
      return [300, binomial(u, 300, rate), 900, binomial(u, 900, rate)];
    });
    expect(restrictedVariance(dispersionOf(incidents)) / sumV(incidents)).toBeLessThan(1.2);
  });

  it('learns rates that vary per variant: CV 1 at 3 and 9 expected 5XX a minute gives several times sum V', () => {
    const varying = simulate(300, (u) => [
      300,
      binomial(u, 300, betaRate(u, 0.01, 1)),
      900,
      binomial(u, 900, betaRate(u, 0.01, 1)),
    ]);
    expect(restrictedVariance(dispersionOf(varying)) / sumV(varying)).toBeGreaterThan(3);
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

  it('floor weight: LOW_COUNT_FLOOR below half an expected candidate 5XX a minute, else 1', () => {
    expect(floorWeightOf(0.3)).toBe(LOW_COUNT_FLOOR);
    expect(floorWeightOf(0.5)).toBe(1);
    expect(floorWeightOf(25)).toBe(1);
  });

  it('evidence: at low counts the mean of the normal mixtures at rho and rho x WIDE_RHO_FACTOR, else the first', () => {
    const s = sum({ sum: 15, variance: 5, squares: 5, floorSquares: 5, minutes: 40, lowCountMinutes: 21 });
    const mixture = (rho: number) => {
      const scale = 5 + rho;
      // 2 sqrt(rho / scale) exp(S^2 / 2 scale) Phi(S / sqrt(scale)), Phi(15 / sqrt(scale)) = 1 to 3e-7 here
      return 2 * Math.sqrt(rho / scale) * Math.exp(225 / (2 * scale));
    };
    const expected = (mixture(4) + mixture(4 * WIDE_RHO_FACTOR)) / 2;
    expect(errorRobustEvidence(s, 4, 5) / expected).toBeCloseTo(1, 5);
    expect(errorRobustEvidence({ ...s, lowCountMinutes: 20 }, 4, 5) / mixture(4)).toBeCloseTo(1, 5);
    // the wide prior is what carries a large shift over a short time
    expect(mixture(4 * WIDE_RHO_FACTOR)).toBeGreaterThan(10 * mixture(4));
  });
});
