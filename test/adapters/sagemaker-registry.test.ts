import {
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SageMakerModelRegistry } from '../../src/adapters/sagemaker-registry';
import { SageMakerRegistryWriter } from '../../src/adapters/sagemaker-registry-writer';
import { PermanentError, TransientError } from '../../src/errors';
import { awsError, throttled } from './aws-fakes';

const sm = mockClient(SageMakerClient);
const ARN = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3';
let registry: SageMakerModelRegistry;
let writer: SageMakerRegistryWriter;

beforeEach(() => {
  sm.reset();
  registry = new SageMakerModelRegistry(new SageMakerClient({ region: 'us-east-1' }));
  writer = new SageMakerRegistryWriter(new SageMakerClient({ region: 'us-east-1' }));
});

// the worker's process runs other files after this one: their clients must reach the real SDK
afterAll(() => {
  sm.restore();
});

describe('describePackage', () => {
  it('reads the package from DescribeModelPackage', async () => {
    sm.on(DescribeModelPackageCommand, { ModelPackageName: ARN }).resolves({
      $metadata: {},
      ModelPackageGroupName: 'churn',
      ModelPackageVersion: 3,
      ModelPackageArn: ARN,
      ModelPackageName: 'churn',
      ModelPackageStatus: 'Completed',
      ModelApprovalStatus: 'Approved',
      CreationTime: new Date('2024-01-01T00:00:00Z'),
      LastModifiedTime: new Date('2024-01-01T00:05:00Z'),
      ModelLifeCycle: { Stage: 'QA', StageStatus: 'Deployed', StageDescription: 'on churn-qa' },
    });
    expect(await registry.describePackage(ARN)).toEqual({
      group: 'churn',
      version: 3,
      arn: ARN,
      approvalStatus: 'Approved',
      lastModifiedTime: Date.parse('2024-01-01T00:05:00Z'),
      lifecycle: { stage: 'QA', stageStatus: 'Deployed' },
    });
  });

  it('maps errors', async () => {
    sm.on(DescribeModelPackageCommand)
      .rejectsOnce(throttled())
      .rejects(awsError('ValidationException', 'ModelPackage does not exist.'));
    await expect(registry.describePackage(ARN)).rejects.toBeInstanceOf(TransientError);
    await expect(registry.describePackage(ARN)).rejects.toBeInstanceOf(PermanentError);
  });
});

describe('updatePackage', () => {
  it('sends ModelLifeCycle and approval fields', async () => {
    await writer.updatePackage(ARN, {
      lifecycle: { stage: 'Production', stageStatus: 'Deployed', description: 'serving 100% on churn-prod' },
    });
    await writer.updatePackage(ARN, { approvalStatus: 'Rejected', approvalDescription: 'x'.repeat(2000) });
    expect(sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input)).toEqual([
      {
        ModelPackageArn: ARN,
        ModelLifeCycle: {
          Stage: 'Production',
          StageStatus: 'Deployed',
          StageDescription: 'serving 100% on churn-prod',
        },
      },
      { ModelPackageArn: ARN, ModelApprovalStatus: 'Rejected', ApprovalDescription: 'x'.repeat(1024) },
    ]);
  });

  it('refuses Stage/StageStatus values SageMaker would reject, without calling it', async () => {
    await expect(
      writer.updatePackage(ARN, { lifecycle: { stage: 'Prod_Stage', stageStatus: 'Deployed' } }),
    ).rejects.toBeInstanceOf(PermanentError);
    await expect(
      writer.updatePackage(ARN, { lifecycle: { stage: 'QA', stageStatus: '-InProgress' } }),
    ).rejects.toBeInstanceOf(PermanentError);
    expect(sm).not.toHaveReceivedCommand(UpdateModelPackageCommand);
  });

  it('retries a concurrent update (ConflictException) later; access denied is permanent', async () => {
    sm.on(UpdateModelPackageCommand)
      .rejectsOnce(awsError('ConflictException', 'concurrent update'))
      .rejects(awsError('AccessDeniedException', 'denied'));
    await expect(writer.updatePackage(ARN, { approvalStatus: 'Rejected' })).rejects.toBeInstanceOf(
      TransientError,
    );
    await expect(writer.updatePackage(ARN, { approvalStatus: 'Rejected' })).rejects.toBeInstanceOf(
      PermanentError,
    );
  });
});

describe('newestApproved', () => {
  it('asks ListModelPackages for the newest Approved version of the group', async () => {
    sm.on(ListModelPackagesCommand).resolves({
      $metadata: {},
      ModelPackageSummaryList: [
        {
          ModelPackageArn: ARN,
          ModelPackageGroupName: 'churn',
          ModelPackageVersion: 3,
          CreationTime: new Date('2024-01-01T00:00:00Z'),
          ModelPackageStatus: 'Completed',
        },
      ],
    });
    expect(await registry.newestApproved('churn')).toEqual({ version: 3, arn: ARN });
    expect(sm).toHaveReceivedCommandWith(ListModelPackagesCommand, {
      ModelPackageGroupName: 'churn',
      ModelApprovalStatus: 'Approved',
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
      MaxResults: 1,
    });
  });

  it('is undefined without an Approved version, and maps throttling to TransientError', async () => {
    sm.on(ListModelPackagesCommand).resolvesOnce({ $metadata: {}, ModelPackageSummaryList: [] });
    expect(await registry.newestApproved('churn')).toBeUndefined();
    sm.on(ListModelPackagesCommand).rejects(throttled());
    await expect(registry.newestApproved('churn')).rejects.toBeInstanceOf(TransientError);
  });
});
