import { describe, expect, it } from 'vitest';
import { canaryGatesSchema, type GateConfig } from '../../../src/config/schema';
import { emptyTally, judgeCanary, stepOutcome, tallyMinute } from '../../../src/domain/judge';
import { MIN, readings, T0 } from './minute-readings';

const gates = (overrides: Record<string, unknown> = {}): GateConfig => canaryGatesSchema.parse(overrides);
const timing = { startedAt: T0, extensions: 0 };
const healthyMinute: [number, number, number, number, number, number] = [100, 0, 40, 900, 2, 40];
const badMinute: [number, number, number, number, number, number] = [100, 20, 40, 900, 2, 40];

describe('judgeCanary', () => {
  it('rolls back with the evidence in words: rates, counts, odds against the candidate and the limit', () => {
    const r = readings([...Array(5).fill(healthyMinute), badMinute, badMinute, badMinute]);
    const verdict = judgeCanary(r, gates(), timing, T0 + 12 * MIN);
    expect(verdict.status).toBe('rollback');
    if (verdict.status !== 'rollback') return;
    expect(verdict.reasons[0]).toMatch(
      /^candidate 5XX 7\.50 % \(60 of 800\) vs baseline 0\.22 % \(16 of 7,200\), evidence >?[\d,]+:1 against the candidate, limit 159:1$/,
    );
    expect(verdict.readings.evidence!.errors).toBeGreaterThan(159);
  });

  it('a gross regression needs both tests: two bad minutes are not enough for the robust one, three are', () => {
    // the exact test alone would roll back on the first bad minute; the robust pair, which allows
    // for minute-to-minute variation of each variant's rate, needs more of them
    const two = readings([...Array(5).fill(healthyMinute), badMinute, badMinute]);
    expect(judgeCanary(two, gates(), timing, T0 + 11 * MIN).status).not.toBe('rollback');
    const three = readings([...Array(5).fill(healthyMinute), badMinute, badMinute, badMinute]);
    expect(judgeCanary(three, gates(), timing, T0 + 12 * MIN).status).toBe('rollback');
  });

  it('leaves minutes newer than the ingestion lag for a later tick, and judges them then', () => {
    const r = readings([...Array(5).fill(healthyMinute), badMinute, badMinute, badMinute]);
    // at 9 min the bad minutes (5 to 7) are not settled (lag 3) and minute 8, the one a first
    // look would read, has no data: nothing to roll back for yet
    const early = judgeCanary(r, gates(), timing, T0 + 9 * MIN);
    expect(early.status).not.toBe('rollback');
    expect(early.readings.evidence!.minutes).toBe(6);
    expect(early.readings.settledUntil).toBe(T0 + 6 * MIN);
    expect(judgeCanary(r, gates(), timing, T0 + 11 * MIN).status).toBe('rollback');
    expect(judgeCanary(r, gates({ ingestionLagMinutes: 0 }), timing, T0 + 9 * MIN).status).toBe('rollback');
  });

  it('first look: the newest minute, read before it settles, rolls back on its own limit', () => {
    // minute 5 ends at 6 min; its visible part (half of it here) is judged alone at the first tick
    const r = readings([...Array(5).fill(healthyMinute), [50, 30, 40, 450, 1, 40]]);
    const verdict = judgeCanary(r, gates(), timing, T0 + 6 * MIN + 5_000);
    expect(verdict.status).toBe('rollback');
    expect(verdict.status === 'rollback' && verdict.reasons).toEqual([
      expect.stringMatching(
        /^candidate 5XX 60\.00 % \(30 of 50\) vs baseline 0\.22 % \(1 of 450\) in minute 6 of the canary as read before it settled, evidence >?[\d,]+:1 against the candidate, limit 210,000:1 \(a first look rolls back only at a 5XX rate of 50\.00 % or more\)$/,
      ),
    ]);
    // the settled test had not seen the minute: its evidence is that of the healthy minutes
    expect(verdict.readings.evidence!.minutes).toBe(3);
    expect(verdict.readings.evidence!.errors).toBeLessThan(1);
    // the totals reported with the rollback include the minute the first look read
    expect(verdict.readings.candidate).toMatchObject({ invocations: 350, errors5xx: 30 });
    expect(verdict.readings.baseline).toMatchObject({ invocations: 3150, errors5xx: 7 });
  });

  it('first look: only a gross failure (10x the ceiling, at most 50 %) rolls back on one minute', () => {
    // 20 % of the visible requests fail: the exact evidence is far above the limit, but a candidate
    // whose rate varies from minute to minute can show that in one minute without being worse
    const r = readings([...Array(5).fill(healthyMinute), [50, 10, 40, 450, 1, 40]]);
    expect(judgeCanary(r, gates(), timing, T0 + 6 * MIN + 5_000).status).not.toBe('rollback');
    // with a 1 % ceiling the gross rate is 10 %: the same minute rolls back
    const tight = judgeCanary(r, gates({ maxErrorRate: 0.01 }), timing, T0 + 6 * MIN + 5_000);
    expect(tight.status === 'rollback' && tight.reasons.join('; ')).toMatch(/as read before it settled/);
  });

  it('first look: a minute looked at later than its first tick, or already settled, is not looked at again', () => {
    const r = readings([...Array(5).fill(healthyMinute), [50, 30, 40, 450, 1, 40]]);
    // at 7 min the newest complete minute is 6, without data; minute 5 waits for the settled test
    expect(judgeCanary(r, gates(), timing, T0 + 7 * MIN).status).not.toBe('rollback');
    // with no lag minute 5 is settled at 6 min and judged by the settled tests alone
    const settled = judgeCanary(r, gates({ ingestionLagMinutes: 0 }), timing, T0 + 6 * MIN);
    expect(settled.readings.evidence!.minutes).toBe(6);
    expect(settled.reasons.join('; ')).not.toMatch(/as read before it settled/);
  });

  it('first look: a shared incident (both variants err 10x) is no evidence against the candidate', () => {
    const r = readings([...Array(5).fill(healthyMinute), [50, 5, 40, 450, 45, 40]]);
    expect(judgeCanary(r, gates(), timing, T0 + 6 * MIN).status).not.toBe('rollback');
  });

  it('a minute in which neither variant served a request changes nothing: the regression still rolls back', () => {
    const idle: [number, number, number, number, number, number] = [0, 0, 40, 0, 0, 40];
    const r = readings([...Array(5).fill(healthyMinute), badMinute, idle, badMinute, badMinute]);
    const verdict = judgeCanary(r, gates(), timing, T0 + 13 * MIN);
    expect(verdict.status).toBe('rollback');
    expect(Number.isFinite(verdict.readings.evidence!.errors)).toBe(true);
  });

  it("minutes before the canary started are not judged: a bad stretch before it is not the candidate's", () => {
    const r = readings([...Array(5).fill(badMinute), ...Array(5).fill(healthyMinute)]);
    const started = { startedAt: T0 + 5 * MIN + 30_000, extensions: 0 };
    const verdict = judgeCanary(r, gates(), started, T0 + 14 * MIN);
    expect(verdict.status).not.toBe('rollback');
    expect(verdict.readings.candidate.errors5xx).toBe(0);
    // from the minute it started in: the five healthy minutes
    expect(verdict.readings.evidence!.minutes).toBe(5);
  });

  it('is a function of its input: judging the same data twice gives the same verdict', () => {
    const r = readings([...Array(8).fill(healthyMinute)]);
    expect(judgeCanary(r, gates(), timing, T0 + 12 * MIN)).toEqual(
      judgeCanary(r, gates(), timing, T0 + 12 * MIN),
    );
  });

  it('an alarm in ALARM rolls back at once, even without traffic', () => {
    const verdict = judgeCanary(readings([], ['churn-kpi']), gates(), timing, T0 + 5 * MIN);
    expect(verdict).toMatchObject({
      status: 'rollback',
      reasons: ['alarm in ALARM: churn-kpi (not a statistical verdict: alpha does not cover alarms)'],
    });
  });

  it('under the rule of three (3 / maxErrorRate requests) there is no verdict yet', () => {
    const verdict = judgeCanary(
      readings([[10, 0, 40, 90, 0, 40]]),
      gates({ maxErrorRate: 0.05 }),
      timing,
      T0 + 5 * MIN,
    );
    expect(verdict.status).toBe('insufficient');
    expect(verdict.status === 'insufficient' && verdict.reasons[0]).toMatch(
      /served 10 of the 60 settled requests/,
    );
  });

  it('a ceiling crossed by the candidate alone rolls back; crossed by the baseline too, it is a shared incident', () => {
    const ceiling = gates({ maxErrorRate: 0.05, detectErrorRatio: 100 });
    const alone = readings(Array(14).fill([100, 20, 40, 900, 20, 40]));
    const verdict = judgeCanary(alone, ceiling, timing, T0 + 18 * MIN);
    expect(verdict.status === 'rollback' && verdict.reasons.join('; ')).toMatch(/above the 5\.00 % ceiling/);
    const shared = readings(Array(14).fill([100, 20, 40, 900, 180, 40]));
    expect(judgeCanary(shared, ceiling, timing, T0 + 18 * MIN).status).not.toBe('rollback');
  });

  it('ceiling: minutes of a shared incident are left out, the others still count', () => {
    // 14 minutes of the candidate above the ceiling, 3 of them with the baseline above it too
    const ceiling = gates({ maxErrorRate: 0.05, detectErrorRatio: 100 });
    const rows: Array<[number, number, number, number, number, number]> = [
      ...Array(3).fill([100, 20, 40, 900, 180, 40]),
      ...Array(14).fill([100, 20, 40, 900, 20, 40]),
    ];
    const verdict = judgeCanary(readings(rows), ceiling, timing, T0 + 21 * MIN);
    expect(verdict.status === 'rollback' && verdict.reasons.join('; ')).toMatch(/ceiling/);
    // an incident of the baseline's alone (its rate above the ceiling, the candidate's not) adds nothing either
    const calm = readings(Array(17).fill([100, 2, 40, 900, 180, 40]));
    expect(judgeCanary(calm, ceiling, timing, T0 + 21 * MIN).status).not.toBe('rollback');
  });

  it('latency: a candidate slower than tolerated minute after minute rolls back; within tolerance it does not', () => {
    // 90 candidate requests against 810: the candidate's p99 is its maximum, above the baseline's
    // p99 in 61 % of minutes with no difference at all, so each slower minute is weak evidence:
    // 12 are not enough, 20 are
    const slow = (minutes: number) => readings(Array(minutes).fill([90, 0, 60, 810, 0, 40]));
    const at = (minutes: number) => T0 + (minutes + 3) * MIN;
    expect(judgeCanary(slow(12), gates({ maxLatencyRatio: 1.2 }), timing, at(12)).status).toBe('healthy');
    const verdict = judgeCanary(slow(20), gates({ maxLatencyRatio: 1.2 }), timing, at(20));
    expect(verdict.status).toBe('rollback');
    expect(verdict.status === 'rollback' && verdict.reasons[0]).toMatch(
      /candidate p99 latency above 1\.2x the baseline's in 20 of 20 minutes, where a candidate no slower would average at most 12\.3 \(median 60\.0 ms vs 40\.0 ms\)/,
    );
    const fine = readings(Array(20).fill([90, 0, 45, 810, 0, 40]));
    expect(judgeCanary(fine, gates({ maxLatencyRatio: 1.2 }), timing, at(20)).status).toBe('healthy');
  });

  it('latency: equal samples read slower half the time under the null, so fewer slower minutes suffice', () => {
    const equal = readings(Array(12).fill([500, 0, 60, 500, 0, 40]));
    const verdict = judgeCanary(equal, gates({ latencyStatistic: 'p50' }), timing, T0 + 15 * MIN);
    expect(verdict.status).toBe('rollback');
  });

  it('Average is refused: it has no bound that holds for every latency distribution', () => {
    const parsed = canaryGatesSchema.safeParse({ latencyStatistic: 'Average' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(
      /^Average is not supported: .*use p50, p90, p99 or Maximum$/,
    );
    expect(canaryGatesSchema.safeParse({ latencyStatistic: 'p95' }).error?.issues[0]?.message).toBe(
      'must be one of p50, p90, p99, Maximum',
    );
  });
});

describe('judgeCanary at the end of a bake with evidence neither way', () => {
  const thin = readings(Array(10).fill([100, 1, 40, 900, 9, 40]));
  const g = gates({ noData: { action: 'extend', maxExtensions: 2 } });
  const now = T0 + 14 * MIN;

  it('no verdict while the bake may still be extended, the pass evidence in words', () => {
    const verdict = judgeCanary(thin, g, { startedAt: T0, extensions: 1 }, now);
    expect(verdict.status).toBe('insufficient');
    expect(verdict.reasons).toEqual([
      expect.stringMatching(/^evidence [\d.]+:1 that the candidate's 5XX rate is under 2x/),
    ]);
  });

  it('with no extension left the step passes, saying it was inconclusive', () => {
    const verdict = judgeCanary(thin, g, { startedAt: T0, extensions: 2 }, now);
    expect(verdict.status).toBe('healthy');
    expect(verdict.reasons).toEqual([
      expect.stringMatching(
        /^inconclusive after 2 extensions: evidence [\d.]+:1 that the candidate's 5XX rate/,
      ),
      expect.stringMatching(/^candidate p99 latency above/),
    ]);
  });
});

describe('stepOutcome (end of a bake without rollback)', () => {
  const tallyOf = (rows: Array<[number, number, number, number]>, g: GateConfig) => {
    const tally = emptyTally(g);
    rows.forEach(([nc, ec, nb, eb], i) => {
      tallyMinute(
        tally,
        { at: i, invocations: nc, errors5xx: ec, latencyMs: null },
        { at: i, invocations: nb, errors5xx: eb, latencyMs: null },
        g,
      );
    });
    return tally;
  };

  it('passes on evidence that the candidate is not detectErrorRatio times worse', () => {
    const g = gates();
    expect(stepOutcome(tallyOf(Array(10).fill([1000, 2, 9000, 18]), g), g, 0)).toBe('pass');
  });

  it('readings totalled by the caller (the exact test alone): a candidate well under the baseline passes on one period', () => {
    const g = gates();
    const tally = emptyTally(g, false);
    // 0.20 % against the baseline's 0.56 %: the alternatives below 1x carry the evidence
    tallyMinute(
      tally,
      { at: 0, invocations: 1000, errors5xx: 2, latencyMs: null },
      { at: 0, invocations: 9000, errors5xx: 50, latencyMs: null },
      g,
    );
    expect(stepOutcome(tally, g, 0)).toBe('pass');
  });

  it('too little evidence either way: extend while the no-data policy allows, then pass saying so', () => {
    const g = gates({ noData: { action: 'extend', maxExtensions: 2 } });
    const thin = tallyOf([[1000, 2, 9000, 18]], g);
    expect(stepOutcome(thin, g, 0)).toBe('inconclusive');
    expect(stepOutcome(thin, g, 2)).toBe('pass-inconclusive');
  });

  it('no 5XX from the candidate at all passes once the rule of three is met', () => {
    const g = gates();
    expect(stepOutcome(tallyOf([[100, 0, 900, 5]], g), g, 0)).toBe('pass');
    expect(stepOutcome(tallyOf([[10, 0, 90, 0]], g), g, 0)).toBe('too-few');
  });
});
