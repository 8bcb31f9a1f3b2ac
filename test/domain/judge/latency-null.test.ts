import { describe, expect, it } from 'vitest';
import { canaryGatesSchema } from '../../../src/config/schema';
import { ALPHA_SHARE } from '../../../src/domain/judge';
import { EXAMPLE_STEPS, type LatencyCell, simulateLatencyCell } from './latency-simulation';

/**
 * The latency test's own share of alpha, checked by simulation request by request. The counts are
 * small so that the suite stays fast; LATENCY_ROLLOUTS=2000 runs every cell with that many.
 */
const ROLLOUTS = Number(process.env.LATENCY_ROLLOUTS ?? 0) || undefined;
const runs = (fallback: number) => ROLLOUTS ?? fallback;

const alpha = canaryGatesSchema.parse({}).alpha;
const share = alpha * ALPHA_SHARE.latency;
/** Rollbacks allowed in n runs: the share plus three standard errors of a Monte Carlo estimate. */
const allowed = (n: number) => Math.floor(share * n + 3 * Math.sqrt(share * (1 - share) * n));

const same = (rpm: number, sigma: number, extra: Partial<LatencyCell> = {}): LatencyCell => ({
  rpm,
  sigma,
  slowdown: 1,
  statistic: 'p99',
  maxLatencyRatio: 1,
  steps: EXAMPLE_STEPS,
  ...extra,
});

describe('latency test, candidate and baseline with one heavy-tailed latency distribution', () => {
  const cells: Array<[rpm: number, sigma: number, runs: number]> = [
    [30, 1, 100],
    [30, 1.5, 100],
    [100, 1, 100],
    [100, 1.5, 100],
    [300, 1, 60],
    [300, 1.5, 60],
    [1000, 1, 20],
    [1000, 1.5, 20],
  ];
  for (const [rpm, sigma, fallback] of cells) {
    it(`${rpm} rpm, log-normal sigma ${sigma}, 1 % of requests 10x slower, maxLatencyRatio 1: within the latency share of alpha`, () => {
      const result = simulateLatencyCell(same(rpm, sigma), runs(fallback), rpm + sigma * 10);
      expect(result.rolledBack).toBeLessThanOrEqual(allowed(result.rollouts));
    });
  }

  it('a candidate serving 90 % of the requests: its larger sample reads slower more often, and the test knows it', () => {
    // the baseline's p99 over 30 requests is its maximum: under the old fixed 1/2 both cells roll
    // back most canaries
    for (const statistic of ['p99', 'Maximum'] as const) {
      const cell = same(300, 1, { statistic, steps: [{ weight: 90, minutes: 60 }] });
      const result = simulateLatencyCell(cell, runs(60), 11);
      expect(result.rolledBack, statistic).toBeLessThanOrEqual(allowed(result.rollouts));
    }
  });
});

describe('latency test, a real regression', () => {
  it('2x slower at 300 and 1,000 rpm, 1.5x at 1,000 rpm: caught within the example canary (default 1.2x tolerance)', () => {
    const slower = (rpm: number, slowdown: number) =>
      simulateLatencyCell({ ...same(rpm, 1, { maxLatencyRatio: 1.2 }), slowdown }, runs(40), rpm).rate;
    expect(slower(300, 2)).toBeGreaterThanOrEqual(0.8);
    expect(slower(1000, 2)).toBeGreaterThanOrEqual(0.95);
    expect(slower(1000, 1.5)).toBeGreaterThanOrEqual(0.45);
  });
});
