import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteTagsCommand,
  DescribeEndpointCommand,
  ListEndpointsCommand,
  ListTagsCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAll, type Env, modelFromPackage, setup, T0 } from './helpers';

const ARN = 'arn:aws:sagemaker:us-east-1:111122223333:endpoint/prod';

async function config(
  env: Env,
  name: string,
  variants: Array<{ name: string; model: string; weight?: number }>,
) {
  await env.sm.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: name,
      ProductionVariants: variants.map((v) => ({
        VariantName: v.name,
        ModelName: v.model,
        InstanceType: 'ml.m5.large',
        InitialInstanceCount: 1,
        ...(v.weight !== undefined ? { InitialVariantWeight: v.weight } : {}),
      })),
    }),
  );
}

const statuses = (env: Env) =>
  env.cloud.events.published
    .filter((e) => e['detail-type'] === 'SageMaker Endpoint State Change')
    .map((e) => e.detail.EndpointStatus);

describe('endpoints', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
    await modelFromPackage(env, 'g', 'model-a');
    await modelFromPackage(env, 'g', 'model-b');
  });
  afterEach(async () => closeAll(env));

  it('goes Creating -> InService on virtual time and emits UPPER_SNAKE events', async () => {
    const { sm, cloud } = env;
    await config(env, 'cfg-a', [{ name: 'blue', model: 'model-a' }]);
    await sm.send(
      new CreateEndpointCommand({
        EndpointName: 'prod',
        EndpointConfigName: 'cfg-a',
        Tags: [{ Key: 'stage', Value: 'prod' }],
      }),
    );
    expect((await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).EndpointStatus).toBe(
      'Creating',
    );
    cloud.advance(5 * 60_000 - 1);
    expect((await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).EndpointStatus).toBe(
      'Creating',
    );
    cloud.advance(1);
    const ep = await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('InService');
    expect(ep.LastModifiedTime?.getTime()).toBe(T0 + 5 * 60_000);
    expect(ep.ProductionVariants?.[0]).toMatchObject({
      VariantName: 'blue',
      CurrentWeight: 1,
      DesiredWeight: 1,
      CurrentInstanceCount: 1,
      DeployedImages: [{ SpecifiedImage: '111122223333.dkr.ecr.us-east-1.amazonaws.com/img:1' }],
    });
    expect(statuses(env)).toEqual(['CREATING', 'IN_SERVICE']);
    const inService = cloud.events.published.at(-1)!;
    expect(inService).toMatchObject({
      time: '2024-01-01T00:05:00Z',
      resources: [ARN],
      detail: {
        EndpointName: 'prod',
        EndpointArn: ARN,
        EndpointConfigName: 'cfg-a',
        ProductionVariants: [{ DesiredWeight: 1, DesiredInstanceCount: 1 }],
        CreationTime: T0,
        LastModifiedTime: T0 + 5 * 60_000,
        Tags: { stage: 'prod' },
      },
    });
    const listed = await sm.send(new ListEndpointsCommand({ NameContains: 'pro' }));
    expect(listed.Endpoints?.map((e) => e.EndpointName)).toEqual(['prod']);
  });

  it('rejects changes to an in-progress endpoint with the AWS message, and unknown names', async () => {
    const { sm } = env;
    await config(env, 'cfg-a', [{ name: 'blue', model: 'model-a' }]);
    await sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' }));
    const inProgress = {
      name: 'ValidationException',
      message: `Cannot update in-progress endpoint "${ARN}".`,
    };
    await expect(
      sm.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'prod',
          DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 2 }],
        }),
      ),
    ).rejects.toMatchObject(inProgress);
    await expect(
      sm.send(new UpdateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' })),
    ).rejects.toMatchObject(inProgress);
    await expect(sm.send(new DeleteEndpointCommand({ EndpointName: 'prod' }))).rejects.toMatchObject(
      inProgress,
    );
    await expect(sm.send(new DescribeEndpointCommand({ EndpointName: 'nope' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Could not find endpoint "arn:aws:sagemaker:us-east-1:111122223333:endpoint/nope".',
    });
    await expect(
      sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' })),
    ).rejects.toMatchObject({
      message: `Cannot create already existing endpoint "${ARN}".`,
    });
    await expect(
      sm.send(new CreateEndpointCommand({ EndpointName: 'x', EndpointConfigName: 'missing' })),
    ).rejects.toMatchObject({
      message:
        'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/missing".',
    });
  });

  it('shifts CurrentWeight only after the weights delay, and validates variants and weights', async () => {
    const { sm, cloud } = env;
    await config(env, 'cfg-ab', [
      { name: 'blue', model: 'model-a', weight: 1 },
      { name: 'green', model: 'model-b', weight: 0 },
    ]);
    await sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-ab' }));
    cloud.advance(5 * 60_000);
    await expect(
      sm.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'prod',
          DesiredWeightsAndCapacities: [{ VariantName: 'purple', DesiredWeight: 1 }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('purple') });
    await expect(
      sm.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'prod',
          DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 0 }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });

    await sm.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: 'prod',
        DesiredWeightsAndCapacities: [
          { VariantName: 'blue', DesiredWeight: 0.9 },
          { VariantName: 'green', DesiredWeight: 0.1 },
        ],
      }),
    );
    let ep = await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('Updating');
    expect(ep.ProductionVariants?.map((v) => [v.VariantName, v.CurrentWeight, v.DesiredWeight])).toEqual([
      ['blue', 1, 0.9],
      ['green', 0, 0.1],
    ]);
    cloud.advance(30_000);
    ep = await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('InService');
    expect(ep.ProductionVariants?.map((v) => v.CurrentWeight)).toEqual([0.9, 0.1]);
    expect(statuses(env)).toEqual(['CREATING', 'IN_SERVICE', 'UPDATING', 'IN_SERVICE']);
  });

  it('UpdateEndpoint resets weights unless RetainAllVariantProperties is set', async () => {
    const { sm, cloud } = env;
    await config(env, 'cfg-1', [
      { name: 'blue', model: 'model-a', weight: 1 },
      { name: 'green', model: 'model-b', weight: 1 },
    ]);
    await config(env, 'cfg-2', [
      { name: 'blue', model: 'model-a', weight: 5 },
      { name: 'green', model: 'model-b', weight: 5 },
    ]);
    await config(env, 'cfg-3', [
      { name: 'blue', model: 'model-a', weight: 7 },
      { name: 'green', model: 'model-b', weight: 7 },
    ]);
    await sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-1' }));
    cloud.advance(5 * 60_000);
    await sm.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: 'prod',
        DesiredWeightsAndCapacities: [{ VariantName: 'green', DesiredWeight: 3 }],
      }),
    );
    cloud.advance(30_000);
    await sm.send(
      new UpdateEndpointCommand({
        EndpointName: 'prod',
        EndpointConfigName: 'cfg-2',
        RetainAllVariantProperties: true,
      }),
    );
    cloud.advance(3 * 60_000);
    let ep = await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointConfigName).toBe('cfg-2');
    expect(ep.ProductionVariants?.map((v) => v.CurrentWeight)).toEqual([1, 3]);
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-3' }));
    cloud.advance(3 * 60_000);
    ep = await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.ProductionVariants?.map((v) => v.CurrentWeight)).toEqual([7, 7]);
  });

  it('a failed update rolls back to the old config with a FailureReason; a failed create ends Failed', async () => {
    const { sm, cloud } = env;
    await modelFromPackage(env, 'g', 'model-bad', { 'sim.failDeploy': 'true' });
    await config(env, 'cfg-good', [{ name: 'blue', model: 'model-a' }]);
    await config(env, 'cfg-bad', [{ name: 'blue', model: 'model-bad' }]);
    await sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-good' }));
    cloud.advance(5 * 60_000);
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-bad' }));
    cloud.advance(3 * 60_000);
    const ep = await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('InService');
    expect(ep.EndpointConfigName).toBe('cfg-good');
    expect(ep.FailureReason).toMatch(/blue did not pass the ping health check/);
    expect(cloud.events.published.at(-1)?.detail).toMatchObject({
      EndpointStatus: 'IN_SERVICE',
      FailureReason: ep.FailureReason,
    });

    await sm.send(new CreateEndpointCommand({ EndpointName: 'qa', EndpointConfigName: 'cfg-bad' }));
    cloud.advance(5 * 60_000);
    const qa = await sm.send(new DescribeEndpointCommand({ EndpointName: 'qa' }));
    expect(qa.EndpointStatus).toBe('Failed');
    expect(cloud.events.published.at(-1)?.detail).toMatchObject({
      EndpointStatus: 'FAILED',
      EndpointName: 'qa',
    });
    await sm.send(new DeleteEndpointCommand({ EndpointName: 'qa' }));
    expect((await sm.send(new DescribeEndpointCommand({ EndpointName: 'qa' }))).EndpointStatus).toBe(
      'Deleting',
    );
    cloud.advance(60_000);
    await expect(sm.send(new DescribeEndpointCommand({ EndpointName: 'qa' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('simulates a blue/green canary and rolls back when a watched alarm fires', async () => {
    const { sm, cloud } = env;
    await config(env, 'cfg-1', [{ name: 'main', model: 'model-a' }]);
    await config(env, 'cfg-2', [{ name: 'main', model: 'model-b' }]);
    await sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-1' }));
    cloud.advance(5 * 60_000);
    const deploymentConfig = {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: {
          Type: 'CANARY' as const,
          WaitIntervalInSeconds: 600,
          CanarySize: { Type: 'CAPACITY_PERCENT' as const, Value: 10 },
        },
        TerminationWaitInSeconds: 300,
      },
      AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'prod-5xx' }] },
    };
    cloud.setAlarmState('prod-5xx', 'OK');
    await sm.send(
      new UpdateEndpointCommand({
        EndpointName: 'prod',
        EndpointConfigName: 'cfg-2',
        DeploymentConfig: deploymentConfig,
      }),
    );
    cloud.advance(3 * 60_000 + 60_000);
    expect(cloud.sagemaker.endpoints.get('prod')?.blueGreen?.share).toBeCloseTo(0.1);
    cloud.setAlarmState('prod-5xx', 'ALARM');
    let ep = await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('InService');
    expect(ep.EndpointConfigName).toBe('cfg-1');
    expect(ep.FailureReason).toMatch(/prod-5xx/);

    cloud.setAlarmState('prod-5xx', 'OK');
    await sm.send(
      new UpdateEndpointCommand({
        EndpointName: 'prod',
        EndpointConfigName: 'cfg-2',
        DeploymentConfig: deploymentConfig,
      }),
    );
    cloud.advance(3 * 60_000 + 600_000 + 300_000 - 1);
    expect((await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).EndpointStatus).toBe(
      'Updating',
    );
    cloud.advance(1);
    ep = await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('InService');
    expect(ep.EndpointConfigName).toBe('cfg-2');
    expect(ep.FailureReason).toBeUndefined();
  });

  it('can re-emit endpoint events as duplicates when asked', async () => {
    await closeAll(env);
    env = await setup({ duplicateEventRate: 1 });
    await modelFromPackage(env, 'g', 'model-a');
    await config(env, 'cfg-a', [{ name: 'blue', model: 'model-a' }]);
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' }));
    env.cloud.advance(5 * 60_000);
    expect(statuses(env)).toEqual(['CREATING', 'CREATING', 'IN_SERVICE', 'IN_SERVICE']);
  });

  it('tags endpoints; endpoint events carry the tags as a map', async () => {
    const { sm, cloud } = env;
    await config(env, 'cfg-a', [{ name: 'blue', model: 'model-a' }]);
    await sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' }));
    await sm.send(
      new AddTagsCommand({
        ResourceArn: ARN,
        Tags: [
          { Key: 'team', Value: 'ml' },
          { Key: 'tmp', Value: 'x' },
        ],
      }),
    );
    await sm.send(new DeleteTagsCommand({ ResourceArn: ARN, TagKeys: ['tmp'] }));
    expect((await sm.send(new ListTagsCommand({ ResourceArn: ARN }))).Tags).toEqual([
      { Key: 'team', Value: 'ml' },
    ]);
    cloud.advance(5 * 60_000);
    expect(cloud.events.published.at(-1)?.detail.Tags).toEqual({ team: 'ml' });
  });
});

