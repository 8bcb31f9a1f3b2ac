import { ApplicationAutoScaling } from './application-autoscaling';
import { CloudWatch } from './cloudwatch';
import type { ContainerOptions } from './containers';
import type { Core, Place } from './context';
import { Ecr } from './ecr';
import { ACCOUNT_ID, type RequestContext } from './protocol';
import { Runtime } from './runtime';
import { S3 } from './s3';
import { type PackageSource, SageMakerEndpoints, type Timings } from './sagemaker-endpoints';
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
  account: string;
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

/**
 * A different traffic seed per account and region; the configured one for the local account's
 * default region (so one region behaves as before).
 */
const placeSeed = (seed: number, place: Place, defaultRegion: string): number => {
  if (place.account === ACCOUNT_ID && place.region === defaultRegion) return seed;
  let hash = seed;
  for (const char of `${place.account}/${place.region}`)
    hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return hash;
};

function createRegion(
  core: Core,
  place: Place,
  options: RegionOptions,
  packagesOf: (own: ModelRegistry) => PackageSource,
): RegionalServices {
  const { region, account } = place;
  const registry = new ModelRegistry(core, place);
  let endpoints: SageMakerEndpoints | undefined;
  const cloudwatch = new CloudWatch(
    core.clock,
    region,
    (name, state) => endpoints?.onAlarmChange(name, state),
    account,
  );
  endpoints = new SageMakerEndpoints(
    core,
    packagesOf(registry),
    options.timings,
    (name) => cloudwatch.alarmState(name),
    options.containers ?? {},
    place,
  );
  const traffic = new Traffic(
    core,
    endpoints,
    cloudwatch,
    placeSeed(options.seed, place, core.defaultRegion),
  );
  const runtime = new Runtime(core, endpoints, traffic, cloudwatch, account);
  const autoscaling = new ApplicationAutoScaling(core, endpoints, account);
  endpoints.scaling = autoscaling;
  const ecr = new Ecr(core, region, account);
  return {
    region,
    account,
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

const PACKAGE_ARN = /^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):(\d{12}):model-package\//;

/**
 * The regions of the local cloud, per account, each made on first use. S3's one bucket namespace
 * spans them.
 */
export class Regions {
  private readonly byPlace = new Map<string, RegionalServices>();
  readonly s3: S3;

  constructor(
    private readonly core: Core,
    private readonly options: RegionOptions,
  ) {
    this.s3 = new S3(core);
    this.get(core.defaultRegion);
  }

  get(region: string, account = ACCOUNT_ID): RegionalServices {
    const key = `${account}/${region}`;
    const existing = this.byPlace.get(key);
    if (existing) return existing;
    if (!REGION_NAME.test(region)) throw new Error(`not an AWS region name: ${JSON.stringify(region)}`);
    const place = { account, region };
    const created = createRegion(this.core, place, this.options, (own) => this.packagesFrom(own, place));
    this.byPlace.set(key, created);
    return created;
  }

  /**
   * The packages a region's CreateModel can name: its own registry's, or, by full ARN, another
   * account's in the same region (the cross-account deployment AWS allows once the owner's resource
   * policy shares the group; that policy is not modelled here).
   */
  private packagesFrom(own: ModelRegistry, place: Place): PackageSource {
    const registryOf = (nameOrArn: string): ModelRegistry => {
      const [, region, account] = PACKAGE_ARN.exec(nameOrArn) ?? [];
      if (!region || !account || account === place.account || region !== place.region) return own;
      return this.get(region, account).registry;
    };
    return {
      find: (nameOrArn) => registryOf(nameOrArn).find(nameOrArn),
      require: (nameOrArn) => registryOf(nameOrArn).require(nameOrArn),
    };
  }

  /** The regions made so far, the default one first. */
  all(): RegionalServices[] {
    return [...this.byPlace.values()];
  }
}
