import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAll, type Env, setup, T0 } from './helpers';

describe('model registry', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
  });
  afterEach(async () => closeAll(env));

  it('numbers versions per group and emits a state-change event for every change', async () => {
    const { sm, cloud } = env;
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'Churn-Model' }));
    const v1 = await sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'Churn-Model' }));
    const v2 = await sm.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: 'Churn-Model',
        CustomerMetadataProperties: { 'sim.errorRate': '0.1' },
      }),
    );
    expect(v1.ModelPackageArn).toBe('arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model/1');
    expect(v2.ModelPackageArn).toBe('arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model/2');

    cloud.advance(60_000);
    await sm.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: v2.ModelPackageArn,
        ModelApprovalStatus: 'Approved',
        ApprovalDescription: 'looks good',
      }),
    );
    await sm.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: v2.ModelPackageArn,
        ModelLifeCycle: { Stage: 'QA', StageStatus: 'InProgress' },
        CustomerMetadataPropertiesToRemove: ['sim.errorRate'],
      }),
    );

    const events = cloud.events.published.filter(
      (e) => e['detail-type'] === 'SageMaker Model Package State Change',
    );
    expect(events.map((e) => [e.detail.ModelPackageVersion, e.detail.ModelApprovalStatus])).toEqual([
      [1, 'PendingManualApproval'],
      [2, 'PendingManualApproval'],
      [2, 'Approved'],
      [2, 'Approved'],
    ]);
    const approved = events[2]!;
    expect(approved).toMatchObject({
      version: '0',
      source: 'aws.sagemaker',
      account: '111122223333',
      region: 'us-east-1',
      time: '2024-01-01T00:01:00Z',
      resources: [v2.ModelPackageArn],
      detail: {
        ModelPackageGroupName: 'Churn-Model',
        ModelPackageArn: v2.ModelPackageArn,
        CreationTime: '2024-01-01T00:00:00Z',
        LastModifiedTime: '2024-01-01T00:01:00Z',
        ModelPackageStatus: 'Completed',
      },
    });
    expect(events[3]!.detail.ModelLifeCycle).toEqual({ Stage: 'QA', StageStatus: 'InProgress' });

    const described = await sm.send(
      new DescribeModelPackageCommand({ ModelPackageName: v2.ModelPackageArn }),
    );
    expect(described.ModelApprovalStatus).toBe('Approved');
    expect(described.ApprovalDescription).toBe('looks good');
    expect(described.ModelLifeCycle).toEqual({ Stage: 'QA', StageStatus: 'InProgress' });
    expect(described.CustomerMetadataProperties).toBeUndefined();
    expect(described.ModelPackageVersion).toBe(2);
    expect(described.CreationTime?.getTime()).toBe(T0);
    expect(described.LastModifiedTime?.getTime()).toBe(T0 + 60_000);
  });

  it('lists packages with filters and rejects unknown packages', async () => {
    const { sm } = env;
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'g' }));
    await sm.send(
      new CreateModelPackageCommand({ ModelPackageGroupName: 'g', ModelApprovalStatus: 'Approved' }),
    );
    await sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'g' }));
    const approved = await sm.send(
      new ListModelPackagesCommand({ ModelPackageGroupName: 'g', ModelApprovalStatus: 'Approved' }),
    );
    expect(approved.ModelPackageSummaryList?.map((p) => p.ModelPackageVersion)).toEqual([1]);
    const desc = await sm.send(
      new ListModelPackagesCommand({ ModelPackageGroupName: 'g', SortOrder: 'Descending' }),
    );
    expect(desc.ModelPackageSummaryList?.map((p) => p.ModelPackageVersion)).toEqual([2, 1]);

    const missing = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/g/9';
    await expect(
      sm.send(new DescribeModelPackageCommand({ ModelPackageName: missing })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: `ModelPackage ${missing} does not exist.`,
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe('customer metadata as the SageMaker model says (CustomerMetadataMap)', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
    await env.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'g' }));
  });
  afterEach(async () => closeAll(env));

  const create = (metadata: Record<string, string>) =>
    env.sm.send(
      new CreateModelPackageCommand({ ModelPackageGroupName: 'g', CustomerMetadataProperties: metadata }),
    );

  it('keeps letters, digits, spaces and _.:/=+-@ in keys and values', async () => {
    const metadata = { 'sim.container': 'http://127.0.0.1:8080/x=+-@', 'team name': 'Ünïcode 42' };
    const { ModelPackageArn } = await create(metadata);
    const described = await env.sm.send(
      new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }),
    );
    expect(described.CustomerMetadataProperties).toEqual(metadata);
  });

  it.each([
    ['a JSON value', { response: '{"predictions":[0.5]}' }],
    ['a comma in a value', { a: 'x,y' }],
    ['a quote in a key', { 'a"b': 'x' }],
  ])('refuses %s, on create and on update', async (_why, metadata) => {
    await expect(create(metadata)).rejects.toThrow(/regular expression pattern/);
    const { ModelPackageArn } = await create({ ok: 'yes' });
    await expect(
      env.sm.send(new UpdateModelPackageCommand({ ModelPackageArn, CustomerMetadataProperties: metadata })),
    ).rejects.toThrow(/regular expression pattern/);
    const described = await env.sm.send(
      new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }),
    );
    expect(described.CustomerMetadataProperties).toEqual({ ok: 'yes' });
  });

  it('refuses more than 50 entries', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    await expect(create(metadata)).rejects.toThrow(/less than or equal to 50/);
  });
});
