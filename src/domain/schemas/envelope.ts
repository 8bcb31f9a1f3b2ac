import * as z from '../../zod';

/** SageMaker resource names (endpoints, groups, configs): 1-63 letters, digits, inner hyphens. */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
export const sageMakerNameSchema = z
  .string()
  .check(
    z.regex(SAGEMAKER_NAME, 'must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen'),
  );

export const accountIdSchema = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'));

/**
 * The EventBridge envelope. The fields we use are checked; the rest passes through, so a new
 * field added by AWS never makes an event invalid.
 */
export const eventBridgeEnvelope = <
  Source extends string,
  DetailType extends string,
  Detail extends z.core.$ZodType,
>(
  source: Source,
  detailType: DetailType,
  detail: Detail,
) =>
  z.looseObject({
    version: z.string(),
    id: z.string().check(z.minLength(1)),
    'detail-type': z.literal(detailType),
    source: z.literal(source),
    account: accountIdSchema,
    time: z.iso.datetime({ offset: true }),
    region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region')),
    resources: z.array(z.string()),
    detail,
  });
