import {
  CreateEventBusCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateModelPackageGroupCommand,
  DescribeModelPackageGroupCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../src/local/cloud';
import { closeAll, type Env, setup, T0 } from './helpers';

describe('EventBridge delivery', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
  });
  afterEach(async () => closeAll(env));

  it('queues events until drain, delivers events produced while delivering, retries failing targets', async () => {
    const { cloud, events, sm } = env;
    await events.send(new CreateEventBusCommand({ Name: 'rollouts' }));
    const seen: string[] = [];
    cloud.events.addRule({
      name: 'sagemaker-to-bus',
      pattern: { source: ['test.sagemaker'] },
      target: async (e: CloudEvent) => {
        seen.push(`sm:${e.detail.ModelPackageGroupName}`);
        await events.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: 'rollouts',
                Source: 'sagemaker-rollouts',
                DetailType: 'Echo',
                Detail: '{"n":1}',
              },
            ],
          }),
        );
      },
    });
    let attempts = 0;
    cloud.events.addRule({
      name: 'flaky',
      busName: 'rollouts',
      pattern: { 'detail-type': ['Echo'] },
      maxAttempts: 3,
      target: () => {
        attempts++;
        throw new Error('boom');
      },
    });
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'g' }));
    await sm.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'g' }));
    expect(seen).toEqual([]);
    const bad = await events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: 'nope', Source: 's', DetailType: 'd', Detail: '{}' }],
      }),
    );
    expect(bad.FailedEntryCount).toBe(1);
    expect(bad.Entries?.[0]?.ErrorCode).toBe('ResourceNotFoundException');
    // aws.* sources are AWS's own; entries of 256 KB or more are refused (each entry on its own)
    const refused = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'aws.sagemaker', DetailType: 'd', Detail: '{}' },
          { Source: 's', DetailType: 'd', Detail: JSON.stringify({ x: 'x'.repeat(256 * 1024) }) },
          { Source: 's', DetailType: 'd', Detail: JSON.stringify({ x: 'x'.repeat(255 * 1024) }) },
        ],
      }),
    );
    expect(refused.Entries?.map((e) => e.ErrorCode)).toEqual([
      'NotAuthorizedForSourceException',
      'InvalidArgument',
      undefined,
    ]);
    expect(refused.FailedEntryCount).toBe(2);
    // Group creation emits nothing; a package would. Put one event on the default bus by hand.
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'test.sagemaker',
            DetailType: 'Test',
            Detail: '{"ModelPackageGroupName":"g"}',
            Resources: ['r'],
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    expect(put.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    await cloud.drain();
    expect(seen).toEqual(['sm:g']);
    expect(attempts).toBe(3);
    expect(cloud.events.failedDeliveries).toMatchObject([
      { rule: 'flaky', attempts: 3, ok: false, error: 'boom' },
    ]);
    expect(cloud.events.published.map((e) => e['detail-type'])).toEqual(['d', 'Test', 'Echo']);
    expect(cloud.events.published[1]).toMatchObject({
      time: '2024-01-01T00:00:00Z',
      resources: ['r'],
      account: '111122223333',
    });
  });

  it('delivers to SQS targets set up with PutRule/PutTargets', async () => {
    const { cloud, events, sqs } = env;
    const q = await sqs.send(new CreateQueueCommand({ QueueName: 'audit' }));
    const arn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    await events.send(
      new PutRuleCommand({ Name: 'audit', EventPattern: JSON.stringify({ source: [{ prefix: 'sage' }] }) }),
    );
    await events.send(new PutTargetsCommand({ Rule: 'audit', Targets: [{ Id: 'q', Arn: arn }] }));
    await expect(
      events.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source":"x"}' })),
    ).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
    });
    await events.send(
      new PutEventsCommand({
        Entries: [{ Source: 'sagemaker-rollouts', DetailType: 'Promoted', Detail: '{"v":2}' }],
      }),
    );
    await cloud.drain();
    const [record] = cloud.sqs.receiveBatch('audit');
    expect(JSON.parse(record!.body)).toMatchObject({ 'detail-type': 'Promoted', detail: { v: 2 } });
  });
});

