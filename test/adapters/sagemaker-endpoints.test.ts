import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SageMakerEndpointsFactory, SageMakerStageEndpoints } from '../../src/adapters/sagemaker-endpoints';
import { EndpointBusyError, PermanentError, TransientError } from '../../src/errors';
import type { DeploySpec } from '../../src/ports/sagemaker';
import {
  alreadyExisting,
  awsError,
  couldNotFindEndpoint,
  ENDPOINT_ARN,
  inProgress,
  throttled,
} from './aws-fakes';

const sm = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
let endpoints: SageMakerStageEndpoints;

beforeEach(() => {
  sm.reset();
  runtime.reset();
  endpoints = new SageMakerStageEndpoints(
    new SageMakerClient({ region: 'us-east-1' }),
    new SageMakerRuntimeClient({ region: 'us-east-1' }),
  );
});

// the worker's process runs other files after this one: their clients must reach the real SDK
afterAll(() => {
  sm.restore();
  runtime.restore();
});

const meta = { $metadata: {} };
const described = (
  overrides: Partial<DescribeEndpointCommandOutput> = {},
): DescribeEndpointCommandOutput => ({
  ...meta,
  EndpointName: 'churn-prod',
  EndpointArn: ENDPOINT_ARN,
  EndpointConfigName: 'churn-prod-v2-aaaaaa',
  EndpointStatus: 'InService',
  CreationTime: new Date(1_700_000_000_000),
  LastModifiedTime: new Date(1_700_000_100_000),
  ProductionVariants: [{ VariantName: 'v2', CurrentWeight: 100, DesiredWeight: 100 }],
  ...overrides,
});

const PKG3 = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3';
const PKG2 = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/2';
const spec: DeploySpec = {
  endpointName: 'churn-prod',
  configName: 'churn-prod-v2-v3-bbbbbb',
  variants: [
    { variantName: 'v2', modelName: 'churn-v2', packageArn: PKG2, version: 2, weight: 90 },
    { variantName: 'v3', modelName: 'churn-v3', packageArn: PKG3, version: 3, weight: 10 },
  ],
  instance: { instanceType: 'ml.m5.large', instanceCount: 2 },
  executionRoleArn: 'arn:aws:iam::111122223333:role/exec',
  tags: { 'sagemaker-rollouts:group': 'churn' },
};
const tags = [{ Key: 'sagemaker-rollouts:group', Value: 'churn' }];

describe('describe', () => {
  it('normalises DescribeEndpoint', async () => {
    sm.on(DescribeEndpointCommand, { EndpointName: 'churn-prod' }).resolves(
      described({
        EndpointStatus: 'Updating',
        ProductionVariants: [
          { VariantName: 'v2', CurrentWeight: 100, DesiredWeight: 90 },
          { VariantName: 'v3', CurrentWeight: 0, DesiredWeight: 10 },
        ],
      }),
    );
    expect(await endpoints.describe('churn-prod')).toEqual({
      endpointName: 'churn-prod',
      // names the account and region too: an endpoint event is matched against it
      endpointArn: 'arn:aws:sagemaker:us-east-1:111122223333:endpoint/churn-prod',
      status: 'Updating',
      configName: 'churn-prod-v2-aaaaaa',
      variants: [
        { variantName: 'v2', currentWeight: 100, desiredWeight: 90 },
        { variantName: 'v3', currentWeight: 0, desiredWeight: 10 },
      ],
      lastModifiedTime: 1_700_000_100_000,
    });
  });

  it('returns null when SageMaker says "Could not find endpoint" (a ValidationException)', async () => {
    sm.on(DescribeEndpointCommand).rejects(couldNotFindEndpoint('churn-qa'));
    expect(await endpoints.describe('churn-qa')).toBeNull();
  });

  it('maps throttling to TransientError', async () => {
    sm.on(DescribeEndpointCommand).rejects(throttled());
    await expect(endpoints.describe('churn-prod')).rejects.toBeInstanceOf(TransientError);
  });
});

