import type { JudgeCellResult } from './benchmark';

export interface TargetCheck {
  target: string;
  met: boolean;
  /** the cells that miss it, in words */
  misses: string[];
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const cellName = (c: JudgeCellResult) =>
  `${c.rpm} rpm, baseline ${pct(c.baselineErrorRate)}, candidate ${pct(c.candidateErrorRate)}, latency x${c.latencyFactor}, ${c.nullModel}`;
const healthy = (c: JudgeCellResult) => c.candidateErrorRate === c.baselineErrorRate && c.latencyFactor === 1;

/**
 * The regressions the detection target names: 2x on a 1 % baseline from 300 rpm and on a
 * 0.1 % baseline from 3,000 rpm (about 3 baseline 5XX a minute or more), 5x from 300 rpm.
 */
export const detectionTargeted = (c: JudgeCellResult): boolean => {
  if (c.latencyFactor !== 1 || c.rpm < 300) return false;
  const ratio = c.candidateErrorRate / c.baselineErrorRate;
  return ratio >= 5 - 1e-9 || (ratio >= 2 - 1e-9 && c.rpm * c.baselineErrorRate >= 3 - 1e-9);
};

/** The three targets for the project judge, checked cell by cell. */
export const checkTargets = (cells: JudgeCellResult[]): TargetCheck[] => {
  const ours = cells.filter((c) => c.judge === 'project');
  const falseRollbacks = ours.filter((c) => healthy(c) && c.rolledBack > 0.013);
  const missed = ours.filter((c) => detectionTargeted(c) && c.rolledBack < 0.95);
  const matchingHealthy = (c: JudgeCellResult, judge: string) =>
    cells.find(
      (h) =>
        h.judge === judge &&
        healthy(h) &&
        h.rpm === c.rpm &&
        h.baselineErrorRate === c.baselineErrorRate &&
        h.nullModel === c.nullModel,
    );
  const excessMisses: string[] = [];
  for (const c of ours.filter((x) => !healthy(x) && x.candidateErrorRate > x.baselineErrorRate)) {
    // healthy candidates rolled back at all, on evidence or for want of data
    const rolledBackAtAll = (h: JudgeCellResult | undefined) =>
      h ? h.rolledBack + (h.rolledBackNoData ?? 0) : 1;
    const ourHealthy = rolledBackAtAll(matchingHealthy(c, 'project'));
    const peers = cells.filter(
      (p) =>
        !p.judge.startsWith('project') &&
        p.rpm === c.rpm &&
        p.baselineErrorRate === c.baselineErrorRate &&
        p.candidateErrorRate === c.candidateErrorRate &&
        p.latencyFactor === c.latencyFactor &&
        p.nullModel === c.nullModel &&
        rolledBackAtAll(matchingHealthy(p, p.judge)) <= ourHealthy,
    );
    const best = peers.sort((a, b) => a.excessErrorsServed - b.excessErrorsServed)[0];
    if (best && best.excessErrorsServed <= c.excessErrorsServed) {
      excessMisses.push(
        `${cellName(c)}: ${c.excessErrorsServed} vs ${best.judge} ${best.excessErrorsServed}`,
      );
    }
  }
  return [
    {
      target: 'healthy candidate rolled back in at most 1.3 % of rollouts, every cell',
      met: falseRollbacks.length === 0,
      misses: falseRollbacks.map((c) => `${cellName(c)}: ${pct(c.rolledBack)}`),
    },
    {
      target:
        '2x 5XX regression caught in at least 95 % from 300 rpm on a 1 % baseline and from 3,000 rpm on 0.1 %; 5x from 300 rpm',
      met: missed.length === 0,
      misses: missed.map((c) => `${cellName(c)}: ${pct(c.rolledBack)}`),
    },
    {
      target: 'fewer excess 5XX than the best peer no more trigger-happy on healthy candidates',
      met: excessMisses.length === 0,
      misses: excessMisses,
    },
  ];
};
