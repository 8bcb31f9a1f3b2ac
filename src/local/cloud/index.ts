import type { Server } from 'node:http';
import { parseEcrImage } from '../../domain/artifacts';
import { VirtualClock } from '../clock';
import type { ApplicationAutoScaling } from './application-autoscaling';
import { type ArtifactRead, ArtifactReads } from './artifact-reads';
import { type AppliedChange, ChangeLog } from './change-log';
import type { AlarmState, CloudWatch } from './cloudwatch';
import type { ContainerOptions } from './containers';
import type { Core } from './context';
import { handleControl } from './control';
import { EventBridge } from './eventbridge';
import { Faults } from './faults';
import { FunctionUrls } from './function-urls';
import { Pipelines } from './pipelines';
import { ACCOUNT_ID, ApiError, type RequestContext, Rng } from './protocol';
import { type RegionalServices, Regions } from './regions';
import type { Runtime } from './runtime';
import { S3 } from './s3';
import type { SageMakerEndpoints, Timings } from './sagemaker-endpoints';
import type { ModelRegistry } from './sagemaker-registry';
import { type CallRecord, type Operation, startServer } from './server';
import { Sqs } from './sqs';
import { Sts } from './sts';
import { Timers } from './timers';
import type { Traffic, TrafficOptions } from './traffic';

export type { ArtifactRead } from './artifact-reads';
export type {
  AppliedChange,
  ApprovalChange,
  ConfigChange,
  EndpointChange,
  VariantRecord,
} from './change-log';
export type { ContainerOutcome, ContainerRequest } from './containers';
export { invokeContainer, recordContainerOutcome, serveByContainer } from './containers';
export type { CloudEvent, DeliveryRecord, EventTarget, RuleSpec } from './eventbridge';
export type { FaultSpec } from './faults';
export type { FunctionUrlEvent, FunctionUrlTarget } from './function-urls';
export type { CallbackAnswer, PipelineSpec } from './pipelines';
export type { RegionalServices } from './regions';
export type { AssumeRoleCall, LocalIdentity } from './sts';
export type { AlarmState, CallRecord, ContainerOptions, Timings };

export interface LocalCloudOptions {
  clock?: VirtualClock;
  seed?: number;
  timings?: Partial<Timings>;
  /** Probability (0..1) that an endpoint state-change event is emitted a second time. */
  duplicateEventRate?: number;
  region?: string;
  /** Deliver queued events on their own (next macrotask) instead of only on `drain()`. Default false. */
  autoDeliver?: boolean;
  /** Real model servers behind endpoints: image-to-URL map and the contract's timeouts. */
  containers?: ContainerOptions;
  /**
   * Keep accounts apart: a request reaches the resources (SageMaker, CloudWatch, Auto Scaling,
   * ECR, event buses) of the account its signer belongs to, e.g. a role assumed in 444455556666.
   * Default false: every signer reaches the local account 111122223333, as before.
   */
  separateAccounts?: boolean;
}

export const DEFAULT_TIMINGS: Timings = {
  createMs: 5 * 60_000,
  updateMs: 3 * 60_000,
  weightsMs: 30_000,
  deleteMs: 60_000,
};

export class LocalCloud {
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly clock: VirtualClock;
  readonly timers: Timers;
  readonly events: EventBridge;
  readonly registry: ModelRegistry;
  readonly sagemaker: SageMakerEndpoints;
  readonly cloudwatch: CloudWatch;
  readonly traffic: Traffic;
  readonly runtime: Runtime;
  readonly sqs: Sqs;
  readonly pipelines: Pipelines;
  readonly sts: Sts;
  readonly faults: Faults;
  readonly autoscaling: ApplicationAutoScaling;
  readonly functionUrls: FunctionUrls;
  /** S3's one bucket namespace (each bucket lives in one region). */
  readonly s3: S3;
  readonly calls: CallRecord[] = [];
  /** Every change applied to endpoint configs, endpoints' variants and weights, and approvals, in order. */
  readonly changes: readonly AppliedChange[];
  /** Every artifact lookup S3 and ECR answered (found or not), each placed in `changes`. */
  readonly artifactReads: readonly ArtifactRead[];
  private latencyMs = 0;
  private server: Server | undefined;
  private readonly regions: Regions;

