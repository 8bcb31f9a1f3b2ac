import { describe, expect, it } from 'vitest';
import type { GateConfig } from '../../src/config/schema';
import { evaluateGates, MIN_ERROR_RATE_FOR_RATIO, sameTrafficSplit } from '../../src/domain/gates';
import { groupConfig, readings } from './world';

const gates = (overrides: Record<string, unknown> = {}): GateConfig => {
  const strategy = groupConfig({ gates: overrides }).stages.prod.strategy;
  if (strategy.type !== 'canary') throw new Error('canary expected');
  return strategy.gates;
};

describe('evaluateGates', () => {
  it('applies the schema defaults (1 % 5XX, 100 requests, extend 3 times)', () => {
    expect(gates()).toMatchObject({
      maxErrorRate: 0.01,
      minInvocations: 100,
      latencyStatistic: 'p99',
      noData: { action: 'extend', maxExtensions: 3 },
    });
  });

  type Row = {
    name: string;
    gates: Record<string, unknown>;
    candidate: [number, number, number | null];
    baseline: [number, number, number | null] | null;
    alarms?: string[];
    status: 'healthy' | 'breach' | 'insufficient';
    reason?: RegExp;
  };

  const rows: Row[] = [
    {
      name: 'healthy candidate',
      gates: {},
      candidate: [500, 0, 40],
      baseline: [4500, 1, 40],
      status: 'healthy',
    },
    {
      name: 'alarm in ALARM breaches at once, even without traffic',
      gates: {},
      candidate: [0, 0, null],
      baseline: null,
      alarms: ['churn-5xx'],
      status: 'breach',
      reason: /alarm in ALARM: churn-5xx/,
    },
    {
      name: 'under minInvocations is insufficient even with errors',
      gates: { minInvocations: 100 },
      candidate: [99, 99, 40],
      baseline: [4500, 0, 40],
      status: 'insufficient',
      reason: /99 of the 100/,
    },
    {
      name: 'exactly minInvocations is judged',
      gates: { minInvocations: 100 },
      candidate: [100, 2, 40],
      baseline: null,
      status: 'breach',
      reason: /5XX rate 2.00% above the maximum 1.00%/,
    },
    {
      name: 'minInvocations 0 still needs one request',
      gates: { minInvocations: 0 },
      candidate: [0, 0, null],
      baseline: null,
      status: 'insufficient',
      reason: /0 of the 1/,
    },
    {
      name: 'rate at the absolute maximum passes',
      gates: { maxErrorRate: 0.01 },
      candidate: [1000, 10, 40],
      baseline: null,
      status: 'healthy',
    },
    {
      name: 'rate just above the absolute maximum breaches',
      gates: { maxErrorRate: 0.01 },
      candidate: [1000, 11, 40],
      baseline: null,
      status: 'breach',
      reason: /above the maximum/,
    },
    {
      name: 'ratio to baseline: 3x of 0.2 % breaches',
      gates: { maxErrorRate: 0.5, maxErrorRateRatio: 2 },
      candidate: [1000, 6, 40],
      baseline: [1000, 2, 40],
      status: 'breach',
      reason: /above 2x the baseline's 0.20%/,
    },
    {
      name: 'ratio to baseline: 2x of 0.2 % passes',
      gates: { maxErrorRate: 0.5, maxErrorRateRatio: 2 },
      candidate: [1000, 4, 40],
      baseline: [1000, 2, 40],
      status: 'healthy',
    },
    {
      name: 'baseline at zero: rates under MIN_ERROR_RATE_FOR_RATIO are noise',
      gates: { maxErrorRate: 0.5, maxErrorRateRatio: 2 },
      candidate: [10_000, 10, 40],
      baseline: [10_000, 0, 40],
      status: 'healthy',
    },
    {
      name: 'baseline at zero: rates above MIN_ERROR_RATE_FOR_RATIO breach',
      gates: { maxErrorRate: 0.5, maxErrorRateRatio: 2 },
      candidate: [10_000, 11, 40],
      baseline: [10_000, 0, 40],
      status: 'breach',
      reason: /above 2x the baseline's 0.00%/,
    },
    {
      name: 'ratio without baseline data is not judged',
      gates: { maxErrorRate: 0.5, maxErrorRateRatio: 2 },
      candidate: [1000, 50, 40],
      baseline: [0, 0, null],
      status: 'healthy',
    },
    {
      name: 'no baseline variant: only absolute thresholds',
      gates: { maxErrorRateRatio: 1, maxLatencyRatio: 1 },
      candidate: [1000, 5, 900],
      baseline: null,
      status: 'healthy',
    },
    {
      name: 'latency above the absolute maximum breaches',
      gates: { maxLatencyMs: 200 },
      candidate: [1000, 0, 200.5],
      baseline: null,
      status: 'breach',
      reason: /p99 latency 200.5 ms above the maximum 200 ms/,
    },
    {
      name: 'latency at the absolute maximum passes',
      gates: { maxLatencyMs: 200 },
      candidate: [1000, 0, 200],
      baseline: null,
      status: 'healthy',
    },
    {
      name: 'latency ratio to baseline breaches',
      gates: { maxLatencyRatio: 1.5, latencyStatistic: 'p90' },
      candidate: [1000, 0, 151],
      baseline: [1000, 0, 100],
      status: 'breach',
      reason: /p90 latency 151.0 ms above 1.5x the baseline's 100.0 ms/,
    },
    {
      name: 'latency ratio to baseline passes at the limit',
      gates: { maxLatencyRatio: 1.5 },
      candidate: [1000, 0, 150],
      baseline: [1000, 0, 100],
      status: 'healthy',
    },
    {
      name: 'latency ratio ignored when the baseline has no latency',
      gates: { maxLatencyRatio: 1.5 },
      candidate: [1000, 0, 900],
      baseline: [0, 0, null],
      status: 'healthy',
    },
    {
      name: 'candidate without latency data is judged on errors only',
      gates: { maxLatencyMs: 1 },
      candidate: [1000, 0, null],
      baseline: null,
      status: 'healthy',
    },
    {
      name: 'several thresholds crossed: every reason is given',
      gates: { maxLatencyMs: 100, maxErrorRateRatio: 2 },
      candidate: [1000, 100, 500],
      baseline: [1000, 1, 50],
      status: 'breach',
    },
  ];

  it.each(rows)('$name', (row) => {
    const r = readings.custom(row.candidate, row.baseline, row.alarms ?? []);
    const verdict = evaluateGates(r, gates(row.gates));
    expect(verdict.status).toBe(row.status);
    if (row.reason) expect(verdict.reasons.join('; ')).toMatch(row.reason);
  });

  it('gives one reason per crossed threshold', () => {
    const verdict = evaluateGates(
      readings.custom([1000, 100, 500], [1000, 1, 50]),
      gates({ maxLatencyMs: 100, maxErrorRateRatio: 2, maxLatencyRatio: 2 }),
    );
    expect(verdict.reasons).toHaveLength(4);
  });

  it('MIN_ERROR_RATE_FOR_RATIO is the floor of the ratio limit', () => {
    expect(MIN_ERROR_RATE_FOR_RATIO).toBe(0.001);
    const g = gates({ maxErrorRate: 1, maxErrorRateRatio: 1 });
    // baseline 0.05 % x 1 is below the floor: the floor (0.1 %) applies
    expect(evaluateGates(readings.custom([100_000, 100, 40], [100_000, 50, 40]), g).status).toBe('healthy');
    expect(evaluateGates(readings.custom([100_000, 101, 40], [100_000, 50, 40]), g).status).toBe('breach');
  });
});

describe('sameTrafficSplit', () => {
  it.each<{ a: Record<string, number>; b: Record<string, number>; same: boolean }>([
    { a: { v1: 90, v2: 10 }, b: { v1: 9, v2: 1 }, same: true },
    { a: { v1: 90, v2: 10 }, b: { v1: 90, v2: 10 }, same: true },
    { a: { v1: 90, v2: 10 }, b: { v1: 50, v2: 50 }, same: false },
    { a: { v1: 90, v2: 10 }, b: { v1: 89.5, v2: 10.5 }, same: true },
    { a: { v1: 90, v2: 10 }, b: { v1: 88, v2: 12 }, same: false },
    { a: { v1: 100, v2: 0 }, b: { v1: 1 }, same: true },
    { a: { v1: 100 }, b: { v2: 100 }, same: false },
    { a: { v1: 50, v2: 50 }, b: { v1: 1, v2: 1 }, same: true },
    { a: { v1: 50, v2: 50 }, b: { v1: 1, v2: 1, v3: 1 }, same: false },
  ])('$a vs $b: $same', ({ a, b, same }) => {
    expect(sameTrafficSplit(a, b)).toBe(same);
    expect(sameTrafficSplit(b, a)).toBe(same);
  });
});
