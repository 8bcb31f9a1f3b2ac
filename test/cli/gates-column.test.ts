import { describe, expect, it } from 'vitest';
import { colours } from '../../src/cli/output';
import { readingsText } from '../../src/cli/status';
import type { GateReadings } from '../../src/domain/model';

const readings: GateReadings = {
  candidate: { invocations: 5400, errors5xx: 6, errorRate: 6 / 5400, latencyMs: 42 },
  baseline: { invocations: 48600, errors5xx: 40, errorRate: 40 / 48600, latencyMs: 40 },
  alarmsInAlarm: [],
  windowStart: 0,
  windowEnd: 600_000,
  evidence: {
    minutes: 10,
    errors: 2.37,
    errorsLimit: 200,
    pass: 4,
    passLimit: 20,
    ceiling: 0.01,
    ceilingLimit: 400,
    latency: 0.5,
    latencyLimit: 400,
    latencyMinutes: 10,
    slowerMinutes: 1,
  },
};

describe('the GATES column', () => {
  it("shows the judge's evidence against the candidate next to the limits that roll back", () => {
    expect(readingsText(readings, colours(false))).toBe(
      'cand err 0.11% n=5400 42ms | base err 0.08% n=48600 | evidence 5XX 2.4:1 (limit 200:1), latency 0.5:1 (limit 400:1)',
    );
  });

  it('readings recorded before the judge had evidence show the rates alone', () => {
    expect(readingsText({ ...readings, evidence: undefined }, colours(false))).toBe(
      'cand err 0.11% n=5400 42ms | base err 0.08% n=48600',
    );
  });
});
