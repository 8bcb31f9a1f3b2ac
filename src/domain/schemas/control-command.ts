import { InputValidationError } from '../../errors';
import * as z from '../../zod';
import type { OperatorCommand } from '../model';
import { parseDeploymentId } from '../naming';
import { parseInput } from './parse';

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

/**
 * The body of a command sent to the command URL. There is no actor field: the actor is the
 * principal that signed the request, so a body naming anyone else is refused as an unknown field.
 */
export const commandBodySchema = z
  .strictObject({
    command: operatorVerbSchema,
    deploymentId: deploymentIdSchema,
    reason: z.string().check(z.minLength(1), z.maxLength(1024)),
    requestId: z.string().check(z.minLength(1), z.maxLength(128)),
    /** promote only: skip the remaining canary steps (Argo Rollouts `promote --full`) */
    full: z.optional(z.boolean()),
  })
  .check(
    z.refine((body) => body.full === undefined || body.command === 'promote', {
      message: 'full applies to promote only',
      path: ['full'],
    }),
  );

const principalArnSchema = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$/, 'must be an IAM or STS principal ARN'));

/**
 * A Lambda function URL request (payload format 2.0) with `AuthType: AWS_IAM`: Lambda has
 * verified the SigV4 signature and names the caller in `requestContext.authorizer.iam`. Fields
 * not used here pass through.
 */
export const commandRequestEventSchema = z.looseObject({
  version: z.literal('2.0'),
  rawPath: z.string(),
  requestContext: z.looseObject({
    authorizer: z.looseObject({
      iam: z.looseObject({ userArn: principalArnSchema }),
    }),
    http: z.looseObject({ method: z.string() }),
    requestId: z.string().check(z.minLength(1)),
    timeEpoch: z.number(),
  }),
  headers: z.optional(z.record(z.string(), z.string())),
  body: z.optional(z.string()),
  isBase64Encoded: z.boolean(),
});

export type CommandBody = z.infer<typeof commandBodySchema>;
export type CommandRequestEvent = z.infer<typeof commandRequestEventSchema>;

/** The domain's view of a command: the actor is the verified caller. */
export const toOperatorCommand = (body: CommandBody, principalArn: string): OperatorCommand => ({
  verb: body.command,
  deploymentId: body.deploymentId,
  actor: principalArn,
  reason: body.reason,
  requestId: body.requestId,
  ...(body.full !== undefined ? { full: body.full } : {}),
});

/**
 * The command and its verified caller from a command URL request (no command for a method other
 * than POST); InputValidationError names what is wrong.
 */
export const parseCommandRequest = (
  event: unknown,
): { command: OperatorCommand | undefined; method: string; at: number } => {
  const request = parseInput(commandRequestEventSchema, event, 'command URL request');
  const { method } = request.requestContext.http;
  if (method !== 'POST') return { command: undefined, method, at: request.requestContext.timeEpoch };
  const text =
    request.body === undefined
      ? ''
      : request.isBase64Encoded
        ? Buffer.from(request.body, 'base64').toString('utf8')
        : request.body;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputValidationError('Invalid command: the body must be a JSON object', ['body: not JSON'], {
      cause: error,
    });
  }
  const body = parseInput(commandBodySchema, json, 'command');
  return {
    command: toOperatorCommand(body, request.requestContext.authorizer.iam.userArn),
    method,
    at: request.requestContext.timeEpoch,
  };
};
