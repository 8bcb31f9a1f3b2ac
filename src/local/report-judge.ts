import type { JudgeEvidence } from '../domain/model';
import type { Judgment, ReportStory } from './report-data';

type DeploymentStory = ReportStory['deployments'][number];

/** The judge's sequential tests, as the report names and draws them. */
export const TESTS = {
  errors: {
    name: '5XX above the baseline’s',
    colour: '#c62828',
    value: (e: JudgeEvidence) => e.errors,
    limit: (e: JudgeEvidence) => e.errorsLimit,
  },
  ceiling: {
    name: '5XX above maxErrorRate',
    colour: '#8e24aa',
    value: (e: JudgeEvidence) => e.ceiling,
    limit: (e: JudgeEvidence) => e.ceilingLimit,
  },
  latency: {
    name: 'slower than tolerated',
    colour: '#6d4c41',
    value: (e: JudgeEvidence) => e.latency,
    limit: (e: JudgeEvidence) => e.latencyLimit,
  },
  pass: {
    name: '5XX under detectErrorRatio × the baseline’s (passes)',
    colour: '#2e7d32',
    value: (e: JudgeEvidence) => e.pass,
    limit: (e: JudgeEvidence) => e.passLimit,
  },
} as const;
export type TestName = keyof typeof TESTS;
const ROLLBACK_TESTS: TestName[] = ['errors', 'ceiling', 'latency'];

export type SegmentEnd = 'rolled back' | 'passed' | 'ended' | 'still judging';

/** One phase of one deployment under the judge: its tests start afresh with each phase. */
export interface JudgedSegment {
  deployment: DeploymentStory;
  phase: 'Shadow' | 'Canary';
  judgments: Judgment[];
  end: SegmentEnd;
  /** rollback tests at or above their limit at the last judgment */
  fired: TestName[];
  /** alarms in ALARM at the last judgment */
  alarms: string[];
  /** the tests drawn: the ones that fired, else the 5XX comparison (and the pass test when it passed) */
  drawn: TestName[];
}

const phaseEnd = (d: DeploymentStory, phase: 'Shadow' | 'Canary', from: number): SegmentEnd => {
  const left = d.transitions.find((t) => t.at >= from && t.from === phase && t.to !== phase);
  if (!left) return 'still judging';
  if (left.to === 'RollingBack' || left.to === 'RolledBack') return 'rolled back';
  if (left.to === 'Promoting' || left.to === 'ProdDeploying' || left.to === 'Canary') return 'passed';
  return 'ended';
};

export function judgedSegments(deployments: DeploymentStory[]): JudgedSegment[] {
  const segments: JudgedSegment[] = [];
  for (const d of deployments) {
    let current: Judgment[] = [];
    const flush = () => {
      const last = current.at(-1);
      if (!last) return;
      const phase = last.phase;
      const fired = ROLLBACK_TESTS.filter(
        (k) => TESTS[k].value(last.evidence) >= TESTS[k].limit(last.evidence),
      );
      const end = phaseEnd(d, phase, current[0]!.at);
      const drawn: TestName[] = fired.length > 0 ? fired : ['errors'];
      if (end === 'passed' && fired.length === 0) drawn.push('pass');
      segments.push({ deployment: d, phase, judgments: current, end, fired, alarms: last.alarms, drawn });
      current = [];
    };
    for (const j of d.judgments) {
      if (current.length > 0 && current[0]!.phase !== j.phase) flush();
      current.push(j);
    }
    flush();
  }
  return segments;
}

export const formatOdds = (odds: number): string =>
  odds >= 10 ? Math.round(odds).toLocaleString('en-US') : odds.toFixed(odds >= 1 ? 1 : 2);

/** The segment's story in one sentence: which rule decided, with its evidence against its limit. */
export function segmentText(s: JudgedSegment): string {
  const last = s.judgments.at(-1)!.evidence;
  const who = `${s.deployment.candidateVariant} ${s.phase === 'Shadow' ? 'shadow phase' : 'canary'}`;
  const reading = (k: TestName) =>
    `“${TESTS[k].name}” test at ${formatOdds(TESTS[k].value(last))}:1, limit ${formatOdds(TESTS[k].limit(last))}:1`;
  if (s.fired.length > 0)
    return `${who}: ${s.fired.map(reading).join('; ')}: the limit was reached → ${s.end}`;
  if (s.alarms.length > 0)
    return `${who}: alarm ${s.alarms.join(', ')} in ALARM → ${s.end} (no test reached its limit: ${reading('errors')})`;
  if (s.end === 'rolled back')
    return `${who}: rolled back on a rule outside these tests (see the reason); ${reading('errors')}`;
  return `${who}: ${s.drawn.map(reading).join('; ')} → ${s.end}`;
}
