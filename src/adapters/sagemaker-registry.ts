import {
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { PackageArtifacts } from '../domain/artifacts';
import type { PackageInfo } from '../domain/model';
import { PermanentError } from '../errors';
import type { ModelRegistry } from '../ports/sagemaker';
import { toRolloutsError } from './aws-errors';
import { sageMakerClient } from './clients';

const APPROVAL_STATUSES = new Set<PackageInfo['approvalStatus']>([
  'Approved',
  'Rejected',
  'PendingManualApproval',
]);

/**
 * Reads of the model registry (DescribeModelPackage, ListModelPackages). Its writes are the
 * executor's (SageMakerRegistryWriter), so no other function's bundle or role carries them.
 */
export class SageMakerModelRegistry implements Omit<ModelRegistry, 'updatePackage'> {
  constructor(private readonly client: SageMakerClient = sageMakerClient()) {}

  async describePackage(packageArn: string): Promise<PackageInfo> {
    const context = { operation: 'SageMaker DescribeModelPackage', resource: packageArn };
    let output: Awaited<ReturnType<typeof this.describe>>;
    try {
      output = await this.describe(packageArn);
    } catch (error) {
      throw toRolloutsError(error, context);
    }
    const group = output.ModelPackageGroupName;
    const version = output.ModelPackageVersion;
    if (!group || version === undefined) {
      throw new PermanentError(`${context.operation} ${packageArn}: not a versioned model package`);
    }
    const status = output.ModelApprovalStatus as PackageInfo['approvalStatus'] | undefined;
    const modified = output.LastModifiedTime ?? output.CreationTime;
    const lifecycle = output.ModelLifeCycle;
    return {
      group,
      version,
      arn: output.ModelPackageArn ?? packageArn,
      approvalStatus: status && APPROVAL_STATUSES.has(status) ? status : 'PendingManualApproval',
      lastModifiedTime: modified ? modified.getTime() : 0,
      lifecycle: lifecycle?.Stage
        ? { stage: lifecycle.Stage, stageStatus: lifecycle.StageStatus ?? '' }
        : undefined,
    };
  }

  /** The image and model data of each of the version's containers, for the pre-flight check. */
  async packageArtifacts(packageArn: string): Promise<PackageArtifacts> {
    let output: Awaited<ReturnType<typeof this.describe>>;
    try {
      output = await this.describe(packageArn);
    } catch (error) {
      throw toRolloutsError(error, { operation: 'SageMaker DescribeModelPackage', resource: packageArn });
    }
    const containers = output.InferenceSpecification?.Containers ?? [];
    if (containers.length === 0) {
      throw new PermanentError(`SageMaker DescribeModelPackage ${packageArn}: the version has no containers`);
    }
    return {
      packageArn: output.ModelPackageArn ?? packageArn,
      containers: containers.map((c, index) => {
        if (!c.Image) {
          throw new PermanentError(
            `SageMaker DescribeModelPackage ${packageArn}: container ${index + 1} names no image`,
          );
        }
        return { image: c.Image, ...(c.ModelDataUrl ? { modelDataUrl: c.ModelDataUrl } : {}) };
      }),
    };
  }

  async newestApproved(group: string): Promise<{ version: number; arn: string } | undefined> {
    try {
      const output = await this.client.send(
        new ListModelPackagesCommand({
          ModelPackageGroupName: group,
          ModelApprovalStatus: 'Approved',
          SortBy: 'CreationTime',
          SortOrder: 'Descending',
          MaxResults: 1,
        }),
      );
      const arn = output.ModelPackageSummaryList?.[0]?.ModelPackageArn;
      const version = Number(arn?.split('/').pop());
      return arn && Number.isInteger(version) ? { version, arn } : undefined;
    } catch (error) {
      throw toRolloutsError(error, { operation: 'SageMaker ListModelPackages', resource: group });
    }
  }

  private describe(packageArn: string) {
    return this.client.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn }));
  }
}
