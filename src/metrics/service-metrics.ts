import type { RolloutsConfig } from '../config/schema';
import { type GateReadings, type GroupState, isTerminal, type ServiceEvent } from '../domain/model';

/** The service's metrics (namespace SageMakerRollouts, dimensions service and group). */
export const METRIC = {
  deploymentsStarted: 'DeploymentsStarted',
  deploymentsSucceeded: 'DeploymentsSucceeded',
  deploymentsRolledBack: 'DeploymentsRolledBack',
  deploymentsFailed: 'DeploymentsFailed',
  gatePassed: 'GatePassed',
  gateFailed: 'GateFailed',
  candidateErrorRate: 'CandidateErrorRate',
  baselineErrorRate: 'BaselineErrorRate',
  candidateLatency: 'CandidateLatency',
  baselineLatency: 'BaselineLatency',
  stepDuration: 'StepDuration',
  rolloutDuration: 'RolloutDuration',
  timeToFirstTraffic: 'TimeToFirstTraffic',
  timeToFullTraffic: 'TimeToFullTraffic',
  tickDuration: 'TickDuration',
  groupsJudged: 'GroupsJudged',
  tickFailedGroups: 'TickFailedGroups',
  rolloutsInFlight: 'RolloutsInFlight',
  callbacksOutstanding: 'CallbacksOutstanding',
  oldestCallbackAge: 'OldestCallbackAge',
  permanentFailures: 'PermanentFailures',
  commandIdentityRefused: 'CommandIdentityRefused',
} as const;

/** The group dimension of service-wide metrics (the tick, failures not tied to one group). */
export const ALL_GROUPS = 'all';

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'Percent';

export interface Datum {
  name: MetricName;
  unit: MetricUnit;
  value: number;
}

const count = (name: MetricName): Datum => ({ name, unit: 'Count', value: 1 });
const seconds = (name: MetricName, fromMs: unknown, toMs: number): Datum[] =>
  typeof fromMs === 'number' && toMs >= fromMs
    ? [{ name, unit: 'Seconds', value: (toMs - fromMs) / 1000 }]
    : [];

/**
 * The gate verdict and the evidence it was judged on, from an event carrying gate readings:
 * error rates in percent, latency in milliseconds (the configured statistic).
 */
export const gateVerdictMetrics = (passed: boolean, readings: GateReadings | undefined): Datum[] => {
  if (!readings) return [];
  const data: Datum[] = [count(passed ? METRIC.gatePassed : METRIC.gateFailed)];
  const add = (name: MetricName, unit: MetricUnit, value: number | null | undefined, scale = 1) => {
    if (typeof value === 'number' && Number.isFinite(value)) data.push({ name, unit, value: value * scale });
  };
  add(METRIC.candidateErrorRate, 'Percent', readings.candidate.errorRate, 100);
  add(METRIC.candidateLatency, 'Milliseconds', readings.candidate.latencyMs);
  add(METRIC.baselineErrorRate, 'Percent', readings.baseline?.errorRate, 100);
  add(METRIC.baselineLatency, 'Milliseconds', readings.baseline?.latencyMs);
  return data;
};

/** The metrics a published service event stands for (durations from the times it carries). */
export const metricsOfEvent = (event: ServiceEvent): Datum[] => {
  const { detail, at } = event;
  const readings = detail.readings as GateReadings | undefined;
  switch (event.type) {
    case 'Deployment Started':
      return [count(METRIC.deploymentsStarted)];
    case 'Canary Step Passed':
      return [
        ...gateVerdictMetrics(true, readings),
        ...seconds(METRIC.stepDuration, detail.stepStartedAt, at),
        // the first step's traffic began when the canary started
        ...(detail.step === 1
          ? seconds(METRIC.timeToFirstTraffic, detail.startedAt, Number(detail.canaryStartedAt))
          : []),
      ];
    case 'Deployment Promoted':
      return [
        count(METRIC.deploymentsSucceeded),
        ...seconds(METRIC.rolloutDuration, detail.startedAt, at),
        ...seconds(METRIC.timeToFullTraffic, detail.startedAt, at),
        // no canary (a first version, native shifting): all traffic at once
        ...(detail.canaryStartedAt === undefined
          ? seconds(METRIC.timeToFirstTraffic, detail.startedAt, at)
          : []),
      ];
    case 'Deployment Rolled Back':
      return [
        count(METRIC.deploymentsRolledBack),
        ...gateVerdictMetrics(false, readings),
        ...seconds(METRIC.rolloutDuration, detail.startedAt, at),
      ];
    case 'Deployment Failed':
      return [count(METRIC.deploymentsFailed), ...seconds(METRIC.rolloutDuration, detail.startedAt, at)];
    default:
      return [];
  }
};

/**
 * Per configured group: rollouts in flight, callbacks waiting, and how long the oldest has waited
 * (a callback's deadline is its arrival plus the group's task timeout).
 */
export const groupGauges = (
  states: Pick<GroupState, 'group' | 'deployments'>[],
  config: RolloutsConfig,
  now: number,
): Map<string, Datum[]> => {
  const backlog = new Map<string, Datum[]>();
  for (const [group, groupConfig] of Object.entries(config.modelPackageGroups)) {
    const timeoutMs = groupConfig.callback.taskTimeoutMinutes * 60_000;
    const deployments = states.find((s) => s.group === group)?.deployments ?? [];
    const waiting = deployments.flatMap((d) => d.callbacks);
    const oldest = Math.max(0, ...waiting.map((c) => now - (c.deadline - timeoutMs)));
    backlog.set(group, [
      {
        name: METRIC.rolloutsInFlight,
        unit: 'Count',
        value: deployments.filter((d) => !isTerminal(d.phase)).length,
      },
      { name: METRIC.callbacksOutstanding, unit: 'Count', value: waiting.length },
      { name: METRIC.oldestCallbackAge, unit: 'Seconds', value: oldest / 1000 },
    ]);
  }
  return backlog;
};
