import { describe, expect, it } from 'vitest';
import { conditionalPower, oraclePower, stepCounts } from '../../../bench/judge/power';

describe('the most any judge can detect (Neyman-Pearson with the rates known)', () => {
  it('oracle by hand: Poisson(1) against Poisson(2) at alpha 0.01 rejects X >= 5, and X = 4 with gamma', () => {
    const e1 = Math.exp(-1);
    const e2 = Math.exp(-2);
    const above4 = 1 - e1 * (1 + 1 + 1 / 2 + 1 / 6 + 1 / 24);
    const gamma = (0.01 - above4) / (e1 / 24);
    const expected = 1 - e2 * (1 + 2 + 2 + 4 / 3 + 2 / 3) + gamma * e2 * (16 / 24);
    expect(oraclePower(1000, 0.001, 2, 0.01)).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.08997, 4);
  });

  it('a test of size alpha against no regression has power alpha (the conditional test is exact)', () => {
    const steps = stepCounts(300, [10, 25, 50], 10);
    expect(conditionalPower(steps, 0.01, 1, 0.01, 2000)).toBeCloseTo(0.01, 12);
  });

  it('2x on a 0.1 % baseline at 300 rpm, 10 / 25 / 50 % for 10 minutes: no test reaches 95 %', () => {
    const steps = stepCounts(300, [10, 25, 50], 10);
    expect(steps.reduce((n, s) => n + s.candidateRequests, 0)).toBe(2550);
    expect(oraclePower(2550, 0.001, 2, 0.01)).toBeLessThan(0.2);
    // 20,000 canaries: the conditional test (what the judge sees) is weaker still
    const conditional = conditionalPower(steps, 0.001, 2, 0.01, 20_000);
    expect(conditional).toBeGreaterThan(0.08);
    expect(conditional).toBeLessThan(0.14);
  });

  it('what would make it feasible: 5,000 rpm (or 300 rpm with bakes 17 times as long) passes 95 %', () => {
    const steps = stepCounts(5000, [10, 25, 50], 10);
    expect(oraclePower(42_500, 0.001, 2, 0.01)).toBeGreaterThan(0.99);
    // 500 canaries (97.3 % over 200,000 in `tsx bench/judge/power.ts`); each E's test is exact
    expect(conditionalPower(steps, 0.001, 2, 0.01, 500)).toBeGreaterThan(0.95);
  }, 60_000);
});
