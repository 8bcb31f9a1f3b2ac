import { describe, expect, it } from 'vitest';
import { canaryGatesSchema, type GateConfig } from '../../../src/config/schema';
import { emptyTally, firstLook, judgeCanary, stepOutcome, tallyMinute } from '../../../src/domain/judge';
import type { MinuteReading } from '../../../src/domain/model';
import { MIN, type MinuteRow, readings, T0 } from './minute-readings';

const gates = (overrides: Record<string, unknown> = {}): GateConfig => canaryGatesSchema.parse(overrides);
const timing = { startedAt: T0, extensions: 0 };
/** `now` at which all of `rows` minutes are settled under the default 3-minute ingestion lag */
const settledNow = (rows: number) => T0 + (rows + 3) * MIN;
const minute = (invocations: number, errors5xx: number, latencyMs: number | null): MinuteReading => ({
  at: T0,
  invocations,
  errors5xx,
  latencyMs,
});

describe('tallyMinute: which minutes the ceiling test leaves out', () => {
  it('skips a minute whose baseline is above the ceiling, keeps one exactly at it or without baseline', () => {
    const g = gates(); // maxErrorRate 0.05
    const tally = emptyTally(g);
    tallyMinute(tally, minute(100, 10, 40), minute(1000, 51, 40), g);
    expect(tally.ceilingSkipped).toBe(1);
    tallyMinute(tally, minute(100, 10, 40), minute(1000, 50, 40), g);
    expect(tally.ceilingSkipped).toBe(1);
    tallyMinute(tally, minute(100, 10, 40), undefined, g);
    expect(tally.ceilingSkipped).toBe(1);
    tallyMinute(tally, minute(100, 10, 40), minute(0, 0, null), g);
    expect(tally.ceilingSkipped).toBe(1);
  });

  it('adds up both variants, and a minute without baseline counts only for the candidate', () => {
    const g = gates();
    const tally = emptyTally(g);
    tallyMinute(tally, minute(100, 3, 40), minute(900, 2, 40), g);
    tallyMinute(tally, minute(50, 1, 40), undefined, g);
    tallyMinute(tally, minute(70, 2, 40), minute(600, 4, 40), g);
    expect(tally).toMatchObject({
      minutes: 3,
      candidateRequests: 220,
      candidateErrors: 6,
      baselineRequests: 1500,
      baselineErrors: 6,
    });
  });
});

describe('tallyMinute: which minutes the latency test compares', () => {
  const latencyMinutes = (c: MinuteReading, b: MinuteReading, g = gates()) => {
    const tally = emptyTally(g);
    tallyMinute(tally, c, b, g);
    return { minutes: tally.latencyMinutes, slower: tally.slowerMinutes };
  };
  it('compares only minutes where both variants have a latency and served at least one request', () => {
    expect(latencyMinutes(minute(100, 0, 40), minute(900, 0, 40))).toEqual({ minutes: 1, slower: 0 });
    expect(latencyMinutes(minute(100, 0, null), minute(900, 0, 40)).minutes).toBe(0);
    expect(latencyMinutes(minute(100, 0, 40), minute(900, 0, null)).minutes).toBe(0);
    expect(latencyMinutes(minute(100, 0, 40), minute(900, 0, 0)).minutes).toBe(0);
    expect(latencyMinutes(minute(0.4, 0, 40), minute(900, 0, 40)).minutes).toBe(0);
    expect(latencyMinutes(minute(100, 0, 40), minute(0.4, 0, 40)).minutes).toBe(0);
    expect(latencyMinutes(minute(1, 0, 40), minute(900, 0, 40)).minutes).toBe(1);
    expect(latencyMinutes(minute(100, 0, 40), minute(1, 0, 40)).minutes).toBe(1);
  });

  it('a minute is slower only above maxLatencyRatio x the baseline, not at it', () => {
    const g = gates({ maxLatencyRatio: 1.5 });
    expect(latencyMinutes(minute(100, 0, 60), minute(900, 0, 40), g)).toEqual({ minutes: 1, slower: 0 });
    expect(latencyMinutes(minute(100, 0, 61), minute(900, 0, 40), g)).toEqual({ minutes: 1, slower: 1 });
  });
});

