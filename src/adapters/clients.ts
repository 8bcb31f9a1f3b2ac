import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { CrossAccountConfig } from '../config/schema';
import {
  type AssumedCredentials,
  type AssumeRole,
  assumeRoleRequest,
  signedAssumeRole,
} from './sts-assume-role';

/*
 * No client is ever given an explicit `endpoint`: the SDK then honours AWS_ENDPOINT_URL and
 * AWS_ENDPOINT_URL_<SERVICE>, which is how the same code runs against the local cloud.
 */

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_SESSION_NAME = 'sagemaker-rollouts';
/** Assumed-role credentials are renewed this long before they expire. */
export const CREDENTIALS_REFRESH_MARGIN_MS = 5 * 60 * 1000;

export const awsRegion = (): string =>
  process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || DEFAULT_REGION;

export type AwsCredentials = AssumedCredentials;

export type CredentialsProvider = () => Promise<AwsCredentials>;

const MAX_ATTEMPTS = 3;

interface BaseClientConfig {
  region: string;
  maxAttempts: number;
  credentials?: CredentialsProvider | undefined;
  retryStrategy?: ConfiguredRetryStrategy;
}

let retriesWait = true;

/**
 * With `false`, the SDK retries a throttled or failed call at once instead of after its backoff
 * (up to seconds of real time). For the local stack only: its clock is virtual and stands still
 * while a handler runs, so the wait changed nothing but how long a test takes. The attempts and
 * the retry quota stay the SDK's own. Takes effect for the clients made after it.
 */
export const setSdkRetriesWait = (wait: boolean): void => {
  retriesWait = wait;
  resetClients();
};

const baseConfig = (credentials?: CredentialsProvider): BaseClientConfig => ({
  region: awsRegion(),
  maxAttempts: MAX_ATTEMPTS,
  ...(credentials ? { credentials } : {}),
  ...(retriesWait ? {} : { retryStrategy: new ConfiguredRetryStrategy(MAX_ATTEMPTS, 0) }),
});

const resetters: (() => void)[] = [];

const lazy = <T>(create: () => T): (() => T) => {
  let value: T | undefined;
  resetters.push(() => {
    value = undefined;
  });
  return () => {
    value ??= create();
    return value;
  };
};

/**
 * Forgets every cached client, so the next ones read AWS_ENDPOINT_URL and AWS_REGION again
 * (the local cloud starts on a new port for each run).
 */
export const resetClients = (): void => {
  for (const reset of resetters) reset();
};

// `__PURE__`: a bundle that never calls a getter leaves it, and its SDK client, out (only the
// tick reads CloudWatch). Its resetter is then never needed either.
export const sageMakerClient = /* @__PURE__ */ lazy(() => new SageMakerClient(baseConfig()));
export const sageMakerRuntimeClient = /* @__PURE__ */ lazy(() => new SageMakerRuntimeClient(baseConfig()));
export const cloudWatchClient = /* @__PURE__ */ lazy(() => new CloudWatchClient(baseConfig()));
export const eventBridgeClient = /* @__PURE__ */ lazy(() => new EventBridgeClient(baseConfig()));
/** AssumeRole with the function's own credentials, against the regional STS endpoint. */
export const assumeRole = /* @__PURE__ */ lazy(() => signedAssumeRole({ region: awsRegion() }));
export const dynamoDbClient = /* @__PURE__ */ lazy(() => new DynamoDBClient(baseConfig()));
export const sqsClient = /* @__PURE__ */ lazy(() => new SQSClient(baseConfig()));
/** One client per region, each made on first use (a stage's artifacts are looked up in its own region). */
const perRegion = <T>(create: (region: string) => T): ((region: string) => T) => {
  const clients = new Map<string, T>();
  resetters.push(() => clients.clear());
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = create(region);
      clients.set(region, client);
    }
    return client;
  };
};

export const s3ClientIn = /* @__PURE__ */ perRegion((region) => new S3Client({ ...baseConfig(), region }));
export const ecrClientIn = /* @__PURE__ */ perRegion((region) => new ECRClient({ ...baseConfig(), region }));
export const applicationAutoScalingClient = /* @__PURE__ */ lazy(
  () => new ApplicationAutoScalingClient(baseConfig()),
);

export const documentClient = (client: DynamoDBClient = dynamoDbClient()): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

const roleKey = (config: CrossAccountConfig): string =>
  JSON.stringify([config.roleArn, config.externalId ?? '']);

/**
 * STS AssumeRole credentials for cross-account stages, one cache entry per role and external ID,
 * renewed 5 minutes before they expire. Concurrent callers share one AssumeRole call.
 *
 * `@aws-sdk/credential-providers` is present in node_modules only as a dependency of the
 * packaging tool, not of this project, and carries the STS client: AssumeRole is sent here as a
 * signed request (sts-assume-role.ts).
 */
export class AssumedRoleCredentials {
  private readonly entries = new Map<
    string,
    { credentials?: AwsCredentials; pending?: Promise<AwsCredentials> }
  >();

  constructor(
    private readonly sts: () => AssumeRole = assumeRole,
    private readonly now: () => number = Date.now,
  ) {}

