import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { canaryGatesSchema, type GateConfig } from '../../../src/config/schema';
import { judgeCanary, KEPT_FOLDS, minutesFolded } from '../../../src/domain/judge/verdict';
import { MIN, type MinuteRow, readings, T0 } from './minute-readings';

/*
 * judgeCanary keeps the fold of each canary it judged lately and goes on from it (foldMinutes).
 * Its verdicts must be exactly those of a fold from nothing: checked against a second instance of
 * the module whose kept folds are forgotten before every call, over canaries judged minute by
 * minute side by side (more than it keeps), with minutes revised after they were judged (late
 * data), gates that differ, and readings without a per-minute breakdown.
 */
let fresh: typeof import('../../../src/domain/judge/verdict');
beforeAll(async () => {
  vi.resetModules();
  fresh = await import('../../../src/domain/judge/verdict');
});

const GATES: GateConfig[] = [
  canaryGatesSchema.parse({}),
  canaryGatesSchema.parse({ maxErrorRate: 0.05, detectErrorRatio: 3, ingestionLagMinutes: 0 }),
  canaryGatesSchema.parse({ alpha: 0.2, maxLatencyRatio: 1, latencyStatistic: 'p90' }),
];

const side = fc.tuple(
  fc.integer({ min: 0, max: 3000 }),
  // rates near each other, so that the evidence stays between its bounds (it is reported rounded)
  fc.double({ min: 0, max: 0.02, noNaN: true }),
  fc.option(fc.integer({ min: 1, max: 900 }), { nil: null }),
);
const minuteRow = fc
  .tuple(side, side)
  .map(
    ([[cn, cr, cl], [bn, br, bl]]): MinuteRow => [cn, Math.floor(cn * cr), cl, bn, Math.floor(bn * br), bl],
  );

/** One call of the run: which canary is judged, and a revision of one of its earlier minutes first. */
const call = fc.record({
  // mostly a few canaries judged long, at times more than are kept
  canary: fc.oneof(
    { arbitrary: fc.nat({ max: 3 }), weight: 4 },
    { arbitrary: fc.nat({ max: KEPT_FOLDS + 3 }), weight: 1 },
  ),
  /** a late datapoint: the whole minute, or only its latencies, its baseline or its 5XX counts */
  revise: fc.option(
    fc.record({
      back: fc.nat({ max: 6 }),
      row: minuteRow,
      part: fc.constantFrom('row', 'latency', 'baseline', 'errors'),
    }),
    { nil: undefined, freq: 4 },
  ),
  breakdown: fc.boolean(),
});

/** Readings of `rows` with some minutes missing: for both variants, or for the baseline alone. */
const withMissing = (rows: MinuteRow[], both: number[], baselineOnly: number[]) => {
  const r = readings(rows);
  const keep = (missing: number[]) => (m: { at: number }) => !missing.includes((m.at - T0) / MIN);
  return {
    ...r,
    candidate: { ...r.candidate, minutes: r.candidate.minutes!.filter(keep(both)) },
    baseline: { ...r.baseline!, minutes: r.baseline!.minutes!.filter(keep([...both, ...baselineOnly])) },
  };
};

