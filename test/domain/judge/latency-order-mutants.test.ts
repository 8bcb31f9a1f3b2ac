import { describe, expect, it } from 'vitest';
import { orderStatisticExceeds, slowerChanceUnderNull } from '../../../src/domain/judge/latency-order';

describe('orderStatisticExceeds on small samples (counted by hand)', () => {
  it('one request each: either reads slower half the time', () => {
    expect(orderStatisticExceeds(1, 1, 1, 1)).toBeCloseTo(0.5, 12);
  });
  it('the maximum of 3 exceeds a single request 3 times in 4, the minimum of 3 once in 4', () => {
    expect(orderStatisticExceeds(3, 3, 1, 1)).toBeCloseTo(0.75, 12);
    expect(orderStatisticExceeds(1, 3, 1, 1)).toBeCloseTo(0.25, 12);
  });
  it('the median of 3 exceeds a single request half the time; the 2nd of 4 exceeds one 2 times in 5', () => {
    expect(orderStatisticExceeds(2, 3, 1, 1)).toBeCloseTo(0.5, 12);
    expect(orderStatisticExceeds(2, 4, 1, 1)).toBeCloseTo(0.4, 12);
    expect(orderStatisticExceeds(3, 4, 1, 1)).toBeCloseTo(0.6, 12);
  });
});

describe('slowerChanceUnderNull', () => {
  it('refuses a minute where either variant served no (rounded) request, naming both counts', () => {
    expect(() => slowerChanceUnderNull('p99', 0.4, 100)).toThrow(
      'both samples need a request (candidate 0, baseline 100)',
    );
    expect(() => slowerChanceUnderNull('p99', 100, 0.4)).toThrow(RangeError);
    expect(slowerChanceUnderNull('Maximum', 1, 1)).toBeCloseTo(0.5, 12);
  });
});

describe('orderStatisticExceeds in the far tail', () => {
  it('the fastest of 30 candidate requests exceeds the slowest of 30 baseline ones with chance 1 / C(60, 30), to 9 digits', () => {
    const exact = 1 / 1.1826458156486142e17; // C(60, 30) = 118,264,581,564,861,424
    expect(orderStatisticExceeds(1, 30, 30, 30) / exact).toBeCloseTo(1, 9);
  });
});
