import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadScenarioFile,
  parseScenario,
  runScenario,
  ScenarioFileError,
} from '../../src/local/scenario-runner';
import { scenarioFiles } from '../../src/local/scenario-schema';
import { BROWSER_SCENARIOS, browserPresent } from '../report/browser-scenarios';
import { METRIC_SCENARIOS } from './metric-scenarios';

// Every scenario `npm start` plays, through the real handlers on the local cloud; those that
// production-signals.test.ts plays, and report-browser.test.ts where a browser is present, are
// played there with the same checks, not twice.
describe('scenario files', () => {
  const files = scenarioFiles();
  const fromRoot = (file: string) => relative(resolve(__dirname, '../..'), file);
  const elsewhere = new Set([...METRIC_SCENARIOS, ...(browserPresent ? BROWSER_SCENARIOS : [])]);
  const here = files.filter((f) => !elsewhere.has(fromRoot(f)));

  it('cover the documented cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  it('each is played here, by production-signals.test.ts or by report-browser.test.ts', () => {
    expect([...METRIC_SCENARIOS, ...BROWSER_SCENARIOS].every((f) => files.map(fromRoot).includes(f))).toBe(
      true,
    );
    expect(here.length + elsewhere.size).toBe(files.length);
  });

  it.each(here.map((f) => [basename(f), f]))('%s ends as expected', async (_name, file) => {
    const result = await runScenario(loadScenarioFile(file));
    expect(result.failures).toEqual([]);
    expect(result.outcome).toBe(result.expected);
    expect(result.ok).toBe(true);
    expect(result.timeline.length).toBeGreaterThan(0);
    expect(result.samples.length).toBeGreaterThan(0);
  });
});

const firstDeployment = (extraSteps: unknown[], expectOutcome: string) =>
  parseScenario({
    name: 'injected',
    description: 'first deployment with a fault',
    steps: [
      ...extraSteps,
      { register: { group: 'churn-model', version: 1 } },
      { approve: { group: 'churn-model', version: 1 } },
      { wait: { until: { deployment: 'churn-model:v1', phase: ['Succeeded', 'Failed'] }, timeout: '30m' } },
    ],
    expect: { outcome: expectOutcome },
  });

describe('fault injection', () => {
  it('a permanent error ends the scenario with a failed outcome and the reason', async () => {
    const scenario = firstDeployment(
      [
        {
          fault: {
            operation: 'CreateEndpointConfig',
            error: 'ValidationException',
            message: 'bad instance type',
          },
        },
      ],
      'failed v1',
    );
    const result = await runScenario(scenario);
    expect(result.outcome).toBe('failed v1');
    expect(result.ok).toBe(true);
    expect(result.reason).toContain('CreateEndpointConfig');
    expect(result.reason).toContain('bad instance type');
    expect(result.finalWeights).toEqual({});
  });

  it('an operation that never succeeds ends the scenario as failed instead of hanging', async () => {
    const scenario = firstDeployment(
      [{ fault: { service: 'sagemaker', operation: 'CreateEndpoint', error: 'ThrottlingException' } }],
      'promoted v1',
    );
    // The wait's virtual timeout ends it (the local stack's SDK retries do not wait in wall-clock
    // time); the wall limit stays as the guard against a hang on a slow machine.
    const result = await runScenario(scenario, { wallTimeoutMs: 5_000 });
    expect(result.ok).toBe(false);
    expect(result.outcome).not.toBe('promoted v1');
    expect(result.failures.join('\n')).toMatch(
      /waited 30m for churn-model:v1 Succeeded\/Failed: it never happened|wall-clock limit of 5 s reached/,
    );
  });

  it('a scenario past its wall-clock limit stops with that reason, and leaves nothing running', async () => {
    const scenario = firstDeployment([], 'promoted v1');
    const envBefore = { ...process.env };
    const result = await runScenario(scenario, { wallTimeoutMs: 1 });
    expect(result.ok).toBe(false);
    expect(result.outcome).toBe('error: wall-clock limit of 0.001 s reached');
    // the stack that was still starting is closed: the next file in this process gets no endpoints
    expect(process.env).toEqual(envBefore);
  });
});

describe('scenario validation', () => {
  it('names the offending field', () => {
    const raw = {
      name: 'bad',
      description: 'x',
      steps: [
        { register: { group: 'churn-model', version: 1 } },
        { approve: { group: 'churn-model', version: 'one' } },
      ],
      expect: { outcome: 'promoted v1' },
    };
    expect(() => parseScenario(raw, 'bad.yml')).toThrow(ScenarioFileError);
    expect(() => parseScenario(raw, 'bad.yml')).toThrow(/steps\[1\]\.approve\.version/);
  });

  it('rejects a step with two actions, an unknown key and a bad duration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      [
        'name: bad',
        'description: x',
        'steps:',
        '  - { traffic: { endpoint: e, rpm: 1 }, alarm: { name: a, state: OK } }',
        '  - wait: ten minutes',
        '  - launch: { rocket: true }',
        'expect: { outcome: ok }',
      ].join('\n'),
    );
    let message = '';
    try {
      loadScenarioFile(file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(file);
    expect(message).toContain('steps[0]: a step has one action, this one has traffic and alarm');
    expect(message).toMatch(/steps\[1\]\.wait/);
    expect(message).toMatch(/steps\[2\].*launch/);
  });
});