  provider(config: CrossAccountConfig): CredentialsProvider {
    return () => this.get(config);
  }

  async get(config: CrossAccountConfig): Promise<AwsCredentials> {
    const key = roleKey(config);
    const entry = this.entries.get(key) ?? {};
    this.entries.set(key, entry);
    const cached = entry.credentials;
    if (
      cached &&
      (!cached.expiration || cached.expiration.getTime() - CREDENTIALS_REFRESH_MARGIN_MS > this.now())
    ) {
      return cached;
    }
    if (!entry.pending) {
      entry.pending = this.assume(config).then(
        (credentials) => {
          entry.credentials = credentials;
          entry.pending = undefined;
          return credentials;
        },
        (error: unknown) => {
          entry.pending = undefined;
          throw error;
        },
      );
    }
    return entry.pending;
  }

  private assume(config: CrossAccountConfig): Promise<AwsCredentials> {
    return this.sts()(assumeRoleRequest(config, DEFAULT_SESSION_NAME));
  }
}

let credentialsClock: () => number = Date.now;

/** The local cloud runs on virtual time, so its STS expirations must be judged on that clock. */
export const setCredentialsClock = (now: () => number = Date.now): void => {
  credentialsClock = now;
};

export const assumedRoleCredentials = /* @__PURE__ */ lazy(
  () => new AssumedRoleCredentials(assumeRole, () => credentialsClock()),
);

/** Where a stage's clients call: its region and, for another account, the role assumed there. */
const placeKey = (region: string, crossAccount: CrossAccountConfig | undefined): string =>
  JSON.stringify([
    region,
    crossAccount?.roleArn ?? '',
    crossAccount?.externalId ?? '',
    crossAccount?.sessionName ?? '',
  ]);

/**
 * One client per (region, role), each made on first use and kept for the life of the container:
 * a stage's endpoints, metrics and scaling live in its own region, in the account of its role.
 */
const perPlace = <T>(create: (region: string, credentials?: CredentialsProvider) => T) => {
  const clients = new Map<string, T>();
  resetters.push(() => clients.clear());
  return (region: string, crossAccount?: CrossAccountConfig): T => {
    const key = placeKey(region, crossAccount);
    let client = clients.get(key);
    if (!client) {
      client = create(region, crossAccount ? assumedRoleCredentials().provider(crossAccount) : undefined);
      clients.set(key, client);
    }
    return client;
  };
};

/** The service's own client where the stage is the service's own place; else the place's. */
const placed =
  <T>(own: () => T, elsewhere: (region: string, crossAccount?: CrossAccountConfig) => T) =>
  (crossAccount?: CrossAccountConfig, region?: string): T => {
    const at = region ?? awsRegion();
    return !crossAccount && at === awsRegion() ? own() : elsewhere(at, crossAccount);
  };

const sageMakerAt = /* @__PURE__ */ perPlace(
  (region, credentials) => new SageMakerClient({ ...baseConfig(credentials), region }),
);
const sageMakerRuntimeAt = /* @__PURE__ */ perPlace(
  (region, credentials) => new SageMakerRuntimeClient({ ...baseConfig(credentials), region }),
);
const cloudWatchAt = /* @__PURE__ */ perPlace(
  (region, credentials) => new CloudWatchClient({ ...baseConfig(credentials), region }),
);
const autoScalingAt = /* @__PURE__ */ perPlace(
  (region, credentials) => new ApplicationAutoScalingClient({ ...baseConfig(credentials), region }),
);
const s3At = /* @__PURE__ */ perPlace(
  (region, credentials) => new S3Client({ ...baseConfig(credentials), region }),
);
const ecrAt = /* @__PURE__ */ perPlace(
  (region, credentials) => new ECRClient({ ...baseConfig(credentials), region }),
);

/**
 * SageMaker client for a stage: in its region (default: the service's), with default credentials
 * or the stage's assumed role. The model registry is never read through it: it stays in the
 * service's own region (sageMakerClient).
 */
export const sageMakerClientFor = /* @__PURE__ */ placed(() => sageMakerClient(), sageMakerAt);

export const sageMakerRuntimeClientFor = /* @__PURE__ */ placed(
  () => sageMakerRuntimeClient(),
  sageMakerRuntimeAt,
);

/** Application Auto Scaling client for a stage: its region, default credentials or its assumed role. */
export const applicationAutoScalingClientFor = /* @__PURE__ */ placed(
  () => applicationAutoScalingClient(),
  autoScalingAt,
);

/** S3 in a region for a stage: default credentials, or the stage's assumed (deployer) role. */
export const s3ClientFor = (region: string, crossAccount?: CrossAccountConfig): S3Client =>
  crossAccount ? s3At(region, crossAccount) : s3ClientIn(region);

/** ECR in a region for a stage: default credentials, or the stage's assumed (deployer) role. */
export const ecrClientFor = (region: string, crossAccount?: CrossAccountConfig): ECRClient =>
  crossAccount ? ecrAt(region, crossAccount) : ecrClientIn(region);

/** CloudWatch for a stage: its metrics and alarms live in the account and region of its endpoint. */
export const cloudWatchClientFor = /* @__PURE__ */ placed(() => cloudWatchClient(), cloudWatchAt);
