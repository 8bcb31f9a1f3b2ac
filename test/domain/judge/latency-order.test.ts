import { describe, expect, it } from 'vitest';
import {
  nearestRank,
  orderStatisticExceeds,
  slowerChanceUnderNull,
} from '../../../src/domain/judge/latency-order';
import { SIGN_GRID, signMinute } from '../../../src/domain/judge/sequential';

/** P(X_(i:m) > Y_(j:n)) by counting every interleaving of m X's and n Y's (small m, n only). */
const byEnumeration = (i: number, m: number, j: number, n: number): number => {
  let hits = 0;
  let all = 0;
  const walk = (xs: number, ys: number, xsBeforeJthY: number | null): void => {
    if (xs === m && ys === n) {
      all += 1;
      if (xsBeforeJthY !== null && xsBeforeJthY < i) hits += 1;
      return;
    }
    if (xs < m) walk(xs + 1, ys, xsBeforeJthY);
    if (ys < n) walk(xs, ys + 1, ys + 1 === j ? xs : xsBeforeJthY);
  };
  walk(0, 0, null);
  return hits / all;
};

describe('order statistics of two samples from one distribution', () => {
  it('matches counting the interleavings', () => {
    for (const [i, m, j, n] of [
      [3, 3, 5, 5],
      [1, 1, 8, 9],
      [2, 4, 3, 6],
      [5, 6, 1, 7],
      [4, 8, 4, 8],
    ] as const) {
      expect(orderStatisticExceeds(i, m, j, n)).toBeCloseTo(byEnumeration(i, m, j, n), 12);
    }
  });

  it('large samples: the sum over the short side agrees with the complement', () => {
    const p = orderStatisticExceeds(1485, 1500, 13365, 13500);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    expect(orderStatisticExceeds(1, 1500, 1, 13500)).toBeCloseTo(13500 / 15000, 10);
  });

  it('nearest rank: p99 of 69-99 requests is their maximum, of 100 the 99th', () => {
    expect([69, 99, 100, 300].map((n) => nearestRank('p99', n))).toEqual([69, 99, 99, 297]);
    expect(nearestRank('p50', 1)).toBe(1);
    expect(nearestRank('Maximum', 7)).toBe(7);
  });

  it('the small candidate sample reads slower more than half the time: 99 requests against 9,900', () => {
    // the maximum of 99 exceeds the true p99 with probability 1 - 0.99^99 = 0.63
    expect(slowerChanceUnderNull('p99', 99, 9900)).toBeGreaterThan(0.6);
    expect(slowerChanceUnderNull('p99', 100, 9900)).toBeLessThan(0.5);
    expect(slowerChanceUnderNull('Maximum', 10, 90)).toBeCloseTo(0.1, 12);
    expect(slowerChanceUnderNull('Maximum', 900, 100)).toBeCloseTo(0.9, 12);
    expect(slowerChanceUnderNull('p50', 500, 500)).toBeCloseTo(0.5, 9);
    // above 4,095 requests the log factorials come from Stirling's series, mixed with the exact table
    expect(slowerChanceUnderNull('p50', 5000, 5000)).toBeCloseTo(0.5, 9);
    expect(slowerChanceUnderNull('p90', 3000, 3000)).toBeCloseTo(0.5, 9);
  });
});

describe("the sign test against a minute's own null chance", () => {
  it("each alternative's likelihood ratio has expectation at most 1 whenever the true chance is at most the null's", () => {
    for (const nullChance of [0.05, 0.3, 0.5, 0.63, 0.9, 0.999]) {
      const slower = signMinute(true, nullChance).map(Math.exp);
      const notSlower = signMinute(false, nullChance).map(Math.exp);
      for (const truth of [0, nullChance / 2, nullChance]) {
        SIGN_GRID.forEach((_, k) => {
          expect(truth * slower[k]! + (1 - truth) * notSlower[k]!).toBeLessThanOrEqual(1 + 1e-12);
        });
      }
      // and above 1 once the candidate is slower more often than the null allows
      expect(
        Math.min(nullChance + 0.3, 1) * slower[0]! + (1 - Math.min(nullChance + 0.3, 1)) * notSlower[0]!,
      ).toBeGreaterThan(1);
    }
  });

  it('a minute whose null chance is (almost) 1 carries no evidence', () => {
    expect(signMinute(true, 1)).toEqual(SIGN_GRID.map(() => 0));
    expect(signMinute(false, 1 - 1e-12)).toEqual(SIGN_GRID.map(() => 0));
  });

  it('nor does one whose null chance is 0 (a bound rounded down): no evidence rather than NaN', () => {
    expect(signMinute(true, 0)).toEqual(SIGN_GRID.map(() => 0));
    expect(signMinute(false, 0)).toEqual(SIGN_GRID.map(() => 0));
  });
});
