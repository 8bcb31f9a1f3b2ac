import {
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  type SageMakerClient,
  UpdateModelPackageCommand,
  type UpdateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import type { PackageInfo } from '../domain/model';
import { PermanentError, TransientError } from '../errors';
import type { ModelRegistry, PackageUpdate } from '../ports/sagemaker';
import { errorCode, toRolloutsError } from './aws-errors';
import { sageMakerClient } from './clients';

/** ModelLifeCycle Stage and StageStatus, as SageMaker validates them. */
export const LIFECYCLE_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const MAX_DESCRIPTION = 1024;

const APPROVAL_STATUSES = new Set<PackageInfo['approvalStatus']>([
  'Approved',
  'Rejected',
  'PendingManualApproval',
]);

/** The model registry through DescribeModelPackage / ListModelPackages / UpdateModelPackage. */
export class SageMakerModelRegistry implements ModelRegistry {
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

  async updatePackage(packageArn: string, update: PackageUpdate): Promise<void> {
    const input: UpdateModelPackageCommandInput = { ModelPackageArn: packageArn };
    if (update.lifecycle) {
      const { stage, stageStatus, description } = update.lifecycle;
      for (const [field, value] of [
        ['Stage', stage],
        ['StageStatus', stageStatus],
      ] as const) {
        if (!LIFECYCLE_NAME.test(value)) {
          throw new PermanentError(
            `ModelLifeCycle.${field} "${value}" for ${packageArn} must be 1-63 letters, digits or inner hyphens`,
          );
        }
      }
      input.ModelLifeCycle = {
        Stage: stage,
        StageStatus: stageStatus,
        ...(description !== undefined ? { StageDescription: description.slice(0, MAX_DESCRIPTION) } : {}),
      };
    }
    if (update.approvalStatus) input.ModelApprovalStatus = update.approvalStatus;
    if (update.approvalDescription !== undefined) {
      input.ApprovalDescription = update.approvalDescription.slice(0, MAX_DESCRIPTION);
    }
    try {
      await this.client.send(new UpdateModelPackageCommand(input));
    } catch (error) {
      const context = { operation: 'SageMaker UpdateModelPackage', resource: packageArn };
      // Its only modeled error: a concurrent update of the same package. Retrying later succeeds.
      if (errorCode(error) === 'ConflictException') {
        throw new TransientError(toRolloutsError(error, context).message, { cause: error });
      }
      throw toRolloutsError(error, context);
    }
  }

  private describe(packageArn: string) {
    return this.client.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn }));
  }
}
