import { describe, expect, it } from 'vitest';
import type { JudgeCellResult } from '../../../bench/judge/benchmark';
import { healthyRolledBack, regressionTable } from '../../../bench/judge/tables';

const cell = (over: Partial<JudgeCellResult>): JudgeCellResult => ({
  judge: 'guardrails-alarm',
  rpm: 3000,
  baselineErrorRate: 0.01,
  candidateErrorRate: 0.01,
  latencyFactor: 1,
  bursts: false,
  nullModel: 'independent',
  rollouts: 2000,
  rolledBack: 0,
  rolledBackNoData: 0,
  medianMinutesToRollback: null,
  excessErrorsServed: 0,
  ...over,
});

describe('the README regression tables', () => {
  const regression = cell({
    candidateErrorRate: 0.05,
    rolledBack: 1,
    medianMinutesToRollback: 3,
    excessErrorsServed: 36,
  });
  const healthy = cell({ rolledBack: 0.006, rolledBackNoData: 0.001 });
  // the same judge's healthy cell under another traffic model or rpm does not count
  const otherModel = cell({ nullModel: 'beta-cv1', rolledBack: 0.3 });
  const otherRpm = cell({ rpm: 300, rolledBack: 0.5 });

  it("show beside each judge's excess 5XX the healthy candidates it rolls back in the matching cell", () => {
    const cells = [regression, otherModel, otherRpm, healthy];
    expect(healthyRolledBack(cells, 'guardrails-alarm', regression)).toBeCloseTo(0.007, 12);
    expect(regressionTable(cells, 5, ['independent'])).toContain(
      '| independent | 3,000 | 1 % | 100.0 % / 3 min / 36 (0.7 %) |',
    );
  });

  it('leave the bracket out where the healthy cell was not run', () => {
    expect(healthyRolledBack([regression], 'guardrails-alarm', regression)).toBeNull();
    expect(regressionTable([regression], 5, ['independent'])).toContain('| 100.0 % / 3 min / 36 |');
  });
});
