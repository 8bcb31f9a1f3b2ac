import {
  type CrossAccountConfig,
  type GroupConfig,
  observing,
  type RolloutsConfig,
  type StageName,
} from '../config/schema';
import type { PayloadPolicy } from '../domain/payload';
import type { ArtifactLookupFactory } from '../ports/artifacts';
import type { AutoscalingFactory, VariantAutoscaling } from '../ports/autoscaling';
import type { ConvergenceRequests } from '../ports/convergence';
import type { EventPublisher } from '../ports/events';
import type { PermanentFailures } from '../ports/failures';
import type { Metrics } from '../ports/metrics';
import type { PipelineCallbacks } from '../ports/pipelines';
import type { EndpointsFactory, ModelRegistry, StageEndpoints, StageTarget } from '../ports/sagemaker';
import type { StateStore } from '../ports/state-store';

export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Everything a use case needs from outside; handlers build it once per container. */
export interface Deps {
  config: RolloutsConfig;
  store: StateStore;
  registry: ModelRegistry;
  endpoints: EndpointsFactory;
  autoscaling: AutoscalingFactory;
  /** the executor's pre-flight lookups of a version's artifacts, in a stage's account and region */
  artifacts: ArtifactLookupFactory;
  /** the service's own region: a stage's unless it names one */
  region: string;
  /** asks the executor to converge a group's endpoints (the deciding functions' only way to change them) */
  convergence: ConvergenceRequests;
  /** metrics and alarms of this account */
  metrics: Metrics;
  /** metrics and alarms of another account (read through the stage's role) or region */
  metricsFor: (place: StagePlace) => Metrics;
  pipelines: PipelineCallbacks;
  events: EventPublisher;
  /** effects refused for good are counted here (an alarm watches the count) */
  failures: PermanentFailures;
  log: Log;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

export class UnknownGroupError extends Error {}

export const groupConfig = (deps: Deps, group: string): GroupConfig | undefined =>
  deps.config.modelPackageGroups[group];

/** The account (through its role) and region of a stage; undefined ones are the service's own. */
export interface StagePlace {
  crossAccount?: CrossAccountConfig | undefined;
  region?: string | undefined;
}

/** Where one stage of a group lives: its account (role) and region, as its clients need them. */
export const stageTarget = (config: GroupConfig, group: string, stage: StageName): StageTarget => {
  const { crossAccount, region } = config.stages[stage];
  return { group, stage, crossAccount, region };
};

/** The endpoints of one stage of a group, in whichever account and region the stage lives. */
export const stageEndpoints = (deps: Deps, group: string, stage: StageName): StageEndpoints => {
  const config = groupConfig(deps, group);
  if (!config) throw new UnknownGroupError(`model package group ${group} is not configured`);
  return deps.endpoints.forStage(stageTarget(config, group, stage));
};

/**
 * The metrics and alarms of a stage, in whichever account (through its observer role) and region
 * the stage lives; the service's own region is `deps.region`, where `deps.metrics` reads.
 */
export const stageMetrics = (deps: Deps, place: StagePlace): Metrics => {
  const region = place.region === deps.region ? undefined : place.region;
  if (!place.crossAccount && region === undefined) return deps.metrics;
  return deps.metricsFor({
    ...(place.crossAccount ? { crossAccount: observing(place.crossAccount) } : {}),
    ...(region !== undefined ? { region } : {}),
  });
};

/** Which group and stage an endpoint belongs to (endpoint names are unique across the config). */
export const findEndpoint = (
  config: RolloutsConfig,
  endpointName: string,
): { group: string; stage: StageName } | undefined => {
  for (const [group, groupConfig] of Object.entries(config.modelPackageGroups)) {
    for (const stage of ['qa', 'prod'] as const) {
      if (groupConfig.stages[stage].endpointName === endpointName) return { group, stage };
    }
  }
  return undefined;
};

/** Application Auto Scaling of one stage's variants, in whichever account and region the stage lives. */
export const stageAutoscaling = (deps: Deps, group: string, stage: StageName): VariantAutoscaling => {
  const config = groupConfig(deps, group);
  if (!config) throw new UnknownGroupError(`model package group ${group} is not configured`);
  return deps.autoscaling.forStage(stageTarget(config, group, stage));
};

/** Whether failure reasons of this group may quote request bodies and answers (debugging only). */
export const payloadPolicy = (config: GroupConfig | undefined): PayloadPolicy => ({
  excerpts: config?.debug.payloadExcerpts ?? false,
});
