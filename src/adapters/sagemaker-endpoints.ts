import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  type CreateModelCommandInput,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  type DeploymentConfig,
  type DescribeEndpointCommandOutput,
  type ProductionVariant,
  type SageMakerClient,
  type Tag,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { CrossAccountConfig } from '../config/schema';
import type { EndpointObservation } from '../domain/model';
import { PermanentError } from '../errors';
import type {
  DeployOutcome,
  DeploySpec,
  EndpointsFactory,
  InstanceSpec,
  InvokeRequest,
  InvokeResult,
  NativeDeploySpec,
  StageEndpoints,
  StageTarget,
} from '../ports/sagemaker';
import {
  errorMessage,
  isAlreadyExists,
  isEndpointInProgress,
  isNotFound,
  toRolloutsError,
} from './aws-errors';
import { sageMakerClientFor, sageMakerRuntimeClientFor } from './clients';
import { describeEndpointRaw, SageMakerEndpointObserver } from './sagemaker-endpoint-observer';

const WEIGHT_TOLERANCE = 1e-9;

export interface StageClients {
  sagemaker: SageMakerClient;
  runtime: SageMakerRuntimeClient;
}

const defaultClients = (crossAccount?: CrossAccountConfig, region?: string): StageClients => ({
  sagemaker: sageMakerClientFor(crossAccount, region),
  runtime: sageMakerRuntimeClientFor(crossAccount, region),
});

/**
 * Endpoints per stage, in the stage's region: default credentials, or the stage's assumed role
 * (clients cached per region and role).
 */
export class SageMakerEndpointsFactory implements EndpointsFactory {
  constructor(
    private readonly clientsFor: (
      crossAccount?: CrossAccountConfig,
      region?: string,
    ) => StageClients = defaultClients,
  ) {}

  forStage(target: StageTarget): SageMakerStageEndpoints {
    const { sagemaker, runtime } = this.clientsFor(target.crossAccount, target.region);
    return new SageMakerStageEndpoints(sagemaker, runtime);
  }
}

/** A model's containers: its package, or (outside the registry's region) the package's images and data there. */
const modelContainers = (
  packageArn: string,
  byPackage: DeploySpec['containers'],
): Pick<CreateModelCommandInput, 'PrimaryContainer' | 'Containers'> => {
  if (!byPackage) return { PrimaryContainer: { ModelPackageName: packageArn } };
  const regional = byPackage[packageArn];
  if (!regional || regional.length === 0)
    throw new PermanentError(`no containers of ${packageArn} in the stage's region to create its model from`);
  const containers = regional.map((c) => ({
    Image: c.image,
    ...(c.modelDataUrl !== undefined ? { ModelDataUrl: c.modelDataUrl } : {}),
  }));
  return containers.length === 1 ? { PrimaryContainer: containers[0] } : { Containers: containers };
};

const toTags = (tags: Record<string, string>): { Tags?: Tag[] } => {
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return list.length > 0 ? { Tags: list } : {};
};

const capacity = (instance: InstanceSpec, configName: string): Partial<ProductionVariant> => {
  if (instance.serverless) {
    const { memorySizeInMB, maxConcurrency, provisionedConcurrency } = instance.serverless;
    return {
      ServerlessConfig: {
        MemorySizeInMB: memorySizeInMB,
        MaxConcurrency: maxConcurrency,
        ...(provisionedConcurrency !== undefined ? { ProvisionedConcurrency: provisionedConcurrency } : {}),
      },
    };
  }
  if (!instance.instanceType) {
    throw new PermanentError(
      `endpoint config ${configName}: neither an instance type nor a serverless config`,
    );
  }
  return {
    InstanceType: instance.instanceType as ProductionVariant['InstanceType'],
    InitialInstanceCount: instance.instanceCount ?? 1,
  };
};