describe('endpoint behaviours AWS documents (API_CreateEndpoint.html)', () => {
  let env: Env;
  afterEach(async () => closeAll(env));

  it('endpoint names are case-insensitive in CreateEndpoint; the case is kept', async () => {
    env = await setup();
    await modelFromPackage(env, 'g', 'model-a');
    await config(env, 'cfg-a', [{ name: 'blue', model: 'model-a' }]);
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'Prod', EndpointConfigName: 'cfg-a' }));
    await expect(
      env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' })),
    ).rejects.toThrow(/Cannot create already existing endpoint/);
    const ep = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'Prod' }));
    expect(ep.EndpointName).toBe('Prod');
  });

  it('a config just created may not be found by CreateEndpoint for a while (eventual consistency)', async () => {
    env = await setup({ timings: { configVisibleMs: 30_000 } });
    await modelFromPackage(env, 'g', 'model-a');
    await config(env, 'cfg-a', [{ name: 'blue', model: 'model-a' }]);
    await expect(
      env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' })),
    ).rejects.toThrow(/Could not find endpoint configuration/);
    env.cloud.advance(30_000);
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' }));
    expect((await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).EndpointStatus).toBe(
      'Creating',
    );
  });
});

describe('CreateModel validates names and tags as the SageMaker API Reference says (API_CreateModel.html, API_Tag.html)', () => {
  let env: Env;
  afterEach(async () => closeAll(env));
  const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/model:1';
  const create = (ModelName: string, Tags?: { Key: string; Value: string }[]) =>
    env.sm.send(new CreateModelCommand({ ModelName, PrimaryContainer: { Image: IMAGE }, Tags }));

  it('accepts a valid name and keeps its tags', async () => {
    env = await setup();
    const tags = [{ Key: 'sagemaker-rollouts:group', Value: 'arn:aws:sagemaker:us-east-1:1:x/y=+-@ é' }];
    const { ModelArn } = await create(`m${'a'.repeat(62)}`, tags);
    expect((await env.sm.send(new ListTagsCommand({ ResourceArn: ModelArn }))).Tags).toEqual(tags);
  });

  it.each([
    ['longer than 63 characters', `m${'a'.repeat(63)}`, /length less than or equal to 63/],
    ['ending with a hyphen', 'model-', /regular expression pattern/],
    ['holding an underscore', 'model_a', /regular expression pattern/],
    ['starting with a hyphen', '-model', /regular expression pattern/],
  ])('refuses a model name %s', async (_why, name, message) => {
    env = await setup();
    await expect(create(name)).rejects.toThrow(message);
    expect(env.cloud.sagemaker.models.has(name)).toBe(false);
  });

  it.each([
    [
      'more than 50 tags',
      Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
      /less than or equal to 50/,
    ],
    ['an empty key', [{ Key: '', Value: 'v' }], /key.*between 1 and 128/],
    ['a key over 128 characters', [{ Key: 'k'.repeat(129), Value: 'v' }], /key.*between 1 and 128/],
    [
      'a value over 256 characters',
      [{ Key: 'k', Value: 'v'.repeat(257) }],
      /value.*less than or equal to 256/,
    ],
    ['JSON characters in a value', [{ Key: 'k', Value: '{"a":1}' }], /value.*regular expression pattern/],
    ['a comma in a key', [{ Key: 'a,b', Value: 'v' }], /key.*regular expression pattern/],
  ])('refuses %s', async (_why, tags, message) => {
    env = await setup();
    await expect(create('model-a', tags)).rejects.toThrow(message);
    expect(env.cloud.sagemaker.models.has('model-a')).toBe(false);
  });
});

