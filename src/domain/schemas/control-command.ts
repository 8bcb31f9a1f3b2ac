import * as z from '../../zod';
import type { OperatorCommand } from '../model';
import { parseDeploymentId } from '../naming';
import { eventBridgeEnvelope } from './envelope';

export const CONTROL_SOURCE = 'sagemaker-rollouts.control';
export const CONTROL_DETAIL_TYPE = 'Rollout Command';

export const operatorVerbSchema = z.enum(['promote', 'pause', 'resume', 'abort', 'rollback', 'retry']);

export const deploymentIdSchema = z.string().check(
  z.refine(
    (id) => {
      const parsed = parseDeploymentId(id);
      return parsed !== undefined && parsed.version >= 1 && parsed.attempt >= 1;
    },
    { message: 'must be <group>:v<version> or <group>:v<version>#<attempt>' },
  ),
);

export const controlDetailSchema = z
  .strictObject({
    command: operatorVerbSchema,
    deploymentId: deploymentIdSchema,
    actor: z.string().check(z.minLength(1), z.maxLength(128)),
    reason: z.string().check(z.minLength(1), z.maxLength(1024)),
    requestId: z.string().check(z.minLength(1), z.maxLength(128)),
    /** promote only: skip the remaining canary steps (Argo Rollouts `promote --full`) */
    full: z.optional(z.boolean()),
  })
  .check(
    z.refine((detail) => detail.full === undefined || detail.command === 'promote', {
      message: 'full applies to promote only',
      path: ['full'],
    }),
  );

/** An operator command, put on the service bus by the CLI or another system. */
export const controlCommandEventSchema = eventBridgeEnvelope(
  CONTROL_SOURCE,
  CONTROL_DETAIL_TYPE,
  controlDetailSchema,
);

export type ControlDetail = z.infer<typeof controlDetailSchema>;
export type ControlCommandEvent = z.infer<typeof controlCommandEventSchema>;

/** The domain's view of a parsed command event. */
export const toOperatorCommand = (event: ControlCommandEvent): OperatorCommand => ({
  verb: event.detail.command,
  deploymentId: event.detail.deploymentId,
  actor: event.detail.actor,
  reason: event.detail.reason,
  requestId: event.detail.requestId,
  ...(event.detail.full !== undefined ? { full: event.detail.full } : {}),
});