describe('deploy', () => {
  it('creates models, config and the endpoint when it does not exist', async () => {
    sm.on(DescribeEndpointCommand).rejects(couldNotFindEndpoint('churn-prod'));
    expect(await endpoints.deploy(spec)).toBe('started');

    expect(sm.commandCalls(CreateModelCommand).map((c) => c.args[0].input)).toEqual([
      {
        ModelName: 'churn-v2',
        PrimaryContainer: { ModelPackageName: PKG2 },
        ExecutionRoleArn: 'arn:aws:iam::111122223333:role/exec',
        Tags: tags,
      },
      {
        ModelName: 'churn-v3',
        PrimaryContainer: { ModelPackageName: PKG3 },
        ExecutionRoleArn: 'arn:aws:iam::111122223333:role/exec',
        Tags: tags,
      },
    ]);
    expect(sm.commandCalls(CreateEndpointConfigCommand)[0]?.args[0].input).toEqual({
      EndpointConfigName: 'churn-prod-v2-v3-bbbbbb',
      ProductionVariants: [
        {
          VariantName: 'v2',
          ModelName: 'churn-v2',
          InitialVariantWeight: 90,
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 2,
        },
        {
          VariantName: 'v3',
          ModelName: 'churn-v3',
          InitialVariantWeight: 10,
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 2,
        },
      ],
      Tags: tags,
    });
    expect(sm).toHaveReceivedCommandExactlyOnceWith(CreateEndpointCommand, {
      EndpointName: 'churn-prod',
      EndpointConfigName: 'churn-prod-v2-v3-bbbbbb',
      Tags: tags,
    });
    expect(sm).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  it('outside the registry’s region, creates each model from its containers there, not from its package', async () => {
    sm.on(DescribeEndpointCommand).rejects(couldNotFindEndpoint('churn-prod'));
    const euImage = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn';
    const containers = {
      [PKG2]: [{ image: `${euImage}:2`, modelDataUrl: 's3://models-euw1/churn/2/model.tar.gz' }],
      // an inference pipeline: two containers, the second without model data
      [PKG3]: [{ image: `${euImage}:3` }, { image: `${euImage}-post:3` }],
    };
    expect(await endpoints.deploy({ ...spec, containers })).toBe('started');
    expect(sm.commandCalls(CreateModelCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        ModelName: 'churn-v2',
        PrimaryContainer: { Image: `${euImage}:2`, ModelDataUrl: 's3://models-euw1/churn/2/model.tar.gz' },
      }),
      expect.objectContaining({
        ModelName: 'churn-v3',
        Containers: [{ Image: `${euImage}:3` }, { Image: `${euImage}-post:3` }],
      }),
    ]);
    // a package the spec gives no containers for is refused before anything is created
    sm.reset();
    sm.on(DescribeEndpointCommand).rejects(couldNotFindEndpoint('churn-prod'));
    await expect(endpoints.deploy({ ...spec, containers: { [PKG3]: containers[PKG3] } })).rejects.toThrow(
      `no containers of ${PKG2} in the stage's region to create its model from`,
    );
    expect(sm).not.toHaveReceivedCommand(CreateModelCommand);
  });

  it('treats "Cannot create already existing" models and configs as success (rerun after a crash)', async () => {
    sm.on(CreateModelCommand).rejects(alreadyExisting('model', 'churn-v2'));
    sm.on(CreateEndpointConfigCommand).rejects(alreadyExisting('endpoint configuration', spec.configName));
    sm.on(DescribeEndpointCommand).resolves(described());
    sm.on(UpdateEndpointCommand).resolves({ ...meta, EndpointArn: ENDPOINT_ARN });
    expect(await endpoints.deploy(spec)).toBe('started');
    expect(sm.commandCalls(UpdateEndpointCommand)[0]?.args[0].input).toEqual({
      EndpointName: 'churn-prod',
      EndpointConfigName: 'churn-prod-v2-v3-bbbbbb',
      RetainAllVariantProperties: false,
    });
  });

  it('uses ServerlessConfig instead of instances for serverless endpoints', async () => {
    sm.on(DescribeEndpointCommand).rejects(couldNotFindEndpoint('churn-qa'));
    await endpoints.deploy({
      ...spec,
      tags: {},
      variants: [spec.variants[1]!],
      instance: { serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } },
    });
    expect(sm.commandCalls(CreateEndpointConfigCommand)[0]?.args[0].input).toEqual({
      EndpointConfigName: spec.configName,
      ProductionVariants: [
        {
          VariantName: 'v3',
          ModelName: 'churn-v3',
          InitialVariantWeight: 10,
          ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 },
        },
      ],
    });
  });

  it('sends nothing to an endpoint already on (or moving to) the config', async () => {
    sm.on(DescribeEndpointCommand).resolves(
      described({ EndpointConfigName: spec.configName, EndpointStatus: 'Updating' }),
    );
    expect(await endpoints.deploy(spec)).toBe('already');
    sm.on(DescribeEndpointCommand).resolves(
      described({
        EndpointStatus: 'Updating',
        PendingDeploymentSummary: { EndpointConfigName: spec.configName },
      }),
    );
    expect(await endpoints.deploy(spec)).toBe('already');
    expect(sm).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(sm).not.toHaveReceivedCommand(CreateEndpointCommand);
  });

  it('is busy, sending nothing, while the endpoint is not InService', async () => {
    sm.on(DescribeEndpointCommand).resolves(described({ EndpointStatus: 'Updating' }));
    expect(await endpoints.deploy(spec)).toBe('busy');
    expect(sm).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  it('is busy when UpdateEndpoint answers "Cannot update in-progress endpoint"', async () => {
    sm.on(DescribeEndpointCommand).resolves(described());
    sm.on(UpdateEndpointCommand).rejects(inProgress());
    expect(await endpoints.deploy(spec)).toBe('busy');
  });

  it('sends a blue/green DeploymentConfig for native shifting', async () => {
    sm.on(DescribeEndpointCommand).resolves(described());
    await endpoints.deploy({
      ...spec,
      native: {
        type: 'CANARY',
        waitIntervalSeconds: 300,
        sizePercent: 10,
        terminationWaitSeconds: 600,
        maximumExecutionTimeoutSeconds: 3600,
        alarms: ['churn-5xx', 'churn-latency'],
      },
    });
    expect(sm.commandCalls(UpdateEndpointCommand)[0]?.args[0].input).toEqual({
      EndpointName: 'churn-prod',
      EndpointConfigName: spec.configName,
      RetainAllVariantProperties: false,
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: {
            Type: 'CANARY',
            WaitIntervalInSeconds: 300,
            CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
          },
          TerminationWaitInSeconds: 600,
          MaximumExecutionTimeoutInSeconds: 3600,
        },
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'churn-5xx' }, { AlarmName: 'churn-latency' }] },
      },
    });
  });

  it('uses LinearStepSize for LINEAR shifting', async () => {
    sm.on(DescribeEndpointCommand).resolves(described());
    await endpoints.deploy({
      ...spec,
      native: {
        type: 'LINEAR',
        waitIntervalSeconds: 60,
        sizePercent: 20,
        terminationWaitSeconds: 0,
        alarms: ['a'],
      },
    });
    expect(
      sm.commandCalls(UpdateEndpointCommand)[0]?.args[0].input.DeploymentConfig?.BlueGreenUpdatePolicy,
    ).toEqual({
      TrafficRoutingConfiguration: {
        Type: 'LINEAR',
        WaitIntervalInSeconds: 60,
        LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 20 },
      },
      TerminationWaitInSeconds: 0,
    });
  });

  it('maps a throttled CreateModel to TransientError', async () => {
    sm.on(CreateModelCommand).rejects(throttled());
    await expect(endpoints.deploy(spec)).rejects.toBeInstanceOf(TransientError);
  });
});