describe('the kept folds of judgeCanary', () => {
  it('give exactly the verdicts of a fold from nothing', () => {
    fc.assert(
      fc.property(
        fc.array(minuteRow, { minLength: 40, maxLength: 40 }),
        fc.array(call, { minLength: 1, maxLength: 120 }),
        fc.nat({ max: GATES.length - 1 }),
        (rows, calls, gatesIndex) => {
          /** each canary's minutes so far; it gains one minute each time it is judged */
          const canaries = new Map<number, MinuteRow[]>();
          for (const c of calls) {
            const own = canaries.get(c.canary) ?? [];
            // canaries 2k and 2k + 1 see the same minutes, and judge them with different gates
            own.push(rows[(own.length + (c.canary >> 1)) % rows.length]!);
            const at = own.length - 2 - (c.revise?.back ?? 0);
            if (c.revise && at >= 0) {
              const [cn, ce, cl, bn, be, bl] = own[at]!;
              const [, rce, rcl, rbn, rbe, rbl] = c.revise.row;
              own[at] = {
                row: c.revise.row,
                latency: [cn, ce, rcl, bn, be, rbl],
                baseline: [cn, ce, cl, rbn, rbe, rbl],
                errors: [cn, Math.min(cn, rce), cl, bn, Math.min(bn, rbe), bl],
              }[c.revise.part] as MinuteRow;
            }
            canaries.set(c.canary, own);
            const gates = GATES[(gatesIndex + (c.canary % 2)) % GATES.length]!;
            const r = readings(own);
            const judged = c.breakdown
              ? r
              : {
                  ...r,
                  candidate: { ...r.candidate, minutes: undefined },
                  baseline: { ...r.baseline!, minutes: undefined },
                };
            const now = T0 + (own.length + 1) * MIN + 20_000;
            const timing = { startedAt: T0, extensions: 0 };
            fresh.forgetFolds();
            expect(judgeCanary(judged, gates, timing, now)).toEqual(
              fresh.judgeCanary(judged, gates, timing, now),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    ['5XX counts', (r: MinuteRow): MinuteRow => [r[0], r[1] + 4, r[2], r[3], r[4], r[5]]],
    ['requests', (r: MinuteRow): MinuteRow => [r[0] + 50, r[1], r[2], r[3], r[4], r[5]]],
    ['latency', (r: MinuteRow): MinuteRow => [r[0], r[1], 400, r[3], r[4], r[5]]],
    ["baseline's 5XX", (r: MinuteRow): MinuteRow => [r[0], r[1], r[2], r[3], r[4] + 9, r[5]]],
  ] as const)('a settled minute revised in its %s after it was judged is judged anew', (_what, revise) => {
    const gates = GATES[0]!;
    const timing = { startedAt: T0, extensions: 0 };
    const rows: MinuteRow[] = Array.from({ length: 12 }, () => [300, 1, 50, 2700, 9, 50]);
    const at = (n: number) => T0 + (n + 1) * MIN + 20_000;
    judgeCanary(readings(rows.slice(0, 11)), gates, timing, at(11));
    const revised = rows.map((r, i) => (i === 4 ? revise(r) : r));
    fresh.forgetFolds();
    const expected = fresh.judgeCanary(readings(revised), gates, timing, at(12));
    expect(expected.readings.evidence).not.toEqual(
      fresh.judgeCanary(readings(rows), gates, timing, at(12)).readings.evidence,
    );
    expect(judgeCanary(readings(revised), gates, timing, at(12))).toEqual(expected);
  });

  it.each([
    ['missing for both variants when judged, there later', [4], [], false],
    ['missing for the baseline when judged, there later', [], [4], false],
    ['there for the baseline when judged, missing later', [], [4], true],
  ] as const)('a settled minute %s is judged anew', (_what, both, baselineOnly, reversed) => {
    const gates = GATES[0]!;
    const timing = { startedAt: T0, extensions: 0 };
    const rows: MinuteRow[] = Array.from({ length: 12 }, (_, i) => [300, i % 3, 50, 2700, 9, 50]);
    const at = (n: number) => T0 + (n + 1) * MIN + 20_000;
    const gaps = withMissing(rows, [...both], [...baselineOnly]);
    const [first, later] = reversed ? [readings(rows), gaps] : [gaps, readings(rows)];
    judgeCanary(first, gates, timing, at(11));
    fresh.forgetFolds();
    const expected = fresh.judgeCanary(later, gates, timing, at(12));
    expect(judgeCanary(later, gates, timing, at(12))).toEqual(expected);
  });

  it('fold each settled minute once when canaries are judged minute by minute, side by side', () => {
    const timing = { startedAt: T0, extensions: 0 };
    const rows: MinuteRow[] = Array.from({ length: 40 }, (_, i) => [300, i % 3, 50 + i, 2700, 9, 50]);
    const at = (n: number) => T0 + (n + 1) * MIN + 20_000;
    const before = minutesFolded();
    let settled = 0;
    for (let n = 1; n <= 40; n++) {
      // as many canaries as are kept, each with its own minutes, the odd ones with other gates
      settled = 0;
      for (let c = 0; c < KEPT_FOLDS; c++) {
        const own = rows.slice(0, n).map((r): MinuteRow => [r[0] + c, r[1], r[2], r[3], r[4], r[5]]);
        // canary 3's baseline has no datapoint for its minute 2
        const judged = c === 3 ? withMissing(own, [], [2]) : readings(own);
        settled += judgeCanary(judged, GATES[c % 2]!, timing, at(n)).readings.evidence!.minutes;
      }
    }
    // 38 settled minutes with a lag of 3, 40 with none
    expect(settled).toBe((KEPT_FOLDS / 2) * (38 + 40));
    expect(minutesFolded() - before).toBe(settled);
    // a revised minute starts its canary's fold over: 39 settled minutes folded anew
    const revised = rows.map((r, i): MinuteRow => (i === 6 ? [r[0], r[1] + 1, r[2], r[3], r[4], r[5]] : r));
    const beforeRevision = minutesFolded();
    judgeCanary(readings([...revised, [300, 0, 50, 2700, 9, 50]]), GATES[0]!, timing, at(41));
    expect(minutesFolded() - beforeRevision).toBe(39);
    // the canary next to it, unrevised, folds its one newer minute
    const next = [...rows, [300, 0, 50, 2700, 9, 50] as MinuteRow].map(
      (r): MinuteRow => [r[0] + 2, r[1], r[2], r[3], r[4], r[5]],
    );
    const beforeNext = minutesFolded();
    judgeCanary(readings(next), GATES[0]!, timing, at(41));
    expect(minutesFolded() - beforeNext).toBe(1);
  });
});
