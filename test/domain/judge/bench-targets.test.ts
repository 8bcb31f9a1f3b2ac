import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellIdentity, cells, type JudgeCellResult, judgesFor } from '../../../bench/judge/benchmark';
import { missingFromFullRun, writeJudgeChart } from '../../../bench/judge/run';
import { checkTargets, detectionTargeted } from '../../../bench/judge/targets';

const cell = (over: Partial<JudgeCellResult>): JudgeCellResult => ({
  judge: 'project',
  rpm: 300,
  baselineErrorRate: 0.01,
  candidateErrorRate: 0.02,
  latencyFactor: 1,
  bursts: false,
  nullModel: 'independent',
  rollouts: 2000,
  rolledBack: 0.9,
  rolledBackNoData: 0,
  medianMinutesToRollback: 40,
  excessErrorsServed: 20,
  ...over,
});

describe("the benchmark's detection target (issue 18's wording)", () => {
  const lowBaseline = { baselineErrorRate: 0.001, candidateErrorRate: 0.002 };
  it.each([
    ['2x on 1 % at 300 rpm', true, cell({})],
    ['2x on 0.1 % at 300 rpm', false, cell(lowBaseline)],
    ['2x on 0.1 % at 1,000 rpm', false, cell({ ...lowBaseline, rpm: 1000 })],
    ['2x on 0.1 % at 3,000 rpm', true, cell({ ...lowBaseline, rpm: 3000 })],
    ['5x on 0.1 % at 300 rpm', true, cell({ baselineErrorRate: 0.001, candidateErrorRate: 0.005 })],
    ['2x on 1 % at 30 rpm', false, cell({ rpm: 30 })],
    ['a latency regression', false, cell({ candidateErrorRate: 0.01, latencyFactor: 2 })],
  ] as const)('%s: targeted %s', (_name, targeted, c) => {
    expect(detectionTargeted(c)).toBe(targeted);
    const detection = checkTargets([c])[1]!;
    expect(detection.met).toBe(!targeted);
  });
});

describe("the README's detection chart", () => {
  const full = cells().flatMap((c) => judgesFor(c).map((judge) => cell(cellIdentity(c, judge.name))));

  it('is written from results that cover the full benchmark, and left as it is from a subset', () => {
    const repo = mkdtempSync(join(tmpdir(), 'judge-chart-'));
    expect(missingFromFullRun(full)).toBe(0);
    expect(missingFromFullRun(full.slice(1))).toBe(1);
    expect(writeJudgeChart(repo, full.slice(0, 10))).toBe(
      `docs/judge-detection.svg left as it is: the merged results lack ${full.length - 10} judge-cells of the full benchmark`,
    );
    expect(existsSync(join(repo, 'docs/judge-detection.svg'))).toBe(false);
    expect(writeJudgeChart(repo, full)).toBe('docs/judge-detection.svg written');
    expect(readFileSync(join(repo, 'docs/judge-detection.svg'), 'utf8')).toMatch(/^<svg/);
  });
});
