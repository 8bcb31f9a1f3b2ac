import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  SendPipelineExecutionStepFailureCommand,
  SendPipelineExecutionStepSuccessCommand,
  StartPipelineExecutionCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAll, type Env, modelFromPackage, setup, T0 } from './helpers';

describe('the local cloud records what it applies, in order, with its virtual time', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
  });
  afterEach(async () => closeAll(env));

  it('configs, endpoint changes requested and applied, and approval changes', async () => {
    const { sm, cloud } = env;
    await modelFromPackage(env, 'g', 'model-a');
    await modelFromPackage(env, 'g', 'model-b');
    const [a, b] = cloud.changes.filter((c) => c.kind === 'approval').map((c) => c.packageArn);
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg',
        ProductionVariants: ['a', 'b'].map((v) => ({
          VariantName: v,
          ModelName: `model-${v}`,
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 1,
          InitialVariantWeight: v === 'a' ? 9 : 1,
        })),
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg' }));
    cloud.advance(5 * 60_000);
    await sm.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: 'prod',
        DesiredWeightsAndCapacities: [{ VariantName: 'b', DesiredWeight: 9 }],
      }),
    );
    // refused (every weight 0): nothing is applied, nothing recorded
    await expect(
      sm.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'prod',
          DesiredWeightsAndCapacities: [
            { VariantName: 'a', DesiredWeight: 0 },
            { VariantName: 'b', DesiredWeight: 0 },
          ],
        }),
      ),
    ).rejects.toThrow();
    cloud.advance(30_000);
    await sm.send(
      new UpdateModelPackageCommand({ ModelPackageArn: b, CustomerMetadataProperties: { k: 'v' } }),
    );
    await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: b, ModelApprovalStatus: 'Rejected' }));

    const variants = (current: [number, number], desired = current) => [
      {
        name: 'a',
        modelName: 'model-a',
        packageArn: a,
        currentWeight: current[0],
        desiredWeight: desired[0],
      },
      {
        name: 'b',
        modelName: 'model-b',
        packageArn: b,
        currentWeight: current[1],
        desiredWeight: desired[1],
      },
    ];
    const min = (m: number) => T0 + m * 60_000;
    expect(cloud.changes.map(({ seq: _, ...c }) => c)).toEqual([
      { kind: 'approval', at: T0, packageArn: a, status: 'PendingManualApproval' },
      { kind: 'approval', at: T0, packageArn: b, status: 'PendingManualApproval' },
      { kind: 'config', at: T0, region: 'us-east-1', name: 'cfg', variants: variants([9, 1]) },
      {
        kind: 'endpoint',
        at: T0,
        region: 'us-east-1',
        endpoint: 'prod',
        status: 'Creating',
        configName: 'cfg',
        variants: variants([9, 1]),
        pending: { configName: 'cfg', variants: variants([9, 1]) },
        blueGreenShare: undefined,
      },
      {
        kind: 'endpoint',
        at: min(5),
        region: 'us-east-1',
        endpoint: 'prod',
        status: 'InService',
        configName: 'cfg',
        variants: variants([9, 1]),
        pending: undefined,
        blueGreenShare: undefined,
      },
      {
        kind: 'endpoint',
        at: min(5),
        region: 'us-east-1',
        endpoint: 'prod',
        status: 'Updating',
        configName: 'cfg',
        variants: variants([9, 1], [9, 9]),
        pending: undefined,
        blueGreenShare: undefined,
      },
      {
        kind: 'endpoint',
        at: min(5.5),
        region: 'us-east-1',
        endpoint: 'prod',
        status: 'InService',
        configName: 'cfg',
        variants: variants([9, 9]),
        pending: undefined,
        blueGreenShare: undefined,
      },
      // a metadata edit changes no approval: only the reject is recorded
      { kind: 'approval', at: min(5.5), packageArn: b, status: 'Rejected' },
    ]);
    expect(cloud.changes.map((c) => c.seq)).toEqual(cloud.changes.map((_, i) => i));
  });

  it('callback answers are recorded with their tokens as sent, refused ones and faulted ones included', async () => {
    const { sm, cloud } = env;
    const queueUrl = (await env.sqs.send(new CreateQueueCommand({ QueueName: 'callbacks' }))).QueueUrl!;
    cloud.pipelines.define({ name: 'Train', callbackQueueUrl: queueUrl, callbackArguments: {} });
    await sm.send(new StartPipelineExecutionCommand({ PipelineName: 'Train' }));
    const [token] = cloud.pipelines.tokens();
    const crt = 'c'.repeat(32);
    cloud.faults.add({
      operation: 'SendPipelineExecutionStepSuccess',
      error: 'ThrottlingException',
      times: 1,
    });
    const success = () =>
      sm.send(new SendPipelineExecutionStepSuccessCommand({ CallbackToken: token, ClientRequestToken: crt }));
    await expect(success()).rejects.toThrow();
    await success();
    await expect(
      sm.send(new SendPipelineExecutionStepFailureCommand({ CallbackToken: token, FailureReason: 'late' })),
    ).rejects.toThrow(/already been completed/);
    expect(
      cloud.calls
        .filter((c) => c.operation.startsWith('SendPipelineExecutionStep'))
        .map((c) => [c.operation, c.tokens, c.error]),
    ).toEqual([
      [
        'SendPipelineExecutionStepSuccess',
        { callbackToken: token, clientRequestToken: crt },
        'ThrottlingException',
      ],
      ['SendPipelineExecutionStepSuccess', { callbackToken: token, clientRequestToken: crt }, undefined],
      // the SDK fills in a ClientRequestToken of its own when none is given
      [
        'SendPipelineExecutionStepFailure',
        { callbackToken: token, clientRequestToken: expect.any(String) },
        'ConflictException',
      ],
    ]);
  });
});