const deploymentConfig = (native: NativeDeploySpec, endpointName: string): DeploymentConfig => {
  const size = native.type === 'ALL_AT_ONCE' ? undefined : native.sizePercent;
  if (native.type !== 'ALL_AT_ONCE' && size === undefined) {
    throw new PermanentError(`endpoint ${endpointName}: ${native.type} traffic routing needs a size percent`);
  }
  const step = size !== undefined ? { Type: 'CAPACITY_PERCENT' as const, Value: size } : undefined;
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: {
        Type: native.type,
        WaitIntervalInSeconds: native.waitIntervalSeconds,
        ...(native.type === 'CANARY' ? { CanarySize: step } : {}),
        ...(native.type === 'LINEAR' ? { LinearStepSize: step } : {}),
      },
      TerminationWaitInSeconds: native.terminationWaitSeconds,
      ...(native.maximumExecutionTimeoutSeconds !== undefined
        ? { MaximumExecutionTimeoutInSeconds: native.maximumExecutionTimeoutSeconds }
        : {}),
    },
    ...(native.alarms.length > 0
      ? { AutoRollbackConfiguration: { Alarms: native.alarms.map((AlarmName) => ({ AlarmName })) } }
      : {}),
  };
};

/**
 * One stage's endpoints through the SageMaker and SageMaker Runtime APIs: what the observer reads,
 * and the writes only the executor function sends (its bundle alone carries this module).
 */
export class SageMakerStageEndpoints implements StageEndpoints {
  private readonly observer: SageMakerEndpointObserver;

  constructor(
    readonly sagemaker: SageMakerClient,
    readonly runtime: SageMakerRuntimeClient,
  ) {
    this.observer = new SageMakerEndpointObserver(sagemaker, runtime);
  }

  async describe(endpointName: string): Promise<EndpointObservation | null> {
    return this.observer.describe(endpointName);
  }