describe('endpoint states SageMaker documents (API_DescribeEndpoint.html, EndpointStatus)', () => {
  let env: Env;
  afterEach(async () => closeAll(env));
  const status = async (name = 'prod') =>
    (await env.sm.send(new DescribeEndpointCommand({ EndpointName: name }))).EndpointStatus;
  const inService = async (models: Record<string, string> = {}) => {
    env = await setup();
    await modelFromPackage(env, 'g', 'model-a');
    await modelFromPackage(env, 'g', 'model-b', models);
    await config(env, 'cfg-a', [{ name: 'blue', model: 'model-a' }]);
    await config(env, 'cfg-b', [{ name: 'green', model: 'model-b' }]);
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' }));
    env.cloud.advance(5 * 60_000);
    expect(await status()).toBe('InService');
  };

  it('SystemUpdating: serves, refuses updates, weights and deletion until the maintenance ends', async () => {
    await inService();
    env.cloud.sagemaker.systemUpdate('prod', 10 * 60_000);
    expect(await status()).toBe('SystemUpdating');
    expect(env.cloud.sagemaker.endpoints.get('prod')!.variants.map((v) => v.currentWeight)).toEqual([1]);
    const busy = /Cannot update in-progress endpoint/;
    await expect(
      env.sm.send(new UpdateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-b' })),
    ).rejects.toThrow(busy);
    await expect(
      env.sm.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'prod',
          DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 2 }],
        }),
      ),
    ).rejects.toThrow(busy);
    await expect(env.sm.send(new DeleteEndpointCommand({ EndpointName: 'prod' }))).rejects.toThrow(busy);
    env.cloud.advance(10 * 60_000);
    expect(await status()).toBe('InService');
    await env.sm.send(new UpdateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-b' }));
    expect(statuses(env)).toContain('SYSTEM_UPDATING');
  });

  it('OutOfService: takes no requests for a while, then is back InService', async () => {
    await inService();
    env.cloud.sagemaker.outOfService('prod', 60_000);
    expect(await status()).toBe('OutOfService');
    const invoke = () =>
      env.runtime.send(
        new InvokeEndpointCommand({ EndpointName: 'prod', Body: '{}', ContentType: 'application/json' }),
      );
    await expect(invoke()).rejects.toThrow(/not in service/);
    env.cloud.advance(60_000);
    expect(await status()).toBe('InService');
    await invoke();
    expect(statuses(env)).toContain('OUT_OF_SERVICE');
  });

  it('RollingBack: a failed weight change rolls back to the previous weights, then InService with the reason', async () => {
    await inService();
    env.cloud.sagemaker.failNextWeightChange('prod', 'Insufficient capacity for ml.m5.large.');
    await env.sm.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: 'prod',
        DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredInstanceCount: 4 }],
      }),
    );
    env.cloud.advance(30_000);
    expect(await status()).toBe('RollingBack');
    env.cloud.advance(30_000);
    const ep = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('InService');
    expect(ep.FailureReason).toBe('Insufficient capacity for ml.m5.large.');
    expect(ep.ProductionVariants?.[0]).toMatchObject({ CurrentInstanceCount: 1, DesiredInstanceCount: 1 });
    expect(statuses(env)).toEqual(expect.arrayContaining(['UPDATING', 'ROLLING_BACK', 'IN_SERVICE']));
  });

  it('UpdateRollbackFailed: a rolling update of a failing model whose rollback fails too', async () => {
    await inService({ 'sim.failDeploy': 'true', 'sim.failRollback': 'true' });
    await env.sm.send(
      new UpdateEndpointCommand({
        EndpointName: 'prod',
        EndpointConfigName: 'cfg-b',
        DeploymentConfig: {
          RollingUpdatePolicy: {
            MaximumBatchSize: { Type: 'CAPACITY_PERCENT', Value: 50 },
            WaitIntervalInSeconds: 60,
          },
        },
      }),
    );
    env.cloud.advance(3 * 60_000);
    const ep = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('UpdateRollbackFailed');
    expect(ep.FailureReason).toMatch(/rollback failed/);
    // in service with a mix of the old and new configurations
    expect(ep.ProductionVariants?.map((v) => v.VariantName)).toEqual(['blue', 'green']);
  });

  it('a failing model without a rolling policy is rolled back: InService on the old config, with the reason', async () => {
    await inService({ 'sim.failDeploy': 'true', 'sim.failRollback': 'true' });
    await env.sm.send(new UpdateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-b' }));
    env.cloud.advance(3 * 60_000);
    const ep = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-a' });
    expect(ep.FailureReason).toBeTruthy();
  });

  it('Deleting lasts: the name stays taken until the deletion ends', async () => {
    await inService();
    await env.sm.send(new DeleteEndpointCommand({ EndpointName: 'prod' }));
    expect(await status()).toBe('Deleting');
    await expect(
      env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' })),
    ).rejects.toThrow(/Cannot create already existing endpoint/);
    await expect(env.sm.send(new DeleteEndpointCommand({ EndpointName: 'prod' }))).rejects.toThrow(
      /Cannot update in-progress endpoint/,
    );
    env.cloud.advance(60_000);
    await expect(status()).rejects.toThrow(/Could not find endpoint/);
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-a' }));
  });
});
