import { awsRegion } from './adapters/clients';
import { DynamoDbStateStore } from './adapters/dynamodb-state-store';
import { EventBridgePublisher } from './adapters/eventbridge-publisher';
import { SageMakerEndpointObserverFactory } from './adapters/sagemaker-endpoint-observer';
import { SageMakerPipelineCallbacks } from './adapters/sagemaker-pipelines';
import { SageMakerModelRegistry } from './adapters/sagemaker-registry';
import type { Deps, StagePlace } from './app/deps';
import { decisionTime, handlerNow } from './clock';
import { loadConfigFromEnv } from './config/load';
import { ConfigError } from './errors';
import { LambdaLogger } from './lambda-logger';
import { emitMetrics } from './metrics/emf';
import { METRIC, metricsOfEvent } from './metrics/service-metrics';
import type { ArtifactLookupFactory } from './ports/artifacts';
import type { AutoscalingFactory } from './ports/autoscaling';
import type { ConvergenceRequests } from './ports/convergence';
import type { EventPublisher } from './ports/events';
import type { PermanentFailures } from './ports/failures';
import type { Metrics } from './ports/metrics';
import type {
  EndpointObserverFactory,
  EndpointsFactory,
  ModelRegistry,
  RegistryWriter,
} from './ports/sagemaker';

export const logger = new LambdaLogger(process.env.POWERTOOLS_SERVICE_NAME ?? 'sagemaker-rollouts');

/** The use cases' Log as structured JSON lines, correlated with the Lambda context. */
export const structuredLog: Deps['log'] = {
  debug: (message, extra) => logger.debug(message, { ...extra }),
  info: (message, extra) => logger.info(message, { ...extra }),
  warn: (message, extra) => logger.warn(message, { ...extra }),
  error: (message, extra) => logger.error(message, { ...extra }),
};