  async deploy(spec: DeploySpec): Promise<DeployOutcome> {
    const tags = toTags(spec.tags);
    const models = new Map(spec.variants.map((variant) => [variant.modelName, variant.packageArn]));
    for (const [modelName, packageArn] of models) {
      await this.createIfMissing('SageMaker CreateModel', modelName, () =>
        this.sagemaker.send(
          new CreateModelCommand({
            ModelName: modelName,
            ...modelContainers(packageArn, spec.containers),
            ExecutionRoleArn: spec.executionRoleArn,
            ...tags,
          }),
        ),
      );
    }
    const capacityFields = capacity(spec.instance, spec.configName);
    await this.createIfMissing('SageMaker CreateEndpointConfig', spec.configName, () =>
      this.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: spec.configName,
          ProductionVariants: spec.variants
            .filter((variant) => !variant.shadow)
            .map((variant) => ({
              VariantName: variant.variantName,
              ModelName: variant.modelName,
              InitialVariantWeight: variant.weight,
              ...capacityFields,
            })),
          // a shadow variant's weight, relative to the production variant's, is its sampling share
          ...(spec.variants.some((variant) => variant.shadow)
            ? {
                ShadowProductionVariants: spec.variants
                  .filter((variant) => variant.shadow)
                  .map((variant) => ({
                    VariantName: variant.variantName,
                    ModelName: variant.modelName,
                    InitialVariantWeight: variant.weight,
                    ...capacityFields,
                  })),
              }
            : {}),
          ...tags,
        }),
      ),
    );

    const current = await this.describeRaw(spec.endpointName);
    if (!current) {
      try {
        await this.sagemaker.send(
          new CreateEndpointCommand({
            EndpointName: spec.endpointName,
            EndpointConfigName: spec.configName,
            ...tags,
          }),
        );
        return 'started';
      } catch (error) {
        // Created concurrently by another invocation: it is Creating now, look again later.
        if (isAlreadyExists(error)) return 'busy';
        // the config just created is read eventually consistently: try again later (API_CreateEndpoint.html)
        if (isNotFound(error) && /endpoint configuration/i.test(errorMessage(error))) return 'busy';
        throw toRolloutsError(error, { operation: 'SageMaker CreateEndpoint', resource: spec.endpointName });
      }
    }
    if (
      current.EndpointConfigName === spec.configName ||
      current.PendingDeploymentSummary?.EndpointConfigName === spec.configName
    ) {
      return 'already';
    }
    if (current.EndpointStatus !== 'InService') return 'busy';
    try {
      await this.sagemaker.send(
        new UpdateEndpointCommand({
          EndpointName: spec.endpointName,
          EndpointConfigName: spec.configName,
          RetainAllVariantProperties: false,
          ...(spec.native ? { DeploymentConfig: deploymentConfig(spec.native, spec.endpointName) } : {}),
        }),
      );
      return 'started';
    } catch (error) {
      if (isEndpointInProgress(error)) return 'busy';
      throw toRolloutsError(error, { operation: 'SageMaker UpdateEndpoint', resource: spec.endpointName });
    }
  }

  async setWeights(
    endpointName: string,
    weights: Record<string, number>,
    observed?: EndpointObservation | null,
  ): Promise<'sent' | 'already' | 'busy'> {
    const entries = Object.entries(weights);
    if (entries.length === 0 || entries.every(([, weight]) => weight <= 0)) {
      throw new PermanentError(
        `endpoint ${endpointName}: refusing weights that sum to zero (${JSON.stringify(weights)})`,
      );
    }
    const current = observed !== undefined ? observed : await this.describe(endpointName);
    if (!current) {
      throw new PermanentError(
        `SageMaker UpdateEndpointWeightsAndCapacities ${endpointName}: Could not find endpoint`,
      );
    }
    if (current.status !== 'InService') return 'busy';
    const desired = new Map(current.variants.map((variant) => [variant.variantName, variant.desiredWeight]));
    const unknown = entries.filter(([name]) => !desired.has(name)).map(([name]) => name);
    if (unknown.length > 0) {
      throw new PermanentError(
        `endpoint ${endpointName} on ${current.configName} has no variant ${unknown.join(', ')} (has ${[...desired.keys()].join(', ')})`,
      );
    }
    if (
      entries.every(
        ([name, weight]) => Math.abs((desired.get(name) ?? Number.NaN) - weight) <= WEIGHT_TOLERANCE,
      )
    ) {
      return 'already';
    }
    try {
      await this.sagemaker.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: endpointName,
          DesiredWeightsAndCapacities: entries.map(([VariantName, DesiredWeight]) => ({
            VariantName,
            DesiredWeight,
          })),
        }),
      );
      return 'sent';
    } catch (error) {
      if (isEndpointInProgress(error)) return 'busy';
      throw toRolloutsError(error, {
        operation: 'SageMaker UpdateEndpointWeightsAndCapacities',
        resource: endpointName,
      });
    }
  }

  invoke(endpointName: string, request: InvokeRequest): Promise<InvokeResult> {
    return this.observer.invoke(endpointName, request);
  }

  /** Not-found is success; an endpoint that is Creating/Updating raises EndpointBusyError. */
  async delete(endpointName: string): Promise<void> {
    await this.deleteIfPresent('SageMaker DeleteEndpoint', endpointName, () =>
      this.sagemaker.send(new DeleteEndpointCommand({ EndpointName: endpointName })),
    );
  }

  async retire(modelNames: string[], configNames: string[]): Promise<void> {
    for (const configName of configNames) {
      await this.deleteIfPresent('SageMaker DeleteEndpointConfig', configName, () =>
        this.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: configName })),
      );
    }
    for (const modelName of modelNames) {
      await this.deleteIfPresent('SageMaker DeleteModel', modelName, () =>
        this.sagemaker.send(new DeleteModelCommand({ ModelName: modelName })),
      );
    }
  }

  private describeRaw(endpointName: string): Promise<DescribeEndpointCommandOutput | null> {
    return describeEndpointRaw(this.sagemaker, endpointName);
  }

  /** Runs `send`; the error `done` recognises means the outcome is already there (idempotent). */
  private async idempotent(
    done: (error: unknown) => boolean,
    operation: string,
    resource: string,
    send: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (done(error)) return;
      throw toRolloutsError(error, { operation, resource });
    }
  }

  private createIfMissing(operation: string, resource: string, send: () => Promise<unknown>): Promise<void> {
    return this.idempotent(isAlreadyExists, operation, resource, send);
  }

  private deleteIfPresent(operation: string, resource: string, send: () => Promise<unknown>): Promise<void> {
    return this.idempotent(isNotFound, operation, resource, send);
  }
}
