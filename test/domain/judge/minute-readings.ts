import type { GateReadings, MinuteReading } from '../../../src/domain/model';

export const MIN = 60_000;
export const T0 = Date.UTC(2024, 0, 1);

/** One minute: [candidate n, e, latency, baseline n, e, latency]; a latency may be missing (null). */
export type MinuteRow = [number, number, number | null, number, number, number | null];

/** Readings with a per-minute breakdown from T0, one row per minute. */
export const readings = (rows: MinuteRow[], alarms: string[] = []): GateReadings => {
  const side = (pick: (r: MinuteRow) => [number, number, number | null]): MinuteReading[] =>
    rows.map((r, i) => {
      const [invocations, errors5xx, latencyMs] = pick(r);
      return { at: T0 + i * MIN, invocations, errors5xx, latencyMs };
    });
  const totals = (minutes: MinuteReading[]) => ({
    invocations: minutes.reduce((n, m) => n + m.invocations, 0),
    errors5xx: minutes.reduce((n, m) => n + m.errors5xx, 0),
    errorRate: null,
    latencyMs: null,
    minutes,
  });
  return {
    candidate: totals(side((r) => [r[0], r[1], r[2]])),
    baseline: totals(side((r) => [r[3], r[4], r[5]])),
    alarmsInAlarm: alarms,
    windowStart: T0,
    windowEnd: T0 + rows.length * MIN,
  };
};
