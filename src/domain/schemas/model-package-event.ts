import * as z from '../../zod';
import { eventBridgeEnvelope, sageMakerNameSchema } from './envelope';

export const MODEL_PACKAGE_DETAIL_TYPE = 'SageMaker Model Package State Change';

/** arn:aws:sagemaker:<region>:<account>:model-package/<group, lower case>/<version> */
export const MODEL_PACKAGE_ARN =
  /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/([a-zA-Z0-9-]{1,63})\/(\d+)$/;

export const modelApprovalStatusSchema = z.enum(['Approved', 'Rejected', 'PendingManualApproval']);

export const modelPackageDetailSchema = z
  .looseObject({
    ModelPackageGroupName: sageMakerNameSchema,
    ModelPackageVersion: z.int().check(z.minimum(1)),
    ModelPackageArn: z.string().check(z.regex(MODEL_PACKAGE_ARN, 'must be a versioned model package ARN')),
    ModelApprovalStatus: modelApprovalStatusSchema,
    ModelPackageStatus: z.optional(z.string()),
    CreationTime: z.optional(z.string()),
    LastModifiedTime: z.optional(z.string()),
    ModelLifeCycle: z.optional(
      z.looseObject({
        Stage: z.string(),
        StageStatus: z.string(),
        StageDescription: z.optional(z.string()),
      }),
    ),
  })
  .check(
    z.superRefine((detail, ctx) => {
      const match = MODEL_PACKAGE_ARN.exec(detail.ModelPackageArn);
      if (!match) return;
      if (match[1]!.toLowerCase() !== detail.ModelPackageGroupName.toLowerCase()) {
        ctx.addIssue({
          code: 'custom',
          path: ['ModelPackageArn'],
          message: `names group ${match[1]}, not ${detail.ModelPackageGroupName}`,
        });
      }
      if (Number(match[2]) !== detail.ModelPackageVersion) {
        ctx.addIssue({
          code: 'custom',
          path: ['ModelPackageArn'],
          message: `names version ${match[2]}, not ${detail.ModelPackageVersion}`,
        });
      }
    }),
  );

/** `SageMaker Model Package State Change` (aws-facts §1a). A trigger only: re-read the package. */
export const modelPackageEventSchema = eventBridgeEnvelope(
  'aws.sagemaker',
  MODEL_PACKAGE_DETAIL_TYPE,
  modelPackageDetailSchema,
);

export type ModelApprovalStatus = z.infer<typeof modelApprovalStatusSchema>;
export type ModelPackageDetail = z.infer<typeof modelPackageDetailSchema>;
export type ModelPackageEvent = z.infer<typeof modelPackageEventSchema>;
