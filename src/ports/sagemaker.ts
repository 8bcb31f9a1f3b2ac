import type { CrossAccountConfig, StageName } from '../config/schema';
import type { PackageArtifacts, RegionalContainer } from '../domain/artifacts';
import type { EndpointObservation, PackageInfo, VariantSpec } from '../domain/model';

/** The model registry, in the account that owns the model package groups. */
export interface ModelRegistry {
  describePackage(packageArn: string): Promise<PackageInfo>;
  /** The group's most recently created Approved version (ListModelPackages), if any. */
  newestApproved(group: string): Promise<{ version: number; arn: string } | undefined>;
  /** The image and model data of each of the version's containers (DescribeModelPackage). */
  packageArtifacts(packageArn: string): Promise<PackageArtifacts>;
  updatePackage(packageArn: string, update: PackageUpdate): Promise<void>;
}

/** The registry's one write (UpdateModelPackage): the executor's, never approving. */
export type RegistryWriter = Pick<ModelRegistry, 'updatePackage'>;

export interface PackageUpdate {
  lifecycle?: { stage: string; stageStatus: string; description?: string | undefined } | undefined;
  approvalStatus?: 'Approved' | 'Rejected' | undefined;
  approvalDescription?: string | undefined;
}

/** Where a stage's endpoint lives: this account or another (through an assumed role), this region or another. */
export interface StageTarget {
  group: string;
  stage: StageName;
  crossAccount?: CrossAccountConfig | undefined;
  /** Undefined: the service's own region. */
  region?: string | undefined;
}

export interface InstanceSpec {
  instanceType?: string | undefined;
  instanceCount?: number | undefined;
  serverless?:
    | { memorySizeInMB: number; maxConcurrency: number; provisionedConcurrency?: number | undefined }
    | undefined;
}

export interface DeploySpec {
  endpointName: string;
  configName: string;
  variants: VariantSpec[];
  instance: InstanceSpec;
  executionRoleArn: string;
  tags: Record<string, string>;
  /** SageMaker-managed blue/green shifting for the update. */
  native?: NativeDeploySpec | undefined;
  /**
   * For a stage outside the registry's region, by package ARN: the containers its models run
   * there (images and model data as that region finds them), named by CreateModel instead of the
   * package, which SageMaker reads in its own region only. Absent: models name their package.
   */
  containers?: Record<string, RegionalContainer[]> | undefined;
}

export interface NativeDeploySpec {
  type: 'ALL_AT_ONCE' | 'CANARY' | 'LINEAR';
  waitIntervalSeconds: number;
  sizePercent?: number | undefined;
  terminationWaitSeconds: number;
  maximumExecutionTimeoutSeconds?: number | undefined;
  alarms: string[];
}

export type DeployOutcome =
  /** CreateEndpoint or UpdateEndpoint sent */
  | 'started'
  /** already on that config (or moving to it): nothing sent */
  | 'already'
  /** endpoint busy (not InService): nothing sent, try again later */
  | 'busy';

export interface InvokeRequest {
  contentType: string;
  accept?: string | undefined;
  body: string;
  targetVariant?: string | undefined;
}

export interface InvokeResult {
  ok: boolean;
  statusCode: number;
  body: string;
  /** The service's error code (e.g. ModelError) when the invocation failed. */
  errorCode?: string | undefined;
  /** The service's message; a ModelError's quotes the model's answer, so it is customer data. */
  error?: string | undefined;
}

/** What the deciding functions may do with one stage's endpoints: look at them, send requests. */
export interface EndpointObserver {
  describe(endpointName: string): Promise<EndpointObservation | null>;
  invoke(endpointName: string, request: InvokeRequest): Promise<InvokeResult>;
}

export interface EndpointObserverFactory {
  forStage(target: StageTarget): EndpointObserver;
}

/** Endpoints of one stage (possibly in another account); the writes are the executor's alone. */
export interface StageEndpoints extends EndpointObserver {
  /** Ensures the models and config exist, then creates the endpoint or updates it to the config. */
  deploy(spec: DeploySpec): Promise<DeployOutcome>;
  /**
   * Sends the weights only if the endpoint is InService; 'busy' otherwise. `observed`: a
   * DescribeEndpoint the caller has just made, used instead of describing the endpoint again.
   */
  setWeights(
    endpointName: string,
    weights: Record<string, number>,
    observed?: EndpointObservation | null,
  ): Promise<'sent' | 'already' | 'busy'>;
  /** Deletes the endpoint (the only action SageMaker allows on a Failed one); missing is fine. */
  delete(endpointName: string): Promise<void>;
  /** Deletes models and endpoint configs; missing ones are fine. */
  retire(modelNames: string[], configNames: string[]): Promise<void>;
}

export interface EndpointsFactory {
  forStage(target: StageTarget): StageEndpoints;
}
