import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../src/local/cloud';
import { closeAll, type Env, modelFromPackage, setup } from './helpers';

const PROD_ACCOUNT = '444455556666';

describe('accounts kept apart (separateAccounts)', () => {
  let env: Env;
  let prod: { sm: SageMakerClient; events: EventBridgeClient };
  beforeEach(async () => {
    env = await setup({ separateAccounts: true });
    const out = await env.sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${PROD_ACCOUNT}:role/deployer`,
        RoleSessionName: 'rollouts',
      }),
    );
    const config = {
      ...env.config,
      credentials: {
        accessKeyId: out.Credentials!.AccessKeyId!,
        secretAccessKey: out.Credentials!.SecretAccessKey!,
        sessionToken: out.Credentials!.SessionToken!,
      },
    };
    prod = { sm: new SageMakerClient(config), events: new EventBridgeClient(config) };
  });
  afterEach(async () => {
    prod.sm.destroy();
    prod.events.destroy();
    await closeAll(env);
  });

  /** A model in the production account made from the local account's package (by its full ARN), and an endpoint on it. */
  const prodEndpoint = async (packageArn: string) => {
    await prod.sm.send(
      new CreateModelCommand({
        ModelName: 'prod-model',
        ExecutionRoleArn: `arn:aws:iam::${PROD_ACCOUNT}:role/sm`,
        Containers: [{ ModelPackageName: packageArn }],
      }),
    );
    await prod.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'prod-cfg',
        ProductionVariants: [
          {
            VariantName: 'blue',
            ModelName: 'prod-model',
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
          },
        ],
      }),
    );
    return prod.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'prod-cfg' }));
  };

  it('an assumed role reaches its own account’s endpoints; the local account does not see them', async () => {
    const packageArn = await modelFromPackage(env, 'fraud', 'home-model');
    const created = await prodEndpoint(packageArn);
    expect(created.EndpointArn).toBe(`arn:aws:sagemaker:us-east-1:${PROD_ACCOUNT}:endpoint/prod`);
    await expect(env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Could not find endpoint "arn:aws:sagemaker:us-east-1:111122223333:endpoint/prod".',
    });
    expect((await prod.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).EndpointStatus).toBe(
      'Creating',
    );
    expect(env.cloud.inRegion('us-east-1', PROD_ACCOUNT).sagemaker.endpoints.has('prod')).toBe(true);
    expect(env.cloud.sagemaker.endpoints.has('prod')).toBe(false);
  });

  it('a package of the registry’s account is found by its full ARN only, as a cross-account CreateModel names it', async () => {
    await modelFromPackage(env, 'fraud', 'home-model');
    await expect(
      prod.sm.send(
        new CreateModelCommand({
          ModelName: 'by-name',
          ExecutionRoleArn: `arn:aws:iam::${PROD_ACCOUNT}:role/sm`,
          Containers: [{ ModelPackageName: 'fraud/1' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: 'ModelPackage fraud/1 does not exist.' });
  });

  it('the endpoint’s events carry its account and go to that account’s default bus; a rule there can forward them to the local account', async () => {
    const seen: CloudEvent[] = [];
    env.cloud.events.addRule({
      name: 'service-endpoints',
      pattern: { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint State Change'] },
      target: (event) => {
        seen.push(event);
      },
    });
    const packageArn = await modelFromPackage(env, 'fraud', 'home-model');
    await prodEndpoint(packageArn);
    await env.cloud.drain();
    expect(seen).toEqual([]);

    await prod.events.send(
      new PutRuleCommand({ Name: 'to-service', EventPattern: JSON.stringify({ source: ['aws.sagemaker'] }) }),
    );
    const target = await prod.events.send(
      new PutTargetsCommand({
        Rule: 'to-service',
        Targets: [{ Id: 'service', Arn: 'arn:aws:events:us-east-1:111122223333:event-bus/default' }],
      }),
    );
    expect(target.FailedEntryCount).toBe(0);
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(seen.map((e) => [e.account, e.detail.EndpointStatus, e.resources[0]])).toEqual([
      [PROD_ACCOUNT, 'IN_SERVICE', `arn:aws:sagemaker:us-east-1:${PROD_ACCOUNT}:endpoint/prod`],
    ]);
  });
});
