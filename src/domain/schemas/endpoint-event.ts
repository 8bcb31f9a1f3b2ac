import * as z from '../../zod';
import type { EndpointObservation } from '../model';
import { eventBridgeEnvelope, sageMakerNameSchema } from './envelope';

export const ENDPOINT_DETAIL_TYPE = 'SageMaker Endpoint State Change';

/**
 * Endpoint status as events spell it (UPPER_SNAKE), mapped to the API spelling (DescribeEndpoint).
 * IN_SERVICE, FAILED, CREATING, UPDATING are documented; the others are the API enum in the
 * same convention.
 */
export const EVENT_ENDPOINT_STATUS = {
  OUT_OF_SERVICE: 'OutOfService',
  CREATING: 'Creating',
  UPDATING: 'Updating',
  SYSTEM_UPDATING: 'SystemUpdating',
  ROLLING_BACK: 'RollingBack',
  IN_SERVICE: 'InService',
  DELETING: 'Deleting',
  FAILED: 'Failed',
  UPDATE_ROLLBACK_FAILED: 'UpdateRollbackFailed',
} as const satisfies Record<string, EndpointObservation['status']>;

export type EventEndpointStatus = keyof typeof EVENT_ENDPOINT_STATUS;

export const eventEndpointStatusSchema = z.enum(
  Object.keys(EVENT_ENDPOINT_STATUS) as [EventEndpointStatus, ...EventEndpointStatus[]],
);

/** The API spelling of an event's status; undefined for a status this service does not know. */
export const apiEndpointStatus = (status: string | undefined): EndpointObservation['status'] | undefined =>
  status !== undefined && Object.hasOwn(EVENT_ENDPOINT_STATUS, status)
    ? EVENT_ENDPOINT_STATUS[status as EventEndpointStatus]
    : undefined;

export const endpointDetailSchema = z.looseObject({
  EndpointName: sageMakerNameSchema,
  EndpointArn: z
    .string()
    .check(
      z.regex(
        /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:endpoint\/[a-zA-Z0-9-]{1,63}$/,
        'must be an endpoint ARN',
      ),
    ),
  EndpointConfigName: sageMakerNameSchema,
  /** only a trigger: DescribeEndpoint is the truth, so a status this service does not know is no error */
  EndpointStatus: z.optional(z.string()),
  /** epoch milliseconds */
  CreationTime: z.number(),
  /** epoch milliseconds */
  LastModifiedTime: z.number(),
  ProductionVariants: z.optional(
    z.array(
      z.looseObject({
        VariantName: z.optional(z.string()),
        DesiredWeight: z.optional(z.number()),
        DesiredInstanceCount: z.optional(z.number()),
        CurrentWeight: z.optional(z.number()),
        CurrentInstanceCount: z.optional(z.number()),
      }),
    ),
  ),
  /** A map in events (not the API's list of Key/Value). */
  Tags: z.optional(z.record(z.string(), z.string())),
  FailureReason: z.optional(z.string()),
});

/** `SageMaker Endpoint State Change` (aws-facts §1b). */
export const endpointEventSchema = eventBridgeEnvelope(
  'aws.sagemaker',
  ENDPOINT_DETAIL_TYPE,
  endpointDetailSchema,
);

export type EndpointDetail = z.infer<typeof endpointDetailSchema>;
export type EndpointEvent = z.infer<typeof endpointEventSchema>;
