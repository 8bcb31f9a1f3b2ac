import { describe, expect, it } from 'vitest';
import type { GateReadings, HistoryEntry, JudgeEvidence } from '../../src/domain/model';
import { alarmSpans, type JudgeTrailEntry, judgmentsOf } from '../../src/local/report-data';
import { labelWidth, placeLabels } from '../../src/local/report-labels';

describe('report labels', () => {
  it('stack labels that would meet in rows, and keep each inside the area', () => {
    const { labels, rows } = placeLabels(
      [
        { x: 100, text: 'v3 RollingBack' },
        { x: 110, text: 'v3 RolledBack' },
        { x: 400, text: 'v3 Canary' },
        { x: 495, text: 'bake extended 1/2' },
      ],
      { left: 0, right: 500, fontSize: 10 },
    );
    expect(rows).toBe(2);
    const byText = Object.fromEntries(labels.map((l) => [l.text, l]));
    expect(byText['v3 RollingBack']!.row).toBe(0);
    expect(byText['v3 RolledBack']!.row).toBe(1);
    expect(byText['v3 Canary']!.row).toBe(0);
    // the last one would leave the area: shifted left to end inside it, on a free row
    const last = byText['bake extended 1/2']!;
    expect(last.textX + last.width).toBeLessThanOrEqual(500);
    expect(last.width).toBe(labelWidth('bake extended 1/2', 10));
    for (const a of labels)
      for (const b of labels)
        if (a !== b && a.row === b.row)
          expect(a.textX + a.width <= b.textX || b.textX + b.width <= a.textX).toBe(true);
  });
});

const evidence = (errors: number): JudgeEvidence => ({
  minutes: 1,
  errors,
  errorsLimit: 182,
  pass: 1,
  passLimit: 20,
  ceiling: 0,
  ceilingLimit: 667,
  latency: 1,
  latencyLimit: 400,
  latencyMinutes: 1,
  slowerMinutes: 0,
});
const readings = (settledUntil: number, errors: number): GateReadings => ({
  candidate: { invocations: 10, errors5xx: 0, errorRate: 0, latencyMs: null },
  baseline: null,
  alarmsInAlarm: [],
  windowStart: 0,
  windowEnd: settledUntil,
  settledUntil,
  evidence: evidence(errors),
});
const START = 1_000_000;
const trail = (
  at: number,
  phase: 'Shadow' | 'Canary',
  settledUntil: number,
  errors: number,
): JudgeTrailEntry => ({
  at,
  deploymentId: 'm:v2',
  phase,
  settledUntil,
  readings: readings(settledUntil, errors),
});
const entry = (
  at: number,
  from: HistoryEntry['from'],
  to: HistoryEntry['to'],
  r?: GateReadings,
): HistoryEntry => ({
  deploymentId: 'm:v2',
  group: 'm',
  seq: at,
  at: START + at,
  from,
  to,
  actor: 'service',
  reason: 'r',
  ...(r ? { readings: r } : {}),
});

describe('the judge evidence the report draws', () => {
  it('keeps each tick once, in the phase that judged it, at the moment a transition said it', () => {
    const history = [
      entry(0, 'ProdDeploying', 'Shadow'),
      entry(125_000, 'Shadow', 'ProdDeploying', readings(120_000, 0.5)),
      entry(300_000, 'ProdDeploying', 'Canary'),
      entry(425_000, 'Canary', 'RollingBack', readings(420_000, 500)),
      entry(500_000, 'RollingBack', 'RolledBack', readings(420_000, 500)),
    ];
    const judged = judgmentsOf(
      'm:v2',
      history,
      [
        trail(60_000, 'Shadow', 60_000, 0.9),
        // the same tick as the transition at 125 s: the transition's time wins
        trail(180_000, 'Shadow', 120_000, 0.5),
        // sampled once the phase was Canary, still holding the shadow phase's last readings
        trail(360_000, 'Canary', 120_000, 0.5),
        trail(400_000, 'Canary', 360_000, 40),
        trail(600_000, 'Canary', 999_000, 1),
      ].map((t, i) => (i === 4 ? { ...t, deploymentId: 'other:v1' } : t)),
      START,
    );
    expect(judged.map((j) => [j.at, j.phase, j.evidence.errors])).toEqual([
      [60_000, 'Shadow', 0.9],
      [125_000, 'Shadow', 0.5],
      [400_000, 'Canary', 40],
      [425_000, 'Canary', 500],
    ]);
  });

  it('turns alarm state changes into spans in ALARM, open to the end when it never cleared', () => {
    expect(
      alarmSpans([
        { at: 0, name: 'kpi', state: 'OK' },
        { at: 60, name: 'kpi', state: 'ALARM' },
        { at: 120, name: 'latency', state: 'ALARM' },
        { at: 180, name: 'kpi', state: 'OK' },
        { at: 240, name: 'kpi', state: 'ALARM' },
      ]),
    ).toEqual([
      { name: 'kpi', from: 60, to: 180 },
      { name: 'latency', from: 120 },
      { name: 'kpi', from: 240 },
    ]);
  });
});
