import {
  DescribeEventBusCommand,
  EventBridgeClient,
  PutPermissionCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemovePermissionCommand,
} from '@aws-sdk/client-eventbridge';
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
  const prodEndpoint = async (packageArn: string, name = 'prod') => {
    await prod.sm.send(
      new CreateModelCommand({
        ModelName: `${name}-model`,
        ExecutionRoleArn: `arn:aws:iam::${PROD_ACCOUNT}:role/sm`,
        Containers: [{ ModelPackageName: packageArn }],
      }),
    );
    await prod.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: `${name}-cfg`,
        ProductionVariants: [
          {
            VariantName: 'blue',
            ModelName: `${name}-model`,
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
          },
        ],
      }),
    );
    return prod.sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-cfg` }));
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

  const HOME_BUS = 'arn:aws:events:us-east-1:111122223333:event-bus/default';
  /** In the production account: a rule forwarding SageMaker's events to the local account's default bus. */
  const forwardToHome = async () => {
    await prod.events.send(
      new PutRuleCommand({ Name: 'to-service', EventPattern: JSON.stringify({ source: ['aws.sagemaker'] }) }),
    );
    const target = await prod.events.send(
      new PutTargetsCommand({ Rule: 'to-service', Targets: [{ Id: 'service', Arn: HOME_BUS }] }),
    );
    expect(target.FailedEntryCount).toBe(0);
  };
  /** What reaches the local account's default bus from SageMaker. */
  const seenAtHome = () => {
    const seen: CloudEvent[] = [];
    env.cloud.events.addRule({
      name: 'service-endpoints',
      pattern: { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint State Change'] },
      target: (event) => {
        seen.push(event);
      },
    });
    return seen;
  };
  const allowProd = (condition?: Record<string, Record<string, string>>) =>
    env.events.send(
      new PutPermissionCommand({
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'stage-accounts',
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${PROD_ACCOUNT}:root` },
              Action: 'events:PutEvents',
              Resource: HOME_BUS,
              ...(condition ? { Condition: condition } : {}),
            },
          ],
        }),
      }),
    );

  it('the endpoint’s events carry its account and go to that account’s default bus; a rule there forwards them to a bus whose policy allows that account', async () => {
    const seen = seenAtHome();
    const packageArn = await modelFromPackage(env, 'fraud', 'home-model');
    await prodEndpoint(packageArn);
    await env.cloud.drain();
    expect(seen).toEqual([]);

    await forwardToHome();
    await allowProd({
      StringEquals: {
        'events:source': 'aws.sagemaker',
        'events:detail-type': 'SageMaker Endpoint State Change',
      },
    });
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(seen.map((e) => [e.account, e.detail.EndpointStatus, e.resources[0]])).toEqual([
      [PROD_ACCOUNT, 'IN_SERVICE', `arn:aws:sagemaker:us-east-1:${PROD_ACCOUNT}:endpoint/prod`],
    ]);
    const policy = JSON.parse((await env.events.send(new DescribeEventBusCommand({}))).Policy!);
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['stage-accounts']);
  });

  it('without a policy allowing the sender account, the bus of another account drops the forwarded event, saying why', async () => {
    const seen = seenAtHome();
    await forwardToHome();
    const packageArn = await modelFromPackage(env, 'fraud', 'home-model');
    await prodEndpoint(packageArn);
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(seen).toEqual([]);
    const failed = env.cloud.events.failedDeliveries.filter((d) => d.rule === 'to-service');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]).toMatchObject({
      account: PROD_ACCOUNT,
      ok: false,
      error: `not authorized to put the event on ${HOME_BUS}: ${HOME_BUS} has no resource policy: it takes no events from account ${PROD_ACCOUNT}`,
    });
  });

  it('a policy for another source or another account lets nothing in; a statement per account by PutPermission does, until removed', async () => {
    const seen = seenAtHome();
    await forwardToHome();
    await allowProd({ StringEquals: { 'events:source': 'aws.ec2' } });
    const packageArn = await modelFromPackage(env, 'fraud', 'home-model');
    await prodEndpoint(packageArn);
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(seen).toEqual([]);
    expect(env.cloud.events.failedDeliveries.at(-1)?.error).toBe(
      `not authorized to put the event on ${HOME_BUS}: the policy of ${HOME_BUS} allows account ${PROD_ACCOUNT} no events:PutEvents of aws.sagemaker / SageMaker Endpoint State Change`,
    );

    await env.events.send(new RemovePermissionCommand({ RemoveAllPermissions: true }));
    await env.events.send(
      new PutPermissionCommand({
        StatementId: 'other',
        Action: 'events:PutEvents',
        Principal: '999988887777',
      }),
    );
    await prodEndpoint(packageArn, 'second');
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(seen).toEqual([]);

    await env.events.send(
      new PutPermissionCommand({ StatementId: 'prod', Action: 'events:PutEvents', Principal: PROD_ACCOUNT }),
    );
    await prodEndpoint(packageArn, 'third');
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(seen.map((e) => [e.detail.EndpointName, e.detail.EndpointStatus])).toEqual([
      ['third', 'CREATING'],
      ['third', 'IN_SERVICE'],
    ]);

    await env.events.send(new RemovePermissionCommand({ StatementId: 'prod' }));
    await expect(env.events.send(new RemovePermissionCommand({ StatementId: 'prod' }))).rejects.toMatchObject(
      {
        name: 'ResourceNotFoundException',
      },
    );
    await prodEndpoint(packageArn, 'fourth');
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(seen.map((e) => e.detail.EndpointName)).toEqual(['third', 'third']);
  });

  it('refuses a policy with a condition it cannot evaluate, rather than ignore the condition', async () => {
    await expect(allowProd({ StringEquals: { 'aws:PrincipalOrgID': 'o-123' } })).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
      message:
        'The policy is not valid: Statement[0]: condition key aws:PrincipalOrgID is not supported by the local EventBridge',
    });
  });

  it('PutPermission names one account (or *) and events:PutEvents; a policy is described as put', async () => {
    const put = (input: Record<string, unknown>) =>
      env.events.send(new PutPermissionCommand({ StatementId: 's', Action: 'events:PutEvents', ...input }));
    await expect(put({ Principal: PROD_ACCOUNT, Action: 'events:PutRule' })).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Provided value in parameter Action is not supported.',
    });
    await expect(put({ Principal: 'prod' })).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Parameter Principal is not valid.',
    });
    await put({ Principal: PROD_ACCOUNT });
    const policy = JSON.parse((await env.events.send(new DescribeEventBusCommand({}))).Policy!);
    expect(policy.Statement).toEqual([
      {
        Sid: 's',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${PROD_ACCOUNT}:root` },
        Action: 'events:PutEvents',
        Resource: HOME_BUS,
      },
    ]);
  });
});