const required = (env: NodeJS.ProcessEnv, name: string): string => {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`, [name]);
  return value;
};

let createMetrics: ((place: StagePlace) => Metrics) | undefined;

/**
 * Only the tick reads CloudWatch: its handler module provides the adapter (per account and
 * region: a stage's metrics and alarms are read where its endpoint is, through its role in another
 * account), so that the other functions' bundles carry neither the adapter nor the CloudWatch client.
 */
export const provideMetrics = (create: (place: StagePlace) => Metrics): void => {
  createMetrics = create;
};

/**
 * Created on first use, so that deps built before the tick's module is loaded (the local stack)
 * have it; one adapter per deps and place, as for the other ports (it holds the client of its time).
 */
const providedMetrics = (place: StagePlace = {}): Metrics => {
  let adapter: Metrics | undefined;
  const get = (): Metrics => {
    if (!createMetrics) {
      throw new ConfigError('this function reads no CloudWatch metrics: only canary-tick provides them', [
        'metrics',
      ]);
    }
    adapter ??= createMetrics(place);
    return adapter;
  };
  return {
    readVariants: (queries, onInvalid) => get().readVariants(queries, onInvalid),
    alarmsInAlarm: (alarmNames) => get().alarmsInAlarm(alarmNames),
  };
};

const metricsPerPlace = (): ((place: StagePlace) => Metrics) => {
  const byPlace = new Map<string, Metrics>();
  return (place) => {
    const key = JSON.stringify([
      place.region ?? '',
      place.crossAccount?.roleArn ?? '',
      place.crossAccount?.externalId ?? '',
      place.crossAccount?.sessionName ?? '',
    ]);
    let metrics = byPlace.get(key);
    if (!metrics) {
      metrics = providedMetrics(place);
      byPlace.set(key, metrics);
    }
    return metrics;
  };
};

/** The SageMaker and Application Auto Scaling writers, which only the executor's bundle carries. */
export interface Writers {
  endpoints: EndpointsFactory;
  autoscaling: AutoscalingFactory;
  registry: RegistryWriter;
  /** the pre-flight before any endpoint change reads S3 and ECR with the writers' credentials */
  artifacts: ArtifactLookupFactory;
}

let providedWriters: Writers | undefined;

/**
 * The executor's handler module provides the writers, so that no other function's bundle carries
 * a SageMaker or Application Auto Scaling write command (and no other role is granted one).
 */
export const provideWriters = (writers: Writers): void => {
  providedWriters = writers;
};

const writers = (): Writers => {
  if (!providedWriters) {
    throw new ConfigError(
      'this function does not change SageMaker: only the executor does (ask it with deps.convergence)',
      ['executor'],
    );
  }
  return providedWriters;
};

/** Observation from this bundle, writes from the executor's writers (looked up on use). */
const endpointsOver = (observers: EndpointObserverFactory): EndpointsFactory => ({
  forStage(target) {
    const observer = observers.forStage(target);
    const writer = () => writers().endpoints.forStage(target);
    return {
      describe: (endpointName) => observer.describe(endpointName),
      invoke: (endpointName, request) => observer.invoke(endpointName, request),
      deploy: (spec) => writer().deploy(spec),
      setWeights: (endpointName, weights, observed) => writer().setWeights(endpointName, weights, observed),
      delete: (endpointName) => writer().delete(endpointName),
      retire: (modelNames, configNames) => writer().retire(modelNames, configNames),
    };
  },
});

/** Registry reads from this bundle, its writes from the executor's writer. */
const registryOver = (reader: Omit<ModelRegistry, 'updatePackage'>): ModelRegistry => ({
  describePackage: (packageArn) => reader.describePackage(packageArn),
  newestApproved: (group) => reader.newestApproved(group),
  packageArtifacts: (packageArn) => reader.packageArtifacts(packageArn),
  updatePackage: (packageArn, update) => writers().registry.updatePackage(packageArn, update),
});

const providedAutoscaling: AutoscalingFactory = {
  forStage: (target) => writers().autoscaling.forStage(target),
};

const providedArtifacts: ArtifactLookupFactory = {
  forStage: (target) => ({ observe: (artifact) => writers().artifacts.forStage(target).observe(artifact) }),
};

let createConvergence: (() => ConvergenceRequests) | undefined;

/** The deciding functions' handler modules provide the request sender (the executor sends none). */
export const provideConvergence = (create: () => ConvergenceRequests): void => {
  createConvergence = create;
};

const providedConvergence = (): ConvergenceRequests => {
  let sender: ConvergenceRequests | undefined;
  return {
    request: (group) => {
      if (!createConvergence) {
        throw new ConfigError('this function asks for no convergence: it is the executor', ['convergence']);
      }
      sender ??= createConvergence();
      return sender.request(group);
    },
  };
};

/** Publishes, then emits the metrics the published events stand for (per group). */
const metered = (inner: EventPublisher): EventPublisher => ({
  async publish(events) {
    await inner.publish(events);
    for (const event of events) {
      if (!event.group) continue;
      emitMetrics(
        event.group,
        metricsOfEvent(event),
        event.deploymentId ? { deploymentId: event.deploymentId } : {},
      );
    }
  },
});

const permanentFailuresMetric: PermanentFailures = {
  raise: (group) => emitMetrics(group, [{ name: METRIC.permanentFailures, unit: 'Count', value: 1 }]),
};

/** The composition root: real adapters over SDK v3 clients that honour AWS_ENDPOINT_URL. */
export const buildDeps = (env: NodeJS.ProcessEnv = process.env): Deps => ({
  config: loadConfigFromEnv(),
  store: new DynamoDbStateStore(required(env, 'TABLE_NAME')),
  registry: registryOver(new SageMakerModelRegistry()),
  endpoints: endpointsOver(new SageMakerEndpointObserverFactory()),
  autoscaling: providedAutoscaling,
  artifacts: providedArtifacts,
  region: awsRegion(),
  convergence: providedConvergence(),
  metrics: providedMetrics(),
  metricsFor: metricsPerPlace(),
  pipelines: new SageMakerPipelineCallbacks(),
  events: metered(new EventBridgePublisher(required(env, 'EVENT_BUS_NAME'))),
  failures: permanentFailuresMetric,
  log: structuredLog,
});

let cached: Deps | undefined;

/** Built on first use, so importing a handler needs no environment (tests, bundling, local runs). */
export const deps = (): Deps => {
  cached ??= buildDeps();
  return cached;
};

/** For the local cloud and tests: replace (or forget) the dependencies handlers use. */
export const setDeps = (next: Deps | undefined): void => {
  cached = next;
};

/**
 * The decision time of an event: its own time (a replay decides the same), unless that is far
 * from the handler's clock (see decisionTime); then the clock's, with a warning.
 */
export const eventTime = (time: string | undefined): number =>
  eventTimeMs(time ? Date.parse(time) : undefined);

/** eventTime for a time in epoch milliseconds (an SQS message's SentTimestamp). */
export const eventTimeMs = (eventMs: number | undefined): number => {
  const { at, ignoredEventTime } = decisionTime(eventMs, handlerNow());
  if (ignoredEventTime) {
    logger.warn('event time far from the clock: decided at the clock time', {
      eventTime: new Date(ignoredEventTime.eventMs).toISOString(),
      decidedAt: new Date(at).toISOString(),
      lateByMs: -ignoredEventTime.skewMs,
    });
  }
  return at;
};
