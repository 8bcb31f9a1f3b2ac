import { describe, expect, it } from 'vitest';
import { projectJudge } from '../../../bench/judge/judges';
import { type Cell, runRollout } from '../../../bench/judge/simulate';
import { canaryGatesSchema } from '../../../src/config/schema';
import { ALPHA_SHARE, firstLook } from '../../../src/domain/judge';

/**
 * Monte Carlo of whole canaries (10/25/50 %, 10-minute bakes, a look every minute) through the
 * same tally and rules the tick uses, on simulated Poisson/binomial traffic with many seeds.
 */
const rolledBackShare = (cell: Cell, runs: number, alpha: number, seed: number): number => {
  const judge = projectJudge({ alpha });
  let rolledBack = 0;
  for (let i = 0; i < runs; i++) if (runRollout(cell, judge, seed + i * 7919).rolledBack) rolledBack += 1;
  return rolledBack / runs;
};

const healthy = (rpm: number, baselineErrorRate: number, bursts: boolean): Cell => ({
  rpm,
  baselineErrorRate,
  errorFactor: 1,
  latencyFactor: 1,
  traffic: bursts ? 'incidents' : 'independent',
});

describe('the false-rollback guarantee over repeated looks', () => {
  it('healthy candidates: at most alpha (0.01) rolled back, 12 traffic settings x 500 canaries', () => {
    let total = 0;
    let runs = 0;
    for (const rpm of [300, 3000, 30_000]) {
      for (const rate of [0.001, 0.01]) {
        for (const bursts of [false, true]) {
          total +=
            rolledBackShare(healthy(rpm, rate, bursts), 500, 0.01, rpm + rate * 1e6 + (bursts ? 1 : 0)) * 500;
          runs += 500;
        }
      }
    }
    expect(runs).toBe(6000);
    expect(total / runs).toBeLessThanOrEqual(0.01);
  });

  it('holds near its bound too: with alpha 0.2, at most 0.2 (plus 3 standard errors) over 1,000 canaries', () => {
    // much evidence per minute (3,000 rpm, 1 % 5XX) and a loose limit: a test that were not
    // anytime-valid would cross far more often than alpha here
    const share = rolledBackShare(healthy(3000, 0.01, true), 1000, 0.2, 42);
    expect(share).toBeLessThanOrEqual(0.2 + 3 * Math.sqrt((0.2 * 0.8) / 1000));
  });

  it('first looks alone, at a first-look alpha of 0.2: at most 0.2 (plus 3 standard errors) of 1,000 canaries', () => {
    // every minute of 100-minute healthy canaries (10 %, never passing) with bursts, read at its first tick (the on-time
    // part of it, as the local cloud's ingestion lag delivers it) against its own limit; with a
    // loose alpha a statistic that were not an e-value per minute would cross far more often
    // alpha x ALPHA_SHARE.firstLook (0.05) = 0.2: outside the schema's range, for this test only
    const gates = { ...canaryGatesSchema.parse({}), alpha: 0.2 / ALPHA_SHARE.firstLook };
    const cell = healthy(3000, 0.01, true);
    let crossed = 0;
    for (let i = 0; i < 1000; i++) {
      const minutes: Array<Parameters<typeof firstLook>[1]> = [];
      runRollout(
        cell,
        {
          name: 'first looks',
          start: () => (v) => {
            minutes.push(v.minutes.at(-1)!.firstLook);
            return 'wait';
          },
        },
        99 + i * 7919,
      );
      if (minutes.some((m, k) => firstLook(k, m, gates).evidence >= firstLook(k, m, gates).limit))
        crossed += 1;
    }
    expect(crossed / 1000).toBeLessThanOrEqual(0.2 + 3 * Math.sqrt((0.2 * 0.8) / 1000));
  });

  it('and still catches regressions: 3x the baseline 5XX at 300 rpm (1 %) in at least 95 % of 500 canaries', () => {
    const share = rolledBackShare({ ...healthy(300, 0.01, false), errorFactor: 3 }, 500, 0.01, 7);
    expect(share).toBeGreaterThanOrEqual(0.95);
  });
});
