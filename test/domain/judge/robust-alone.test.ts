import { describe, expect, it } from 'vitest';
import { type BenchJudge, runRollout } from '../../../bench/judge/simulate';
import type { TrafficModel } from '../../../bench/judge/traffic';
import { canaryGatesSchema } from '../../../src/config/schema';
import { ALPHA_SHARE, emptyTally, tallyMinute } from '../../../src/domain/judge';
import { restrictedVariance } from '../../../src/domain/judge/dispersion';
import { errorRobustPair, errorScoreRho } from '../../../src/domain/judge/sequential';

/**
 * The robust part of the 5XX comparison on its own, where the exact test beside it says nothing
 * (it rolls back most of these canaries): per-variant rates that vary from minute to minute and
 * clustered failures, healthy candidates, the canary's 10 / 25 / 50 % steps. Its centring and the
 * shift it takes out of the squares must not spend more than its share of alpha. `ROBUST_RUNS`
 * canaries per cell (small by default; 1,500 is the size at which taking the shift out of the
 * squares at its point estimate, centring from the first minute, or centring the first minutes on
 * the point estimate instead of its lower bound (EARLY_CENTRE_MARGIN 0), is seen to fail it; at
 * low counts, dropping the floor under the restricted variance, LOW_COUNT_FLOOR 0).
 */
const RUNS = Number(process.env.ROBUST_RUNS ?? 60);
const gates = canaryGatesSchema.parse({});
const share = gates.alpha * ALPHA_SHARE.errors;
const limit = 1 / share;

/** Rolls back when the robust pair reaches the 5XX limit; passes each step at the end of its bake. */
const robustAlone: BenchJudge = {
  name: 'robust-alone',
  start() {
    const tally = emptyTally(gates);
    let settled = 0;
    return (v) => {
      const until = v.now - gates.ingestionLagMinutes;
      for (; settled < until; settled++) {
        const m = v.minutes[settled]!;
        tallyMinute(
          tally,
          { at: m.t, invocations: m.candidateRequests, errors5xx: m.candidateErrors, latencyMs: null },
          { at: m.t, invocations: m.baselineRequests, errors5xx: m.baselineErrors, latencyMs: null },
          gates,
        );
      }
      const evidence = errorRobustPair(
        tally.errorScores,
        errorScoreRho(gates.detectErrorRatio),
        restrictedVariance(tally.errorDispersion),
      );
      if (evidence >= limit) return 'rollback';
      return v.now < v.bakeUntil || until < v.bakeUntil ? 'wait' : 'pass';
    };
  },
};

/** Share of healthy canaries the robust part alone rolls back over the cells, RUNS each. */
const rolledBackShare = (models: TrafficModel[], rpms: number[], baselineErrorRate: number) => {
  let rolledBack = 0;
  let runs = 0;
  for (const traffic of models)
    for (const rpm of rpms)
      for (let i = 0; i < RUNS; i++) {
        const cell = { rpm, baselineErrorRate, errorFactor: 1, latencyFactor: 1, traffic };
        if (runRollout(cell, robustAlone, 1000 + i * 7919).rolledBack) rolledBack += 1;
        runs += 1;
      }
  return { share: rolledBack / runs, runs };
};

const within = (measured: { share: number; runs: number }) =>
  share + 3 * Math.sqrt((share * (1 - share)) / measured.runs);

describe('the robust 5XX test alone on overdispersed and clustered null traffic', () => {
  it(`keeps its share of alpha (${(share * 100).toFixed(2)} %), 9 cells x ${RUNS}`, () => {
    const measured = rolledBackShare(
      ['beta-cv1', 'beta-cv0.5', 'clusters-candidate'],
      [3000, 10_000, 30_000],
      0.01,
    );
    expect(measured.share).toBeLessThanOrEqual(within(measured));
  }, 120_000);

  it(`keeps it at low counts, where the restricted variance stands on the floor (6 cells x ${RUNS})`, () => {
    // a fraction of a candidate 5XX a minute: the dispersion is learned from a few clusters
    const measured = rolledBackShare(['clusters-candidate', 'clusters-both', 'beta-cv1'], [300, 1000], 0.01);
    expect(measured.share).toBeLessThanOrEqual(within(measured));
  }, 120_000);
});
