import { describe, expect, it } from 'vitest';
import { type CarryOver, candidateScaling, renameVariant } from '../../src/domain/autoscaling';

const targetTracking = {
  name: 'invocations-per-instance',
  type: 'TargetTrackingScaling' as const,
  configuration: {
    TargetValue: 70,
    PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
    ScaleInCooldown: 300,
    ScaleOutCooldown: 60,
  },
};

const latencyPolicy = {
  name: 'latency',
  type: 'TargetTrackingScaling' as const,
  configuration: {
    TargetValue: 200_000,
    CustomizedMetricSpecification: {
      MetricName: 'ModelLatency',
      Namespace: 'AWS/SageMaker',
      Statistic: 'Average',
      Dimensions: [
        { Name: 'EndpointName', Value: 'churn-prod' },
        { Name: 'VariantName', Value: 'v7' },
      ],
    },
  },
};

const base: CarryOver = {
  baseline: { minCapacity: 2, maxCapacity: 10, policies: [targetTracking] },
  baselineVariant: 'v7',
  candidateVariant: 'v8',
  candidateShare: 0.1,
};

describe('candidateScaling', () => {
  it('sizes the minimum for the share of the baseline now running, rounded up', () => {
    expect(candidateScaling({ ...base, baselineInstances: 8, candidateShare: 0.25 }).minCapacity).toBe(2);
    expect(candidateScaling({ ...base, baselineInstances: 8, candidateShare: 0.3 }).minCapacity).toBe(3);
    expect(candidateScaling({ ...base, baselineInstances: 6, candidateShare: 0.5 }).minCapacity).toBe(3);
  });

  it('never goes below one instance, and uses the baseline minimum when its size is unknown', () => {
    expect(candidateScaling({ ...base, candidateShare: 0 }).minCapacity).toBe(1);
    expect(candidateScaling({ ...base, candidateShare: 0.1 }).minCapacity).toBe(1);
    expect(candidateScaling({ ...base, candidateShare: 1 }).minCapacity).toBe(2);
  });

  it('keeps the maximum, and caps the minimum at it', () => {
    const out = candidateScaling({
      ...base,
      baseline: { ...base.baseline, maxCapacity: 4 },
      baselineInstances: 9,
      candidateShare: 1,
    });
    expect(out).toMatchObject({ minCapacity: 4, maxCapacity: 4 });
  });

  it('counts a baseline below its own minimum as its minimum', () => {
    expect(candidateScaling({ ...base, baselineInstances: 1, candidateShare: 1 }).minCapacity).toBe(2);
  });

  it('clamps a share outside 0..1', () => {
    expect(candidateScaling({ ...base, baselineInstances: 4, candidateShare: 7 }).minCapacity).toBe(4);
    expect(candidateScaling({ ...base, baselineInstances: 4, candidateShare: -1 }).minCapacity).toBe(1);
  });

  it('copies the policies, renaming metric dimensions that name the baseline variant', () => {
    const out = candidateScaling({
      ...base,
      baseline: { ...base.baseline, policies: [targetTracking, latencyPolicy] },
    });
    expect(out.policies[0]).toEqual(targetTracking);
    expect(out.policies[1]?.configuration).toEqual({
      ...latencyPolicy.configuration,
      CustomizedMetricSpecification: {
        ...latencyPolicy.configuration.CustomizedMetricSpecification,
        Dimensions: [
          { Name: 'EndpointName', Value: 'churn-prod' },
          { Name: 'VariantName', Value: 'v8' },
        ],
      },
    });
    // the input is left as it was
    expect(latencyPolicy.configuration.CustomizedMetricSpecification.Dimensions[1]).toEqual({
      Name: 'VariantName',
      Value: 'v7',
    });
  });
});

describe('renameVariant', () => {
  it('renames inside metric math queries and leaves other variants and values alone', () => {
    const config = {
      Metrics: [
        { Id: 'a', MetricStat: { Metric: { Dimensions: [{ Name: 'VariantName', Value: 'v7' }] } } },
        { Id: 'b', MetricStat: { Metric: { Dimensions: [{ Name: 'VariantName', Value: 'other' }] } } },
      ],
      Label: 'v7',
    };
    expect(renameVariant(config, 'v7', 'v8')).toEqual({
      Metrics: [
        { Id: 'a', MetricStat: { Metric: { Dimensions: [{ Name: 'VariantName', Value: 'v8' }] } } },
        { Id: 'b', MetricStat: { Metric: { Dimensions: [{ Name: 'VariantName', Value: 'other' }] } } },
      ],
      Label: 'v7',
    });
  });
});