describe('setWeights', () => {
  const twoVariants = (status: DescribeEndpointCommandOutput['EndpointStatus'], desired: [number, number]) =>
    described({
      EndpointStatus: status,
      ProductionVariants: [
        { VariantName: 'v2', CurrentWeight: desired[0], DesiredWeight: desired[0] },
        { VariantName: 'v3', CurrentWeight: desired[1], DesiredWeight: desired[1] },
      ],
    });

  it('sends UpdateEndpointWeightsAndCapacities to an InService endpoint', async () => {
    sm.on(DescribeEndpointCommand).resolves(twoVariants('InService', [90, 10]));
    expect(await endpoints.setWeights('churn-prod', { v2: 75, v3: 25 })).toBe('sent');
    expect(sm.commandCalls(UpdateEndpointWeightsAndCapacitiesCommand)[0]?.args[0].input).toEqual({
      EndpointName: 'churn-prod',
      DesiredWeightsAndCapacities: [
        { VariantName: 'v2', DesiredWeight: 75 },
        { VariantName: 'v3', DesiredWeight: 25 },
      ],
    });
  });

  it('is "already" when the weights are the desired ones, and "busy" when not InService', async () => {
    sm.on(DescribeEndpointCommand).resolves(twoVariants('InService', [75, 25]));
    expect(await endpoints.setWeights('churn-prod', { v2: 75, v3: 25 })).toBe('already');
    sm.on(DescribeEndpointCommand).resolves(twoVariants('Updating', [90, 10]));
    expect(await endpoints.setWeights('churn-prod', { v2: 75, v3: 25 })).toBe('busy');
    expect(sm).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });

  it('is "busy" when SageMaker answers "Cannot update in-progress endpoint"', async () => {
    sm.on(DescribeEndpointCommand).resolves(twoVariants('InService', [90, 10]));
    sm.on(UpdateEndpointWeightsAndCapacitiesCommand).rejects(inProgress());
    expect(await endpoints.setWeights('churn-prod', { v2: 75, v3: 25 })).toBe('busy');
  });

  it('refuses weights summing to zero and unknown variants', async () => {
    sm.on(DescribeEndpointCommand).resolves(twoVariants('InService', [90, 10]));
    await expect(endpoints.setWeights('churn-prod', { v2: 0, v3: 0 })).rejects.toBeInstanceOf(PermanentError);
    await expect(endpoints.setWeights('churn-prod', { v9: 100 })).rejects.toBeInstanceOf(PermanentError);
    expect(sm).not.toHaveReceivedCommand(UpdateEndpointWeightsAndCapacitiesCommand);
  });
});