describe('fault injection, call recording and STS', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
  });
  afterEach(async () => closeAll(env));

  it('injects throttling a given number of times, which the SDK sees as throttling', async () => {
    const { cloud, sm } = env;
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'g' }));
    cloud.resetCalls();
    cloud.faults.add({
      service: 'sagemaker',
      operation: 'DescribeModelPackageGroup',
      error: 'ThrottlingException',
      times: 2,
    });
    const describe = () => sm.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'g' }));
    const err = await describe().catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(describe()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(describe()).resolves.toMatchObject({ ModelPackageGroupName: 'g' });
    expect(cloud.callCounts()).toEqual({ DescribeModelPackageGroup: 3 });
    expect(cloud.calls.map((c) => c.error)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      undefined,
    ]);
    expect(cloud.calls[0]).toMatchObject({ service: 'sagemaker', at: T0, callerAccessKeyId: 'test' });

    // The SDK's own error classification sees the injected errors as THROTTLING / TRANSIENT and retries them.
    const errorTypes: string[] = [];
    const token = (n: number) => ({ getRetryCount: () => n, getRetryDelay: () => 0 });
    const retryStrategy = {
      mode: 'standard',
      acquireInitialRetryToken: async () => token(0),
      refreshRetryTokenForRetry: async (t: { getRetryCount(): number }, info: { errorType: string }) => {
        errorTypes.push(info.errorType);
        if (t.getRetryCount() >= 3) throw new Error('no more retries');
        return token(t.getRetryCount() + 1);
      },
      recordSuccess: () => undefined,
    };
    cloud.faults.add({ operation: 'DescribeModelPackageGroup', error: 'ThrottlingException', times: 1 });
    cloud.faults.add({ operation: 'DescribeModelPackageGroup', error: 'ServiceUnavailable', times: 1 });
    const retrying = new SageMakerClient({ ...env.config, retryStrategy });
    await expect(
      retrying.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'g' })),
    ).resolves.toMatchObject({ ModelPackageGroupName: 'g' });
    expect(errorTypes).toEqual(['THROTTLING', 'TRANSIENT']);
    retrying.destroy();
    cloud.faults.clear();
  });

  it('a fault aimed at one resource fails only the calls that name it', async () => {
    const { cloud, sm } = env;
    for (const name of ['one', 'other']) {
      await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: name }));
    }
    const remove = cloud.faults.add({
      service: 'sagemaker',
      operation: 'DescribeModelPackageGroup',
      resource: 'other',
      error: 'ValidationException',
      message: 'refused for this one',
    });
    const describe = (name: string) =>
      sm.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: name }));
    await expect(describe('one')).resolves.toMatchObject({ ModelPackageGroupName: 'one' });
    await expect(describe('other')).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'refused for this one',
    });
    remove();
    await expect(describe('other')).resolves.toMatchObject({ ModelPackageGroupName: 'other' });
  });

  it('AssumeRole returns ASIA credentials expiring in an hour of virtual time, and records the role', async () => {
    const { cloud, sts } = env;
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::444455556666:role/deployer',
        RoleSessionName: 'rollouts',
        ExternalId: 'ext-123',
      }),
    );
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(out.Credentials?.Expiration?.getTime()).toBe(T0 + 3_600_000);
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::444455556666:assumed-role/deployer/rollouts');
    expect(cloud.sts.calls).toMatchObject([
      {
        roleArn: 'arn:aws:iam::444455556666:role/deployer',
        externalId: 'ext-123',
        accessKeyId: out.Credentials?.AccessKeyId,
      },
    ]);

    const assumed = new SageMakerClient({
      endpoint: cloud.url,
      region: 'eu-west-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: out.Credentials!.AccessKeyId!,
        secretAccessKey: out.Credentials!.SecretAccessKey!,
        sessionToken: out.Credentials!.SessionToken!,
      },
    });
    const group = await assumed.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'x' }));
    expect(group.ModelPackageGroupArn).toBe('arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/x');
    expect(cloud.calls.at(-1)).toMatchObject({
      callerAccessKeyId: out.Credentials?.AccessKeyId,
      region: 'eu-west-1',
    });
    expect(cloud.sts.roleOf(cloud.calls.at(-1)!.callerAccessKeyId!)).toBe(
      'arn:aws:iam::444455556666:role/deployer',
    );
    assumed.destroy();

    await expect(
      sts.send(new AssumeRoleCommand({ RoleArn: 'nope', RoleSessionName: 's1' })),
    ).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });
});
