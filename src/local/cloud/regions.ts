import { ApplicationAutoScaling } from './application-autoscaling';
import { CloudWatch } from './cloudwatch';
import type { ContainerOptions } from './containers';
import type { Core } from './context';
import { Ecr } from './ecr';
import type { RequestContext } from './protocol';
import { Runtime } from './runtime';
import { S3 } from './s3';
import { SageMakerEndpoints, type Timings } from './sagemaker-endpoints';
import { ModelRegistry } from './sagemaker-registry';
import { Traffic } from './traffic';

type Json = Record<string, unknown>;
type Operations = Record<string, (input: Json, ctx: RequestContext) => unknown>;

/**
 * What a region of the local cloud holds on its own, as in AWS: the model registry, models,
 * endpoint configs and endpoints (with their runtime and simulated traffic), CloudWatch metrics and
 * alarms, Application Auto Scaling targets, ECR repositories. A client reaches the region its
 * request is signed for (the SigV4 credential scope), so an endpoint in us-east-1 is not found by a
 * client in eu-west-1.
 */
export interface RegionalServices {
  region: string;
  registry: ModelRegistry;
  sagemaker: SageMakerEndpoints;
  cloudwatch: CloudWatch;
  traffic: Traffic;
  runtime: Runtime;
  autoscaling: ApplicationAutoScaling;
  ecr: Ecr;
  /** The JSON-protocol operations this region serves, by service. */
  operations: {
    sagemaker: Operations;
    cloudwatch: Operations;
    'application-autoscaling': Operations;
    ecr: Operations;
  };
}

export interface RegionOptions {
  timings: Timings;
  seed: number;
  containers?: ContainerOptions | undefined;
}

/** A different traffic seed per region, the configured one for the default region (so one region behaves as before). */
const regionSeed = (seed: number, region: string, defaultRegion: string): number => {
  if (region === defaultRegion) return seed;
  let hash = seed;
  for (const char of region) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return hash;
};

function createRegion(core: Core, region: string, options: RegionOptions): RegionalServices {
  const registry = new ModelRegistry(core);
  let endpoints: SageMakerEndpoints | undefined;
  const cloudwatch = new CloudWatch(core.clock, region, (name, state) =>
    endpoints?.onAlarmChange(name, state),
  );
  endpoints = new SageMakerEndpoints(
    core,
    registry,
    options.timings,
    (name) => cloudwatch.alarmState(name),
    options.containers,
  );
  const traffic = new Traffic(
    core,
    endpoints,
    cloudwatch,
    regionSeed(options.seed, region, core.defaultRegion),
  );
  const runtime = new Runtime(core, endpoints, traffic, cloudwatch);
  const autoscaling = new ApplicationAutoScaling(core, endpoints);
  endpoints.scaling = autoscaling;
  const ecr = new Ecr(core, region);
  return {
    region,
    registry,
    sagemaker: endpoints,
    cloudwatch,
    traffic,
    runtime,
    autoscaling,
    ecr,
    operations: {
      sagemaker: { ...registry.operations(), ...endpoints.operations() },
      cloudwatch: cloudwatch.operations(),
      'application-autoscaling': autoscaling.operations(),
      ecr: ecr.operations(),
    },
  };
}

/** AWS region names: `us-east-1`, `eu-west-1`, `ap-southeast-2`, `us-gov-west-1`. */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The regions of the local cloud, each made on first use. S3's one bucket namespace spans them. */
export class Regions {
  private readonly byName = new Map<string, RegionalServices>();
  readonly s3: S3;

  constructor(
    private readonly core: Core,
    private readonly options: RegionOptions,
  ) {
    this.s3 = new S3(core);
    this.get(core.defaultRegion);
  }

  get(region: string): RegionalServices {
    const existing = this.byName.get(region);
    if (existing) return existing;
    if (!REGION_NAME.test(region)) throw new Error(`not an AWS region name: ${JSON.stringify(region)}`);
    const created = createRegion(this.core, region, this.options);
    this.byName.set(region, created);
    return created;
  }

  /** The regions made so far, the default one first. */
  all(): RegionalServices[] {
    return [...this.byName.values()];
  }
}
