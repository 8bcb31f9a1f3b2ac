import { describe, expect, it } from 'vitest';
import {
  addInto,
  ceilingMinute,
  errorRatioGrid,
  errorRatioMinute,
  evidenceOf,
  logMeanExp,
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

describe('ceiling and latency tests', () => {
  it('ceiling by hand: 100 errors in 1,000 requests against a 5 % ceiling', () => {
    const log = ceilingMinute(1000, 100, 0.05);
    // m = 2: 100 ln 2 - (2 - 1)(0.05)(1000)
    expect(log[1]).toBeCloseTo(100 * Math.log(2) - 50, 12);
    expect(evidenceOf(log)).toBeCloseTo(50032712.298554875, 0);
  });

  it('sign test by hand: 9 slower minutes of 10', () => {
    const totals = signMinute(true).map(() => 0);
    for (let i = 0; i < 9; i++) addInto(totals, signMinute(true));
    addInto(totals, signMinute(false));
    expect(evidenceOf(totals)).toBeCloseTo(21.407679848373654, 9);
  });

  it('logMeanExp is stable for large logs', () => {
    expect(logMeanExp([1000, 1000])).toBeCloseTo(1000, 9);
    expect(logMeanExp([Number.NEGATIVE_INFINITY])).toBe(Number.NEGATIVE_INFINITY);
  });
});
