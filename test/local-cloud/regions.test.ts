import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../src/local/cloud';
import { closeAll, type Env, modelFromPackage, setup, T0 } from './helpers';

const EU = 'eu-west-1';

/** A model from an image (another region has no package to make it from), a config and an endpoint. */
async function endpointIn(sm: SageMakerClient, name: string, tags: Record<string, string> = {}) {
  await sm.send(
    new CreateModelCommand({
      ModelName: `${name}-model`,
      ExecutionRoleArn: 'arn:aws:iam::111122223333:role/sm',
      Containers: [{ Image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/img:1' }],
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  await sm.send(
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
  return sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-cfg` }));
}

describe('regions of the local cloud', () => {
  let env: Env;
  let sm: SageMakerClient;
  let runtime: SageMakerRuntimeClient;
  let cw: CloudWatchClient;
  let events: EventBridgeClient;
  beforeEach(async () => {
    env = await setup();
    const config = { ...env.config, region: EU };
    sm = new SageMakerClient(config);
    runtime = new SageMakerRuntimeClient(config);
    cw = new CloudWatchClient(config);
    events = new EventBridgeClient(config);
  });
  afterEach(async () => {
    for (const client of [sm, runtime, cw, events]) client.destroy();
    await closeAll(env);
  });

  it('an endpoint lives in the region its request was signed for, with that region in its ARN', async () => {
    const created = await endpointIn(sm, 'prod');
    expect(created.EndpointArn).toBe('arn:aws:sagemaker:eu-west-1:111122223333:endpoint/prod');
    env.cloud.advance(5 * 60_000);
    expect((await sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).EndpointStatus).toBe(
      'InService',
    );
    await expect(env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Could not find endpoint "arn:aws:sagemaker:us-east-1:111122223333:endpoint/prod".',
    });
    await expect(
      env.runtime.send(new InvokeEndpointCommand({ EndpointName: 'prod', Body: '{}' })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    expect(env.cloud.sagemaker.endpoints.has('prod')).toBe(false);
    expect(env.cloud.inRegion(EU).sagemaker.endpoints.get('prod')?.region).toBe(EU);
    // the same name is free in the other region
    await modelFromPackage(env, 'g', 'home-model');
    const home = await env.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'prod-cfg',
        ProductionVariants: [
          {
            VariantName: 'blue',
            ModelName: 'home-model',
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
          },
        ],
      }),
    );
    expect(home.EndpointConfigArn).toBe('arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/prod-cfg');
    const changes = env.cloud.changes.filter((c) => c.kind === 'config');
    expect(changes.map((c) => c.region)).toEqual([EU, 'us-east-1']);
  });

  it('the registry stays in its home region: another region finds no such package, and cannot make a model of it', async () => {
    const packageArn = await modelFromPackage(env, 'fraud', 'home-model');
    expect(packageArn).toBe('arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/1');
    await expect(
      sm.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: `ModelPackage ${packageArn} does not exist.`,
    });
    await expect(
      sm.send(
        new CreateModelCommand({
          ModelName: 'eu-model',
          ExecutionRoleArn: 'arn:aws:iam::111122223333:role/sm',
          Containers: [{ ModelPackageName: packageArn }],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: `ModelPackage ${packageArn} does not exist.`,
    });
  });

  it('CloudWatch metrics and alarms are per region', async () => {
    await endpointIn(sm, 'prod');
    env.cloud.advance(5 * 60_000);
    env.cloud.inRegion(EU).traffic.set('prod', 60);
    env.cloud.inRegion(EU).cloudwatch.setAlarmState('eu-kpi', 'OK');
    env.cloud.advance(10 * 60_000);
    const invocations = (client: CloudWatchClient) =>
      client.send(
        new GetMetricDataCommand({
          StartTime: new Date(T0),
          EndTime: new Date(T0 + 20 * 60_000),
          MetricDataQueries: [
            {
              Id: 'n',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/SageMaker',
                  MetricName: 'Invocations',
                  Dimensions: [
                    { Name: 'EndpointName', Value: 'prod' },
                    { Name: 'VariantName', Value: 'blue' },
                  ],
                },
                Period: 60,
                Stat: 'Sum',
              },
            },
          ],
        }),
      );
    const sum = (out: Awaited<ReturnType<typeof invocations>>) =>
      (out.MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
    expect(sum(await invocations(cw))).toBeGreaterThan(0);
    expect(sum(await invocations(env.cw))).toBe(0);
    const alarms = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['eu-kpi'] }));
    expect(alarms.MetricAlarms?.[0]?.AlarmArn).toBe('arn:aws:cloudwatch:eu-west-1:111122223333:alarm:eu-kpi');
    const home = await env.cw.send(new DescribeAlarmsCommand({ AlarmNames: ['eu-kpi'] }));
    expect(home.MetricAlarms ?? []).toEqual([]);
  });

  it('a region’s SageMaker events go to its own default bus; a rule there targeting another region’s bus delivers them there', async () => {
    const seen: CloudEvent[] = [];
    env.cloud.events.addRule({
      name: 'home-endpoints',
      pattern: { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint State Change'] },
      target: (event) => {
        seen.push(event);
      },
    });
    await endpointIn(sm, 'prod');
    await env.cloud.drain();
    expect(seen).toEqual([]);
    const failures = env.cloud.events.failedDeliveries.length;

    await events.send(
      new PutRuleCommand({
        Name: 'to-home',
        EventPattern: JSON.stringify({ source: ['aws.sagemaker'] }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: 'to-home',
        Targets: [
          {
            Id: 'home',
            Arn: 'arn:aws:events:us-east-1:111122223333:event-bus/default',
            RoleArn: 'arn:aws:iam::111122223333:role/forward-to-home',
          },
        ],
      }),
    );
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(seen.map((e) => [e.region, e.detail.EndpointStatus, e.resources[0]])).toEqual([
      [EU, 'IN_SERVICE', 'arn:aws:sagemaker:eu-west-1:111122223333:endpoint/prod'],
    ]);
    expect(env.cloud.events.failedDeliveries.length).toBe(failures);
    expect(
      env.cloud.events.deliveries.filter((d) => d.rule === 'to-home').map((d) => [d.region, d.ok]),
    ).toEqual([[EU, true]]);
  });

  it('a bus of another region is a target only with a role for EventBridge to put events there', async () => {
    await events.send(
      new PutRuleCommand({ Name: 'no-role', EventPattern: JSON.stringify({ source: ['aws.sagemaker'] }) }),
    );
    await expect(
      events.send(
        new PutTargetsCommand({
          Rule: 'no-role',
          Targets: [{ Id: 'home', Arn: 'arn:aws:events:us-east-1:111122223333:event-bus/default' }],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Cross-region API call is not allowed.',
    });
    await endpointIn(sm, 'prod');
    env.cloud.advance(5 * 60_000);
    await env.cloud.drain();
    expect(env.cloud.events.deliveries.filter((d) => d.rule === 'no-role')).toEqual([]);
  });

  it('a rule whose target is a bus that does not exist records a failed delivery, naming the bus', async () => {
    await events.send(
      new PutRuleCommand({ Name: 'to-nowhere', EventPattern: JSON.stringify({ source: ['aws.sagemaker'] }) }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: 'to-nowhere',
        Targets: [
          {
            Id: 'x',
            Arn: 'arn:aws:events:us-east-1:111122223333:event-bus/missing',
            RoleArn: 'arn:aws:iam::111122223333:role/forward-to-home',
          },
        ],
      }),
    );
    await endpointIn(sm, 'prod');
    await env.cloud.drain();
    expect(env.cloud.events.failedDeliveries.map((d) => d.error)).toEqual([
      'target event bus arn:aws:events:us-east-1:111122223333:event-bus/missing does not exist',
    ]);
  });

  it('a request signed for a region name AWS does not have is refused, naming it', async () => {
    const nowhere = new SageMakerClient({ ...env.config, region: 'moon-base' });
    await expect(nowhere.send(new DescribeEndpointCommand({ EndpointName: 'prod' }))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'The local cloud has no region named "moon-base".',
    });
    nowhere.destroy();
  });
});
