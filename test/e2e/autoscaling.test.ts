import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'as-model';
const PROD = 'as-model-prod';
const DIMENSION = 'sagemaker:variant:DesiredInstanceCount' as const;
const resourceId = (variant: string) => `endpoint/${PROD}/variant/${variant}`;

/** Target tracking on a customized metric that names the variant, as teams write it. */
const policyFor = (variant: string) => ({
  TargetValue: 0.6,
  CustomizedMetricSpecification: {
    MetricName: 'CPUUtilizationNormalized',
    Namespace: '/aws/sagemaker/Endpoints',
    Dimensions: [
      { Name: 'EndpointName', Value: PROD },
      { Name: 'VariantName', Value: variant },
    ],
    Statistic: 'Average' as const,
  },
  ScaleInCooldown: 300,
  ScaleOutCooldown: 60,
});

describe('autoscaling kept across versions (Application Auto Scaling through the SDK)', () => {
  let r: Rollouts;
  let aas: ApplicationAutoScalingClient;

  const scalingOf = async (variant: string) => {
    const targets = await aas.send(
      new DescribeScalableTargetsCommand({
        ServiceNamespace: 'sagemaker',
        ResourceIds: [resourceId(variant)],
        ScalableDimension: DIMENSION,
      }),
    );
    const target = targets.ScalableTargets?.[0];
    if (!target) return undefined;
    const policies = await aas.send(
      new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker', ResourceId: resourceId(variant) }),
    );
    return {
      min: target.MinCapacity,
      max: target.MaxCapacity,
      policies: (policies.ScalingPolicies ?? []).map((p) => ({
        name: p.PolicyName,
        type: p.PolicyType,
        configuration: p.TargetTrackingScalingPolicyConfiguration,
      })),
    };
  };

  /** The candidate's weight and registered minimum each time either changes. */
  const trace: Array<{ weight: number; min: number | undefined }> = [];
  const watch = (variant: string) => {
    const weight = r.stack.cloud.sagemaker.endpoints
      .get(PROD)
      ?.variants.find((v) => v.name === variant)?.currentWeight;
    if (weight === undefined) return;
    const min = r.stack.cloud.autoscaling.targets.get(resourceId(variant))?.minCapacity;
    const last = trace.at(-1);
    if (last?.weight !== weight || last.min !== min) trace.push({ weight, min });
  };

  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/autoscaled.yml' });
    aas = new ApplicationAutoScalingClient({ region: 'us-east-1' });
    await withV1InProd(r, GROUP, PROD);
    await aas.send(
      new RegisterScalableTargetCommand({
        ServiceNamespace: 'sagemaker',
        ResourceId: resourceId('v1'),
        ScalableDimension: DIMENSION,
        MinCapacity: 2,
        MaxCapacity: 6,
      }),
    );
    await aas.send(
      new PutScalingPolicyCommand({
        ServiceNamespace: 'sagemaker',
        ResourceId: resourceId('v1'),
        ScalableDimension: DIMENSION,
        PolicyName: 'cpu-target',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: policyFor('v1'),
      }),
    );
  }, 120_000);
  afterAll(() => r.close());

  it('promotion: the candidate is scaled for each step before its weight rises, then like the baseline; the old target is gone', async () => {
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => {
      watch('v2');
      return (await r.phase(`${GROUP}:v2`)) === 'Succeeded';
    });
    watch('v2');
    // minimum ceil(2 x share), registered before the weight that needs it
    expect(trace).toEqual([
      { weight: 0, min: 1 },
      { weight: 20, min: 1 },
      { weight: 20, min: 2 },
      { weight: 60, min: 2 },
      { weight: 100, min: 2 },
    ]);
    expect(await scalingOf('v2')).toEqual({
      min: 2,
      max: 6,
      policies: [{ name: 'cpu-target', type: 'TargetTrackingScaling', configuration: policyFor('v2') }],
    });
    expect(await scalingOf('v1')).toBeUndefined();
  });

  it('rollback: the baseline keeps (or gets back) its scaling, the candidate has none', async () => {
    const before = await scalingOf('v2');
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0.3' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v3`)) === 'RolledBack');
    expect(await scalingOf('v2')).toEqual(before);
    expect(await scalingOf('v3')).toBeUndefined();
    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
    expect(ep.variants.map((v) => [v.name, v.currentWeight])).toEqual([['v2', 100]]);
  });
});
