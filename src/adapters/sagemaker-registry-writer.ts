import {
  type SageMakerClient,
  UpdateModelPackageCommand,
  type UpdateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { PermanentError, TransientError } from '../errors';
import type { PackageUpdate, RegistryWriter } from '../ports/sagemaker';
import { errorCode, toRolloutsError } from './aws-errors';
import { sageMakerClient } from './clients';

/** ModelLifeCycle Stage and StageStatus, as SageMaker validates them. */
export const LIFECYCLE_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const MAX_DESCRIPTION = 1024;

/** UpdateModelPackage: lifecycle stages and rejections, carried out by the executor alone. */
export class SageMakerRegistryWriter implements RegistryWriter {
  /** Without a client, the shared one of the moment (the executor's module outlives client resets). */
  constructor(private readonly client?: SageMakerClient) {}

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
      await (this.client ?? sageMakerClient()).send(new UpdateModelPackageCommand(input));
    } catch (error) {
      const context = { operation: 'SageMaker UpdateModelPackage', resource: packageArn };
      // Its only modeled error: a concurrent update of the same package. Retrying later succeeds.
      if (errorCode(error) === 'ConflictException') {
        throw new TransientError(toRolloutsError(error, context).message, { cause: error });
      }
      throw toRolloutsError(error, context);
    }
  }
}
