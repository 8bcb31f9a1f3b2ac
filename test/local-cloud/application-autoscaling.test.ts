import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  ObjectNotFoundException,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  ValidationException,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApplicationAutoScalingVariants } from '../../src/adapters/application-autoscaling';
import { candidateScaling } from '../../src/domain/autoscaling';
import { closeAll, type Env, modelFromPackage, setup } from './helpers';

const ids = (variant: string) => ({
  ServiceNamespace: 'sagemaker' as const,
  ResourceId: `endpoint/prod/variant/${variant}`,
  ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const,
});

const policy = {
  PolicyName: 'invocations',
  PolicyType: 'TargetTrackingScaling' as const,
  TargetTrackingScalingPolicyConfiguration: {
    TargetValue: 70,
    PredefinedMetricSpecification: {
      PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' as const,
    },
  },
};

describe('local cloud: Application Auto Scaling for endpoint variants', () => {
  let env: Env;
  let aas: ApplicationAutoScalingClient;

  beforeEach(async () => {
    env = await setup();
    aas = new ApplicationAutoScalingClient(env.config);
    await modelFromPackage(env, 'g', 'm1');
    await modelFromPackage(env, 'g', 'm2');
    await env.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg',
        ProductionVariants: [
          {
            VariantName: 'v1',
            ModelName: 'm1',
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
            InitialVariantWeight: 9,
          },
          {
            VariantName: 'v2',
            ModelName: 'm2',
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
            InitialVariantWeight: 1,
          },
        ],
      }),
    );
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg' }));
    env.cloud.advance(5 * 60_000);
  });
  afterEach(async () => {
    aas.destroy();
    await closeAll(env);
  });

  it('registers a variant, brings its instance count into range, and describes target and policy', async () => {
    await aas.send(new RegisterScalableTargetCommand({ ...ids('v1'), MinCapacity: 2, MaxCapacity: 6 }));
    await aas.send(new PutScalingPolicyCommand({ ...ids('v1'), ...policy }));
    const ep = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.ProductionVariants?.find((v) => v.VariantName === 'v1')?.CurrentInstanceCount).toBe(2);
    const targets = await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    expect(targets.ScalableTargets).toMatchObject([
      { ResourceId: 'endpoint/prod/variant/v1', MinCapacity: 2, MaxCapacity: 6 },
    ]);
    const policies = await aas.send(
      new DescribeScalingPoliciesCommand({
        ServiceNamespace: 'sagemaker',
        ResourceId: 'endpoint/prod/variant/v1',
      }),
    );
    expect(policies.ScalingPolicies).toMatchObject([
      {
        PolicyName: 'invocations',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 70 },
      },
    ]);
    // Registering again changes only what is given.
    await aas.send(new RegisterScalableTargetCommand({ ...ids('v1'), MaxCapacity: 8 }));
    const again = await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    expect(again.ScalableTargets).toMatchObject([{ MinCapacity: 2, MaxCapacity: 8 }]);
  });

  it.each([
    [
      'a variant the endpoint does not have',
      { ...ids('v9'), MinCapacity: 1, MaxCapacity: 2 },
      'endpoint/prod/variant/v9 does not exist',
    ],
    [
      'an endpoint that does not exist',
      { ...ids('v1'), ResourceId: 'endpoint/nope/variant/v1', MinCapacity: 1, MaxCapacity: 2 },
      'does not exist',
    ],
    ['a new target without capacities', { ...ids('v1') }, 'MinCapacity and MaxCapacity are required'],
    [
      'minimum above maximum',
      { ...ids('v1'), MinCapacity: 3, MaxCapacity: 2 },
      'cannot be greater than maximum',
    ],
    ['a zero minimum', { ...ids('v1'), MinCapacity: 0, MaxCapacity: 2 }, 'at least 1'],
    [
      'a malformed resource id',
      { ...ids('v1'), ResourceId: 'endpoint/prod', MinCapacity: 1, MaxCapacity: 2 },
      'Unsupported resource ID',
    ],
  ])('refuses to register %s', async (_name, input, message) => {
    const err = await aas.send(new RegisterScalableTargetCommand(input)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toContain(message);
  });

  it('answers ObjectNotFoundException for a policy without target, and for missing policy or target', async () => {
    const put = await aas
      .send(new PutScalingPolicyCommand({ ...ids('v1'), ...policy }))
      .catch((e: unknown) => e);
    expect(put).toBeInstanceOf(ObjectNotFoundException);
    expect((put as Error).message).toBe(
      'No scalable target registered for service namespace: sagemaker, resource ID: endpoint/prod/variant/v1, scalable dimension: sagemaker:variant:DesiredInstanceCount',
    );
    const del = await aas
      .send(new DeleteScalingPolicyCommand({ ...ids('v1'), PolicyName: 'x' }))
      .catch((e: unknown) => e);
    expect(del).toBeInstanceOf(ObjectNotFoundException);
    const dereg = await aas.send(new DeregisterScalableTargetCommand(ids('v1'))).catch((e: unknown) => e);
    expect(dereg).toBeInstanceOf(ObjectNotFoundException);
  });

  it('deregistering a target deletes its policies', async () => {
    await aas.send(new RegisterScalableTargetCommand({ ...ids('v1'), MinCapacity: 1, MaxCapacity: 3 }));
    await aas.send(new PutScalingPolicyCommand({ ...ids('v1'), ...policy }));
    await aas.send(new DeregisterScalableTargetCommand(ids('v1')));
    const policies = await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker' }));
    expect(policies.ScalingPolicies).toEqual([]);
  });

  it('the adapter carries the baseline scaling over to the candidate and removes the old one', async () => {
    const variants = new ApplicationAutoScalingVariants(aas);
    expect(await variants.read('prod', 'v1')).toBeUndefined();
    await aas.send(new RegisterScalableTargetCommand({ ...ids('v1'), MinCapacity: 4, MaxCapacity: 10 }));
    await aas.send(new PutScalingPolicyCommand({ ...ids('v1'), ...policy }));
    const baseline = await variants.read('prod', 'v1');
    expect(baseline).toEqual({
      minCapacity: 4,
      maxCapacity: 10,
      policies: [
        {
          name: 'invocations',
          type: 'TargetTrackingScaling',
          configuration: policy.TargetTrackingScalingPolicyConfiguration,
        },
      ],
    });
    const target = candidateScaling({
      baseline: baseline!,
      baselineVariant: 'v1',
      candidateVariant: 'v2',
      baselineInstances: 4,
      candidateShare: 0.1,
    });
    await variants.apply('prod', 'v2', target);
    await variants.apply('prod', 'v2', target);
    expect(await variants.read('prod', 'v2')).toEqual({ ...baseline, minCapacity: 1 });
    await variants.remove('prod', 'v1');
    await variants.remove('prod', 'v1');
    expect(await variants.read('prod', 'v1')).toBeUndefined();
    expect(env.cloud.callCounts()).toMatchObject({
      RegisterScalableTarget: 3,
      PutScalingPolicy: 3,
      DeregisterScalableTarget: 2,
    });
  });

  it('refuses an UpdateEndpoint that removes a scalable target, as SageMaker does, until it is deregistered', async () => {
    await aas.send(new RegisterScalableTargetCommand({ ...ids('v2'), MinCapacity: 1, MaxCapacity: 3 }));
    await env.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg-v1',
        ProductionVariants: [
          { VariantName: 'v1', ModelName: 'm1', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 },
        ],
      }),
    );
    const update = new UpdateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg-v1' });
    await expect(env.sm.send(update)).rejects.toThrow(/v2 .*scalable target.*deregister it/);
    await aas.send(new DeregisterScalableTargetCommand(ids('v2')));
    await expect(env.sm.send(update)).resolves.toBeDefined();
  });

  it('a deleted endpoint takes its scalable targets and policies with it', async () => {
    await aas.send(new RegisterScalableTargetCommand({ ...ids('v1'), MinCapacity: 1, MaxCapacity: 3 }));
    await aas.send(new PutScalingPolicyCommand({ ...ids('v1'), ...policy }));
    await env.sm.send(new DeleteEndpointCommand({ EndpointName: 'prod' }));
    const targets = await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    expect(targets.ScalableTargets).toEqual([]);
    const policies = await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker' }));
    expect(policies.ScalingPolicies).toEqual([]);
  });
});