describe('invoke', () => {
  it('sends the request and returns the body', async () => {
    runtime.on(InvokeEndpointCommand).resolves({
      $metadata: { httpStatusCode: 200 },
      Body: new TextEncoder().encode('{"score":0.9}') as never,
      ContentType: 'application/json',
    });
    const result = await endpoints.invoke('churn-qa', {
      contentType: 'text/csv',
      accept: 'application/json',
      body: '1,2,3',
      targetVariant: 'v3',
    });
    expect(result).toEqual({ ok: true, statusCode: 200, body: '{"score":0.9}' });
    const input = runtime.commandCalls(InvokeEndpointCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      EndpointName: 'churn-qa',
      ContentType: 'text/csv',
      Accept: 'application/json',
      TargetVariant: 'v3',
    });
    expect(new TextDecoder().decode(input?.Body as Uint8Array)).toBe('1,2,3');
  });

  it('returns a model error instead of throwing', async () => {
    runtime.on(InvokeEndpointCommand).rejects(
      new ModelError({
        message: 'Received server error (500) from primary with message "boom"',
        $metadata: { httpStatusCode: 424 },
        OriginalStatusCode: 500,
        OriginalMessage: 'boom',
      }),
    );
    const result = await endpoints.invoke('churn-qa', { contentType: 'text/csv', body: 'x' });
    expect(result.ok).toBe(false);
    expect(result.statusCode).toBe(500);
    expect(result.body).toBe('boom');
    expect(result.errorCode).toBe('ModelError');
    expect(result.error).toContain('Received server error (500)');
  });

  it('returns 4xx validation errors, but throws transient ones', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .rejectsOnce(awsError('ValidationError', 'Endpoint churn-qa of account 111122223333 not found.'));
    const result = await endpoints.invoke('churn-qa', { contentType: 'text/csv', body: 'x' });
    expect(result).toMatchObject({ ok: false, statusCode: 400, errorCode: 'ValidationError' });
    expect(result.error).toContain('not found');

    runtime.on(InvokeEndpointCommand).rejects(awsError('ServiceUnavailable', 'try later', 503));
    await expect(endpoints.invoke('churn-qa', { contentType: 'text/csv', body: 'x' })).rejects.toBeInstanceOf(
      TransientError,
    );
  });
});

describe('retire and delete', () => {
  it('deletes configs and models, missing ones being success', async () => {
    sm.on(DeleteEndpointConfigCommand, { EndpointConfigName: 'gone-config' }).rejects(
      awsError('ValidationException', 'Could not find endpoint configuration "gone-config".'),
    );
    sm.on(DeleteModelCommand, { ModelName: 'gone-model' }).rejects(
      awsError('ValidationException', 'Could not find model "gone-model".'),
    );
    await endpoints.retire(['churn-v1', 'gone-model'], ['churn-prod-v1-cccccc', 'gone-config']);
    expect(
      sm.commandCalls(DeleteEndpointConfigCommand).map((c) => c.args[0].input.EndpointConfigName),
    ).toEqual(['churn-prod-v1-cccccc', 'gone-config']);
    expect(sm.commandCalls(DeleteModelCommand).map((c) => c.args[0].input.ModelName)).toEqual([
      'churn-v1',
      'gone-model',
    ]);
  });

  it('propagates other failures', async () => {
    sm.on(DeleteModelCommand).rejects(awsError('AccessDeniedException', 'denied'));
    await expect(endpoints.retire(['churn-v1'], [])).rejects.toBeInstanceOf(PermanentError);
  });

  it('deletes an endpoint; missing is fine, in-progress is EndpointBusyError', async () => {
    sm.on(DeleteEndpointCommand).rejectsOnce(couldNotFindEndpoint('churn-qa')).rejects(inProgress());
    await endpoints.delete('churn-qa');
    await expect(endpoints.delete('churn-qa')).rejects.toBeInstanceOf(EndpointBusyError);
  });
});

describe('SageMakerEndpointsFactory', () => {
  it('asks for clients with the stage cross-account settings', () => {
    const seen: unknown[] = [];
    const clients = { sagemaker: new SageMakerClient({}), runtime: new SageMakerRuntimeClient({}) };
    const factory = new SageMakerEndpointsFactory((crossAccount) => {
      seen.push(crossAccount);
      return clients;
    });
    const crossAccount = { roleArn: 'arn:aws:iam::444455556666:role/deployer', externalId: 'ext-1' };
    const stage = factory.forStage({ group: 'churn', stage: 'prod', crossAccount });
    factory.forStage({ group: 'churn', stage: 'qa' });
    expect(stage.sagemaker).toBe(clients.sagemaker);
    expect(seen).toEqual([crossAccount, undefined]);
  });
});
