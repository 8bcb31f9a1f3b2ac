import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load';
import type { GateReadings, GroupState, ServiceEvent } from '../../src/domain/model';
import { groupGauges, metricsOfEvent } from '../../src/metrics/service-metrics';

const MIN = 60_000;
const readings: GateReadings = {
  candidate: { invocations: 600, errors5xx: 12, errorRate: 0.02, latencyMs: 40 },
  baseline: { invocations: 5400, errors5xx: 5, errorRate: 0.001, latencyMs: 35 },
  alarmsInAlarm: [],
  windowStart: 0,
  windowEnd: 10 * MIN,
};
const event = (type: ServiceEvent['type'], at: number, detail: Record<string, unknown>): ServiceEvent => ({
  type,
  group: 'churn-model',
  deploymentId: 'churn-model:v2',
  version: 2,
  at,
  detail,
});
const byName = (data: { name: string; value: number }[]) =>
  Object.fromEntries(data.map((d) => [d.name, d.value]));

describe('metricsOfEvent', () => {
  it('a passed first step: the verdict with its evidence, the step duration and the time to first traffic', () => {
    const data = metricsOfEvent(
      event('Canary Step Passed', 40 * MIN, {
        step: 1,
        readings,
        startedAt: 0,
        canaryStartedAt: 25 * MIN,
        stepStartedAt: 25 * MIN,
      }),
    );
    expect(byName(data)).toEqual({
      GatePassed: 1,
      CandidateErrorRate: 2,
      BaselineErrorRate: 0.1,
      CandidateLatency: 40,
      BaselineLatency: 35,
      StepDuration: 900,
      TimeToFirstTraffic: 1500,
    });
  });

  it('a later step does not count first traffic again', () => {
    const data = metricsOfEvent(
      event('Canary Step Passed', 60 * MIN, {
        step: 2,
        readings,
        startedAt: 0,
        canaryStartedAt: 25 * MIN,
        stepStartedAt: 40 * MIN,
      }),
    );
    expect(byName(data).TimeToFirstTraffic).toBeUndefined();
  });

  it('a promotion with a canary: success, rollout duration and time to full traffic', () => {
    const data = metricsOfEvent(
      event('Deployment Promoted', 90 * MIN, { startedAt: 0, canaryStartedAt: 25 * MIN }),
    );
    expect(byName(data)).toEqual({ DeploymentsSucceeded: 1, RolloutDuration: 5400, TimeToFullTraffic: 5400 });
  });

  it('a first version (no canary) gets all traffic at once', () => {
    const data = metricsOfEvent(event('Deployment Promoted', 20 * MIN, { startedAt: 0 }));
    expect(byName(data)).toMatchObject({ TimeToFirstTraffic: 1200, TimeToFullTraffic: 1200 });
  });

  it('a rollback with gate readings counts a failed gate with its evidence', () => {
    const data = metricsOfEvent(event('Deployment Rolled Back', 30 * MIN, { startedAt: 0, readings }));
    expect(byName(data)).toMatchObject({
      DeploymentsRolledBack: 1,
      GateFailed: 1,
      CandidateErrorRate: 2,
      RolloutDuration: 1800,
    });
  });

  it('events without a metric give none, and a missing start gives no duration', () => {
    expect(metricsOfEvent(event('Drift Detected', 1, {}))).toEqual([]);
    expect(byName(metricsOfEvent(event('Deployment Failed', 1, {})))).toEqual({ DeploymentsFailed: 1 });
  });
});

describe('groupGauges', () => {
  const config = loadConfigFile('rollouts.config.yml');
  it('counts rollouts in flight and callbacks waiting, and the oldest wait, for every configured group', () => {
    const now = 100 * MIN;
    // churn-model's task timeout is 240 minutes: a deadline at now + 200 min arrived 40 min ago
    const state = {
      group: 'churn-model',
      deployments: [
        {
          phase: 'Canary',
          callbacks: [
            { token: 'a', pipelineExecutionArn: 'x', stage: 'prod', deadline: now + 200 * MIN },
            { token: 'b', pipelineExecutionArn: 'y', stage: 'prod', deadline: now + 230 * MIN },
          ],
        },
        { phase: 'Succeeded', callbacks: [] },
      ],
    } as unknown as GroupState;
    const gauges = groupGauges([state], config, now);
    expect(byName(gauges.get('churn-model')!)).toEqual({
      RolloutsInFlight: 1,
      CallbacksOutstanding: 2,
      OldestCallbackAge: 2400,
    });
    expect(byName(gauges.get('fraud-detector')!)).toEqual({
      RolloutsInFlight: 0,
      CallbacksOutstanding: 0,
      OldestCallbackAge: 0,
    });
  });
});
