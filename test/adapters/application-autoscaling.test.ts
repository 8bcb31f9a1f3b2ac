import {
  ApplicationAutoScalingClient,
  ApplicationAutoScalingServiceException,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ApplicationAutoScalingVariants } from '../../src/adapters/application-autoscaling';
import { PermanentError, TransientError } from '../../src/errors';

const aas = mockClient(ApplicationAutoScalingClient);
let variants: ApplicationAutoScalingVariants;

const awsError = (name: string, message: string, status = 400) =>
  new ApplicationAutoScalingServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

const ids = {
  ServiceNamespace: 'sagemaker',
  ResourceId: 'endpoint/churn-prod/variant/v8',
  ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
} as const;

beforeEach(() => {
  aas.reset();
  variants = new ApplicationAutoScalingVariants(new ApplicationAutoScalingClient({ region: 'us-east-1' }));
});

// the worker's process runs other files after this one: their clients must reach the real SDK
afterAll(() => {
  aas.restore();
});

describe('ApplicationAutoScalingVariants', () => {
  it('reads target and every page of policies; predictive policies are left out', async () => {
    aas
      .on(DescribeScalableTargetsCommand)
      .resolves({ ScalableTargets: [{ ...ids, MinCapacity: 2, MaxCapacity: 5 } as never] });
    aas
      .on(DescribeScalingPoliciesCommand)
      .resolvesOnce({
        ScalingPolicies: [
          {
            PolicyName: 'a',
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingScalingPolicyConfiguration: { TargetValue: 70 },
          } as never,
        ],
        NextToken: 't',
      })
      .resolvesOnce({
        ScalingPolicies: [
          {
            PolicyName: 'b',
            PolicyType: 'StepScaling',
            StepScalingPolicyConfiguration: { Cooldown: 60 },
          } as never,
          { PolicyName: 'c', PolicyType: 'PredictiveScaling' } as never,
        ],
      });
    expect(await variants.read('churn-prod', 'v8')).toEqual({
      minCapacity: 2,
      maxCapacity: 5,
      policies: [
        { name: 'a', type: 'TargetTrackingScaling', configuration: { TargetValue: 70 } },
        { name: 'b', type: 'StepScaling', configuration: { Cooldown: 60 } },
      ],
    });
    expect(aas).toHaveReceivedCommandWith(DescribeScalableTargetsCommand, {
      ServiceNamespace: 'sagemaker',
      ResourceIds: ['endpoint/churn-prod/variant/v8'],
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    });
    expect(aas).toHaveReceivedNthCommandWith(DescribeScalingPoliciesCommand, 2, { NextToken: 't' });
  });

  it('reads an unregistered variant as undefined without asking for policies', async () => {
    aas.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    expect(await variants.read('churn-prod', 'v8')).toBeUndefined();
    expect(aas).not.toHaveReceivedCommand(DescribeScalingPoliciesCommand);
  });

  it('registers the target before putting each policy', async () => {
    aas.on(RegisterScalableTargetCommand).resolves({});
    aas.on(PutScalingPolicyCommand).resolves({ PolicyARN: 'arn', Alarms: [] });
    await variants.apply('churn-prod', 'v8', {
      minCapacity: 1,
      maxCapacity: 4,
      policies: [
        { name: 'a', type: 'TargetTrackingScaling', configuration: { TargetValue: 70 } },
        { name: 'b', type: 'StepScaling', configuration: { Cooldown: 60 } },
      ],
    });
    expect(aas).toHaveReceivedNthCommandWith(RegisterScalableTargetCommand, 1, {
      ...ids,
      MinCapacity: 1,
      MaxCapacity: 4,
    });
    expect(aas).toHaveReceivedNthCommandWith(PutScalingPolicyCommand, 1, {
      ...ids,
      PolicyName: 'a',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 70 },
    });
    expect(aas).toHaveReceivedNthCommandWith(PutScalingPolicyCommand, 2, {
      PolicyName: 'b',
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: { Cooldown: 60 },
    });
    expect(aas.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'RegisterScalableTargetCommand',
      'PutScalingPolicyCommand',
      'PutScalingPolicyCommand',
    ]);
  });

  it('maps a refused registration to a PermanentError naming the variant, throttling to TransientError', async () => {
    aas.on(RegisterScalableTargetCommand).rejectsOnce(awsError('ValidationException', 'does not exist'));
    const refused = await variants
      .apply('churn-prod', 'v8', { minCapacity: 1, maxCapacity: 2, policies: [] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermanentError);
    expect((refused as Error).message).toContain('RegisterScalableTarget endpoint/churn-prod/variant/v8');
    aas.on(DescribeScalableTargetsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(variants.read('churn-prod', 'v8')).rejects.toBeInstanceOf(TransientError);
  });

  it('counts a target that is already gone as removed', async () => {
    aas
      .on(DeregisterScalableTargetCommand)
      .rejects(awsError('ObjectNotFoundException', 'No scalable target found'));
    await expect(variants.remove('churn-prod', 'v8')).resolves.toBeUndefined();
    aas.on(DeregisterScalableTargetCommand).rejects(awsError('ConcurrentUpdateException', 'busy', 500));
    await expect(variants.remove('churn-prod', 'v8')).rejects.toBeInstanceOf(TransientError);
  });
});