describe('judgeCanary: the numbers a verdict reports', () => {
  it('reports the ceiling limit as 1 / (alpha x its share) and stores huge and tiny evidence within range', () => {
    const bad: MinuteRow = [100, 40, 40, 900, 2, 40];
    const verdict = judgeCanary(readings(Array(8).fill(bad)), gates(), timing, settledNow(8));
    expect(verdict.status).toBe('rollback');
    const e = verdict.readings.evidence!;
    expect(e.ceilingLimit).toBe(1000); // 1 / (0.01 x 0.10)
    expect(e.errorsLimit).toBe(158.7); // 1 / (0.01 x 0.63)
    expect(e.errors).toBe(1e12);
    expect(e.pass).toBe(0);
  });

  it('the candidate latency is the median of its minutes, null when no minute has one', () => {
    const rows: MinuteRow[] = [
      [100, 0, 30, 900, 0, 40],
      [100, 0, 10, 900, 0, 40],
      [100, 0, null, 900, 0, 40],
      [100, 0, 50, 900, 0, 40],
      [100, 0, 20, 900, 0, 40],
    ];
    const even = judgeCanary(readings(rows), gates(), timing, settledNow(5));
    expect(even.readings.candidate.latencyMs).toBe(25);
    const odd = judgeCanary(readings(rows.slice(1)), gates(), timing, settledNow(4));
    expect(odd.readings.candidate.latencyMs).toBe(20);
    const none = judgeCanary(readings([[100, 0, null, 900, 0, 40]]), gates(), timing, settledNow(1));
    expect(none.readings.candidate.latencyMs).toBeNull();
  });

  it('a candidate without requests has no error rate (null), and is insufficient with its count in words', () => {
    const verdict = judgeCanary(readings([[0, 0, null, 900, 1, 40]]), gates(), timing, settledNow(1));
    expect(verdict.status).toBe('insufficient');
    expect(verdict.readings.candidate.errorRate).toBeNull();
    expect(verdict.reasons).toEqual([
      'candidate served 0 of the 60 settled requests needed to judge (3 / maxErrorRate)',
    ]);
  });

  it('a clean candidate passes saying it served its requests without a 5XX; one with 5XX passes on evidence', () => {
    const clean = judgeCanary(
      readings(Array(10).fill([100, 0, 40, 900, 2, 40])),
      gates(),
      timing,
      settledNow(10),
    );
    expect(clean.status).toBe('healthy');
    expect(clean.reasons).toHaveLength(2);
    expect(clean.reasons[0]).toBe('no 5XX from the candidate in 1,000 requests');
    const some = judgeCanary(
      readings(Array(30).fill([1000, 1, 40, 1000, 2, 40])),
      gates(),
      timing,
      settledNow(30),
    );
    expect(some.status).toBe('healthy');
    expect(some.reasons[0]).not.toMatch(/no 5XX/);
  });
});

describe('stepOutcome', () => {
  it('exactly the minimum number of requests may pass', () => {
    const g = gates({ minInvocations: 100 });
    const tally = emptyTally(g);
    tallyMinute(tally, minute(100, 0, 40), minute(900, 0, 40), g);
    expect(stepOutcome(tally, g, 0)).toBe('pass');
    const fewer = emptyTally(g);
    tallyMinute(fewer, minute(99, 0, 40), minute(900, 0, 40), g);
    expect(stepOutcome(fewer, g, 0)).toBe('too-few');
  });

  it('evidence neither way extends only when the no-data policy is extend', () => {
    const tally = (g: GateConfig) => {
      const t = emptyTally(g);
      tallyMinute(t, minute(100, 2, 40), minute(900, 18, 40), g);
      return t;
    };
    const extend = gates();
    expect(stepOutcome(tally(extend), extend, 0)).toBe('inconclusive');
    expect(stepOutcome(tally(extend), extend, 3)).toBe('pass-inconclusive');
    const fail = gates({ noData: { action: 'fail' } });
    expect(stepOutcome(tally(fail), fail, 0)).toBe('pass-inconclusive');
  });
});

describe('firstLook', () => {
  it('rolls back at exactly the gross rate once the evidence is there, never on a rate without evidence', () => {
    const g = gates(); // gross rate min(0.5, 10 x 0.05) = 0.5
    const atGross = firstLook(
      0,
      { candidateRequests: 200, candidateErrors: 100, baselineRequests: 2000, baselineErrors: 0 },
      g,
    );
    expect(atGross.grossRate).toBe(0.5);
    expect(atGross.evidence).toBeGreaterThanOrEqual(atGross.limit);
    expect(atGross.fails).toBe(true);
    const noEvidence = firstLook(
      0,
      { candidateRequests: 2, candidateErrors: 1, baselineRequests: 10, baselineErrors: 5 },
      g,
    );
    expect(noEvidence.evidence).toBeLessThan(noEvidence.limit);
    expect(noEvidence.fails).toBe(false);
  });
});

describe('judgeCanary: a rollback on a first look', () => {
  it('reports the settled totals plus the minute it read, with their 5XX rate', () => {
    const healthy: MinuteRow = [100, 0, 40, 900, 2, 40];
    const gross: MinuteRow = [200, 100, 40, 2000, 0, 40];
    // at T0 + 6 min the ingestion lag (3 min) has settled minutes 0-2; minute 5 is the newest complete one
    const verdict = judgeCanary(
      readings([healthy, healthy, healthy, healthy, healthy, gross]),
      gates(),
      timing,
      T0 + 6 * MIN,
    );
    expect(verdict.status).toBe('rollback');
    expect(verdict.readings.candidate).toMatchObject({ invocations: 500, errors5xx: 100, errorRate: 0.2 });
    expect(verdict.readings.baseline).toMatchObject({ invocations: 4700, errors5xx: 6 });
  });

  it('reads only the newest complete minute, not an older unsettled one', () => {
    const healthy: MinuteRow = [100, 0, 40, 900, 2, 40];
    const gross: MinuteRow = [200, 100, 40, 2000, 0, 40];
    const verdict = judgeCanary(
      readings([healthy, healthy, healthy, healthy, gross, healthy]),
      gates(),
      timing,
      T0 + 6 * MIN,
    );
    expect(verdict.status).not.toBe('rollback');
  });
});
