/**
 * What production sees of a scenario run: the EMF lines the handlers write,
 * and that no callback token leaks into a log line, an event or the history.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// every log line the handlers write, whatever its level (the logger reads the level on each line);
// the level before is put back for the files that share this worker process
const levelBefore = vi.hoisted(() => {
  const before = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  return before;
});

import { loadScenarioFile, runScenario, type ScenarioResult } from '../../src/local/scenario-runner';
import { deps } from '../../src/wiring';
import { METRIC_SCENARIOS } from './metric-scenarios';

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

interface Run {
  result: ScenarioResult;
  stdout: string;
  emf: Emf[];
  tokens: string[];
  published: string;
  history: string;
  logRecords: string;
}

const runs: Run[] = [];

beforeAll(async () => {
  for (const file of METRIC_SCENARIOS) {
    let stdout = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    });
    let result: ScenarioResult;
    try {
      result = await runScenario(loadScenarioFile(file), { keepStack: true });
    } finally {
      spy.mockRestore();
    }
    const stack = result.stack!;
    try {
      const ids = new Set<string>();
      for (const state of await deps().store.listGroups()) for (const d of state.deployments) ids.add(d.id);
      const history = (await Promise.all([...ids].map((id) => deps().store.history(id)))).flat();
      runs.push({
        result,
        stdout,
        emf: stack.records.flatMap((r) => (r.kind === 'metric' ? [JSON.parse(r.line) as Emf] : [])),
        tokens: stack.cloud.pipelines.tokens(),
        published: JSON.stringify(stack.cloud.events.published),
        history: JSON.stringify(history),
        logRecords: JSON.stringify(stack.records.filter((r) => r.kind === 'log')),
      });
    } finally {
      await stack.close();
    }
  }
}, 400_000);

afterAll(() => {
  if (levelBefore === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = levelBefore;
});

describe('metrics (EMF, namespace SageMakerRollouts, dimensions service and group)', () => {
  it('every scenario ends as expected with metrics on (scenarios.test.ts leaves these to this file)', () => {
    expect(runs).toHaveLength(METRIC_SCENARIOS.length);
    for (const { result } of runs) {
      expect(result.failures, result.name).toEqual([]);
      expect(result.outcome, result.name).toBe(result.expected);
      expect(result.ok, result.name).toBe(true);
      expect(result.timeline.length, result.name).toBeGreaterThan(0);
      expect(result.samples.length, result.name).toBeGreaterThan(0);
    }
  });

  it('are EMF documents CloudWatch accepts, one per group', () => {
    const all = runs.flatMap((r) => r.emf);
    expect(all.length).toBeGreaterThan(20);
    for (const doc of all) {
      const [directive] = doc._aws.CloudWatchMetrics;
      expect(directive!.Namespace).toBe('SageMakerRollouts');
      expect(directive!.Dimensions).toEqual([['service', 'group']]);
      expect(doc.service).toBe('sagemaker-rollouts');
      expect(typeof doc.group).toBe('string');
      for (const metric of directive!.Metrics) expect(doc[metric.Name]).toBeDefined();
    }
  });

  it('cover the documented metrics', () => {
    const names = new Set(
      runs.flatMap((r) => r.emf.flatMap((d) => d._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name))),
    );
    for (const name of [
      'DeploymentsStarted',
      'DeploymentsSucceeded',
      'DeploymentsRolledBack',
      'GatePassed',
      'CandidateErrorRate',
      'BaselineErrorRate',
      'CandidateLatency',
      'StepDuration',
      'RolloutDuration',
      'TimeToFirstTraffic',
      'TimeToFullTraffic',
      'TickDuration',
      'GroupsJudged',
      'CallbacksOutstanding',
      'OldestCallbackAge',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it('a rollback counts one rollback for its group; a promotion one success, with durations', () => {
    const [promotion, rollback] = runs;
    const sum = (run: Run, name: string) =>
      run.emf
        .filter((d) => d.group === 'churn-model')
        .reduce((total, d) => total + (typeof d[name] === 'number' ? (d[name] as number) : 0), 0);
    expect(sum(rollback!, 'DeploymentsRolledBack')).toBe(1);
    expect(sum(promotion!, 'DeploymentsSucceeded')).toBeGreaterThanOrEqual(1);
    const full = promotion!.emf.find((d) => typeof d.TimeToFullTraffic === 'number');
    expect(full!.TimeToFullTraffic).toBeGreaterThan(0);
  });

  it('appear in the timeline npm start prints', () => {
    for (const { result } of runs) {
      const lines = result.timeline.filter((e) => e.kind === 'metric');
      expect(lines.length, result.name).toBeGreaterThan(0);
      expect(lines[0]!.text).toContain('"Namespace":"SageMakerRollouts"');
    }
  });
});

describe('callback tokens', () => {
  it('the pipeline scenarios used tokens, and wrote log lines at every level', () => {
    const pipelines = runs.slice(2);
    for (const run of pipelines) expect(run.tokens.length, run.result.name).toBeGreaterThan(0);
    expect(pipelines.some((r) => r.stdout.includes('"level":"INFO"'))).toBe(true);
  });

  it('appear in no log line, no published event and no history entry', () => {
    for (const run of runs) {
      for (const token of run.tokens) {
        expect(run.stdout, `${run.result.name}: stdout`).not.toContain(token);
        expect(run.logRecords, `${run.result.name}: log`).not.toContain(token);
        expect(run.published, `${run.result.name}: events`).not.toContain(token);
        expect(run.history, `${run.result.name}: history`).not.toContain(token);
        expect(JSON.stringify(run.result.timeline), `${run.result.name}: timeline`).not.toContain(token);
      }
    }
  });

  it('the history still names the pipeline execution', () => {
    const deploy = runs[2]!;
    expect(deploy.history).toMatch(/pipeline callback cb-[0-9a-f]{8} of arn:aws:sagemaker:[^"]+:pipeline\//);
  });
});