  /** Use `startLocalCloud`. */
  constructor(
    parts: {
      core: Core;
      regions: Regions;
      sqs: Sqs;
      pipelines: Pipelines;
      sts: Sts;
      faults: Faults;
      functionUrls: FunctionUrls;
    },
    server: Server,
    port: number,
  ) {
    this.clock = parts.core.clock;
    this.changes = parts.core.changes.entries;
    this.artifactReads = parts.core.reads.entries;
    this.timers = parts.core.timers;
    this.events = parts.core.events;
    this.region = parts.core.defaultRegion;
    this.regions = parts.regions;
    const home = parts.regions.get(this.region);
    this.registry = home.registry;
    this.sagemaker = home.sagemaker;
    this.cloudwatch = home.cloudwatch;
    this.traffic = home.traffic;
    this.runtime = home.runtime;
    this.autoscaling = home.autoscaling;
    this.s3 = parts.regions.s3;
    this.sqs = parts.sqs;
    this.pipelines = parts.pipelines;
    this.sts = parts.sts;
    this.faults = parts.faults;
    this.functionUrls = parts.functionUrls;
    this.server = server;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Moves virtual time forward by `ms`, running every timed transition that falls due, in time order. */
  advance(ms: number): void {
    if (ms < 0) throw new Error(`cannot advance by a negative duration (${ms} ms)`);
    this.timers.runUntil(this.clock.now() + ms);
  }

  advanceTo(ms: number): void {
    if (ms < this.clock.now())
      throw new Error(`cannot move virtual time back from ${this.clock.now()} to ${ms}`);
    this.timers.runUntil(ms);
  }

  /**
   * A region's own SageMaker (registry, endpoints, runtime, traffic), CloudWatch, Application Auto
   * Scaling and ECR; the fields `sagemaker`, `cloudwatch`... are the default region's.
   */
  inRegion(region: string, account = ACCOUNT_ID): RegionalServices {
    return this.regions.get(region, account);
  }

  /** Waits for real containers (in every region) to answer what was sent to them, then delivers queued events. */
  async drain(): Promise<void> {
    for (const region of this.regions.all()) {
      await region.traffic.settled();
      await region.runtime.settled();
    }
    return this.events.drain();
  }

  /**
   * What a user's CI has pushed before it registers a model package: each container's image in the
   * ECR registry and region its URI names, its model data in S3 (a bucket made in `dataRegion`).
   * Idempotent; an image URI that is not ECR's is left alone (the pre-flight refuses it).
   */
  seedArtifacts(
    containers: readonly { Image?: string | undefined; ModelDataUrl?: string | undefined }[],
    dataRegion = this.region,
  ): void {
    for (const { Image, ModelDataUrl } of containers) {
      const image = parseEcrImage(Image ?? '');
      if (image && !image.digest) {
        const { registryId, region, repository, tag = 'latest' } = image;
        const ecr = this.inRegion(region, registryId).ecr;
        if (!ecr.has(repository, tag)) ecr.push(repository, tag);
      }
      const data = /^s3:\/\/([^/]+)\/(.+)$/.exec(ModelDataUrl ?? '');
      if (data && !this.s3.has(data[1]!, data[2]!)) this.s3.putObject(dataRegion, data[1]!, data[2]!);
    }
  }

  setTraffic(endpointName: string, requestsPerMinute: number, options?: TrafficOptions): void {
    this.traffic.set(endpointName, requestsPerMinute, options);
  }

  setAlarmState(name: string, state: AlarmState): void {
    this.cloudwatch.setAlarmState(name, state);
  }

  /** Real (wall-clock) delay added to every API call, for benchmarks. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  get apiLatencyMs(): number {
    return this.latencyMs;
  }

  callCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.calls) counts[c.operation] = (counts[c.operation] ?? 0) + 1;
    return counts;
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  /** Environment for SDK clients in this process or a child process. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  }
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const clock = options.clock ?? new VirtualClock(Date.UTC(2024, 0, 1));
  const seed = options.seed ?? 1;
  const region = options.region ?? 'us-east-1';
  const timers = new Timers(clock);
  const ids = new Rng(seed * 7919 + 1);
  let cloud: LocalCloud | undefined;
  let sqs: Sqs | undefined;
  let deliveryScheduled = false;
  const events = new EventBridge({
    clock,
    ids,
    defaultRegion: region,
    sendToQueue: (arn, body) => sqs?.sendTo(arn, body) ?? false,
    onEnqueue: () => {
      if (!options.autoDeliver || deliveryScheduled) return;
      deliveryScheduled = true;
      setImmediate(() => {
        deliveryScheduled = false;
        void events.drain();
      });
    },
  });
  const changes = new ChangeLog(() => clock.now());
  const core: Core = {
    clock,
    timers,
    events,
    defaultRegion: region,
    tags: new Map(),
    rng: { invoke: new Rng(seed), duplicates: new Rng(seed * 31 + 7), ids },
    duplicateEventRate: options.duplicateEventRate ?? 0,
    changes,
    reads: new ArtifactReads(changes, () => clock.now()),
  };
  const regions = new Regions(core, {
    timings: { ...DEFAULT_TIMINGS, ...options.timings },
    seed,
    containers: options.containers,
  });
  const home = regions.get(region);
  sqs = new Sqs(core);
  const pipelines = new Pipelines(core, sqs);
  const sts = new Sts(core);
  const faults = new Faults();
  const functionUrls = new FunctionUrls(core, sts);

  /** The region a request is signed for (the SigV4 credential scope); no region of that name: refused. */
  const regionOf = (ctx: RequestContext): RegionalServices => {
    try {
      return regions.get(ctx.region, ctx.account);
    } catch {
      throw new ApiError(
        'UnrecognizedClientException',
        `The local cloud has no region named ${JSON.stringify(ctx.region)}.`,
        { status: 403 },
      );
    }
  };
  const pipelineOps = pipelines.operations();
  /** An operation served by the region of each request (the default region's table names them all). */
  const regional =
    (service: keyof RegionalServices['operations'], global: Record<string, Operation> = {}) =>
    (operation: string): Operation | undefined => {
      if (Object.hasOwn(global, operation)) return global[operation];
      if (!Object.hasOwn(home.operations[service], operation)) return undefined;
      return (input, ctx) => regionOf(ctx).operations[service][operation]?.(input, ctx);
    };
  const lookup =
    (ops: Record<string, Operation>) =>
    (operation: string): Operation | undefined =>
      Object.hasOwn(ops, operation) ? ops[operation] : undefined;
  /** What a fault may name, by service (the control API refuses anything else). */
  const operations: Record<string, string[]> = {
    sagemaker: [...Object.keys(home.operations.sagemaker), ...Object.keys(pipelineOps)],
    'sagemaker-runtime': ['InvokeEndpoint'],
    sqs: Object.keys(sqs.operations()),
    cloudwatch: Object.keys(home.operations.cloudwatch),
    'application-autoscaling': Object.keys(home.operations['application-autoscaling']),
    events: EventBridge.OPERATIONS,
    sts: Sts.OPERATIONS,
    ecr: Object.keys(home.operations.ecr),
    s3: S3.OPERATIONS,
  };
  const { server, port } = await startServer(
    {
      json: {
        sagemaker: regional('sagemaker', pipelineOps),
        sqs: lookup(sqs.operations()),
        cloudwatch: regional('cloudwatch'),
        'application-autoscaling': regional('application-autoscaling'),
        ecr: regional('ecr'),
        events: (operation) => (input, ctx) => events.handle(operation, input, ctx),
      },
      invoke: (name, headers, ctx, body) => regionOf(ctx).runtime.invoke(name, headers, ctx, body),
      query: (action, params, ctx, requestId, request) => sts.handle(action, params, ctx, requestId, request),
      functionUrl: (name, request) => functionUrls.handle(name, request),
      s3: (request, ctx) => regions.s3.handle(request, ctx),
      control: (method, path, body) =>
        handleControl(method, path, body, {
          now: () => clock.now(),
          traffic: home.traffic,
          faults,
          cloudwatch: home.cloudwatch,
          operations,
        }),
    },
    {
      now: () => clock.now(),
      defaultRegion: region,
      accountOf: (accessKeyId) => {
        if (!options.separateAccounts || !accessKeyId) return ACCOUNT_ID;
        return sts.identity(accessKeyId)?.arn.split(':')[4] || ACCOUNT_ID;
      },
      faults,
      latencyMs: () => cloud?.apiLatencyMs ?? 0,
      record: (call) => cloud?.calls.push(call),
      beforeCall: () => timers.runUntil(clock.now()),
    },
  );
  sqs.setPort(port);
  functionUrls.setPort(port);
  cloud = new LocalCloud({ core, regions, sqs, pipelines, sts, faults, functionUrls }, server, port);
  return cloud;
}
