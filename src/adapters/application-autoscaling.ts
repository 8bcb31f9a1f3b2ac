import {
  type ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ScalingPolicy,
} from '@aws-sdk/client-application-auto-scaling';
import type {
  AutoscalingFactory,
  ScalingPolicySpec,
  VariantAutoscaling,
  VariantScaling,
} from '../ports/autoscaling';
import type { StageTarget } from '../ports/sagemaker';
import { errorCode, toRolloutsError } from './aws-errors';
import { applicationAutoScalingClientFor } from './clients';

const NAMESPACE = 'sagemaker';
const DIMENSION = 'sagemaker:variant:DesiredInstanceCount';

export const variantResourceId = (endpointName: string, variantName: string): string =>
  `endpoint/${endpointName}/variant/${variantName}`;

/** Autoscaling per stage, in its region: default credentials, or the stage's assumed role. */
export class ApplicationAutoScalingFactory implements AutoscalingFactory {
  forStage(target: StageTarget): ApplicationAutoScalingVariants {
    return new ApplicationAutoScalingVariants(
      applicationAutoScalingClientFor(target.crossAccount, target.region),
    );
  }
}

export class ApplicationAutoScalingVariants implements VariantAutoscaling {
  constructor(private readonly client: ApplicationAutoScalingClient) {}

  async read(endpointName: string, variantName: string): Promise<VariantScaling | undefined> {
    const resourceId = variantResourceId(endpointName, variantName);
    try {
      const targets = await this.client.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: NAMESPACE,
          ResourceIds: [resourceId],
          ScalableDimension: DIMENSION,
        }),
      );
      const target = targets.ScalableTargets?.[0];
      if (!target) return undefined;
      const policies: ScalingPolicy[] = [];
      let nextToken: string | undefined;
      do {
        const page = await this.client.send(
          new DescribeScalingPoliciesCommand({
            ServiceNamespace: NAMESPACE,
            ResourceId: resourceId,
            ScalableDimension: DIMENSION,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        policies.push(...(page.ScalingPolicies ?? []));
        nextToken = page.NextToken;
      } while (nextToken);
      return {
        minCapacity: target.MinCapacity ?? 1,
        maxCapacity: target.MaxCapacity ?? 1,
        policies: policies.flatMap(toSpec),
      };
    } catch (error) {
      throw toRolloutsError(error, { operation: 'Application Auto Scaling describe', resource: resourceId });
    }
  }

  async apply(endpointName: string, variantName: string, scaling: VariantScaling): Promise<void> {
    const resourceId = variantResourceId(endpointName, variantName);
    const ids = {
      ServiceNamespace: NAMESPACE,
      ResourceId: resourceId,
      ScalableDimension: DIMENSION,
    } as const;
    try {
      await this.client.send(
        new RegisterScalableTargetCommand({
          ...ids,
          MinCapacity: scaling.minCapacity,
          MaxCapacity: scaling.maxCapacity,
        }),
      );
    } catch (error) {
      throw toRolloutsError(error, {
        operation: 'Application Auto Scaling RegisterScalableTarget',
        resource: resourceId,
      });
    }
    for (const policy of scaling.policies) {
      try {
        await this.client.send(
          new PutScalingPolicyCommand({
            ...ids,
            PolicyName: policy.name,
            PolicyType: policy.type,
            ...(policy.type === 'TargetTrackingScaling'
              ? { TargetTrackingScalingPolicyConfiguration: policy.configuration as never }
              : { StepScalingPolicyConfiguration: policy.configuration as never }),
          }),
        );
      } catch (error) {
        throw toRolloutsError(error, {
          operation: 'Application Auto Scaling PutScalingPolicy',
          resource: `${resourceId} ${policy.name}`,
        });
      }
    }
  }

  async remove(endpointName: string, variantName: string): Promise<void> {
    const resourceId = variantResourceId(endpointName, variantName);
    try {
      await this.client.send(
        new DeregisterScalableTargetCommand({
          ServiceNamespace: NAMESPACE,
          ResourceId: resourceId,
          ScalableDimension: DIMENSION,
        }),
      );
    } catch (error) {
      if (errorCode(error) === 'ObjectNotFoundException') return;
      throw toRolloutsError(error, {
        operation: 'Application Auto Scaling DeregisterScalableTarget',
        resource: resourceId,
      });
    }
  }
}

/** Predictive policies are not carried over: they forecast from the old variant's history. */
function toSpec(policy: ScalingPolicy): ScalingPolicySpec[] {
  if (policy.PolicyType === 'TargetTrackingScaling' && policy.TargetTrackingScalingPolicyConfiguration) {
    return [
      {
        name: policy.PolicyName ?? 'target-tracking',
        type: 'TargetTrackingScaling',
        configuration: { ...policy.TargetTrackingScalingPolicyConfiguration },
      },
    ];
  }
  if (policy.PolicyType === 'StepScaling' && policy.StepScalingPolicyConfiguration) {
    return [
      {
        name: policy.PolicyName ?? 'step',
        type: 'StepScaling',
        configuration: { ...policy.StepScalingPolicyConfiguration },
      },
    ];
  }
  return [];
}
