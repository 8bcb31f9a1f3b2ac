import { STAGE_NAME } from '../../config/schema';
import { InputValidationError } from '../../errors';
import * as z from '../../zod';
import type { OperatorCommand } from '../model';
import { parseDeploymentId } from '../naming';
import { IDENTITY_HEADER } from './identity-proof';
import { parseInput } from './parse';

export const operatorVerbSchema = z.enum(['promote', 'pause', 'resume', 'abort', 'rollback', 'retry']);

/** `<group>:v<version>#<attempt>`: a group name (at most 63, as SageMaker allows) and two 9-digit numbers at most. */
export const MAX_DEPLOYMENT_ID_LENGTH = 63 + ':v'.length + 9 + '#'.length + 9;

export const deploymentIdSchema = z.string().check(
  z.maxLength(MAX_DEPLOYMENT_ID_LENGTH, `at most ${MAX_DEPLOYMENT_ID_LENGTH} characters`),
  z.refine(
    (id) => {
      if (id.length > MAX_DEPLOYMENT_ID_LENGTH) return true; // reported by maxLength alone
      const parsed = parseDeploymentId(id);
      return (
        parsed !== undefined &&
        parsed.version >= 1 &&
        parsed.version < 1e9 &&
        parsed.attempt >= 1 &&
        parsed.attempt < 1e9
      );
    },
    { message: 'must be <group>:v<version> or <group>:v<version>#<attempt> (group at most 63 characters)' },
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
    /** promote only: skip the remaining canary steps (Argo Rollouts `promote --full`), or end a bake */
    full: z.optional(z.boolean()),
    /** promote and rollback: the stage the command is about (the group's stages are checked when decided) */
    stage: z.optional(
      z
        .string()
        .check(
          z.regex(
            STAGE_NAME,
            'must be a stage name: 1-63 letters, digits or hyphens, starting with a letter and not ending with a hyphen',
          ),
        ),
    ),
  })
  .check(
    z.refine((body) => body.full === undefined || body.command === 'promote', {
      message: 'full applies to promote only',
      path: ['full'],
    }),
    z.refine((body) => body.stage === undefined || STAGE_VERBS.has(body.command), {
      message: 'stage applies to promote and rollback only',
      path: ['stage'],
    }),
  );

/** The verbs that may name a stage. */
export const STAGE_VERBS: ReadonlySet<string> = new Set(['promote', 'rollback']);

const principalArnSchema = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$/, 'must be an IAM or STS principal ARN'));

/**
 * A Lambda function URL request (payload format 2.0) with `AuthType: AWS_IAM`: Lambda has
 * verified the SigV4 signature and names the caller in `requestContext.authorizer.iam`. A direct
 * invocation can put anything there, so it is only ever compared with the caller the proof of
 * identity names (and may be absent). Fields not used here pass through.
 */
export const commandRequestEventSchema = z.looseObject({
  version: z.literal('2.0'),
  rawPath: z.string(),
  requestContext: z.looseObject({
    authorizer: z.optional(
      z.looseObject({
        iam: z.looseObject({ userArn: principalArnSchema }),
      }),
    ),
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

export const isPrincipalArn = (arn: string): boolean => z.safeParse(principalArnSchema, arn).success;

/** The domain's view of a command: the actor is the caller the proof of identity names. */
export const toOperatorCommand = (body: CommandBody, principalArn: string): OperatorCommand => ({
  verb: body.command,
  deploymentId: body.deploymentId,
  actor: principalArn,
  reason: body.reason,
  requestId: body.requestId,
  ...(body.full !== undefined ? { full: body.full } : {}),
  ...(body.stage !== undefined ? { stage: body.stage } : {}),
});

/** A POSTed command as received: its body, the exact bytes that were sent, and who claims to send it. */
export interface ReceivedCommand {
  body: CommandBody;
  bytes: Buffer;
  /** the `x-rollouts-identity` header */
  identityProof: string | undefined;
  /** the caller Lambda names for a function URL request (anything, for a direct invocation) */
  urlCaller: string | undefined;
}

/**
 * The command from a command URL request (none for a method other than POST);
 * InputValidationError names what is wrong.
 */
export const parseCommandRequest = (
  event: unknown,
): { received: ReceivedCommand | undefined; method: string; at: number } => {
  const request = parseInput(commandRequestEventSchema, event, 'command URL request');
  const { method } = request.requestContext.http;
  const at = request.requestContext.timeEpoch;
  if (method !== 'POST') return { received: undefined, method, at };
  const bytes =
    request.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(request.body, request.isBase64Encoded ? 'base64' : 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InputValidationError('Invalid command: the body must be a JSON object', ['body: not JSON'], {
      cause: error,
    });
  }
  const body = parseInput(commandBodySchema, json, 'command');
  return {
    received: {
      body,
      bytes,
      identityProof: request.headers?.[IDENTITY_HEADER],
      urlCaller: request.requestContext.authorizer?.iam.userArn,
    },
    method,
    at,
  };
};
