import * as z from 'zod';
import { InputValidationError } from '../../errors';
import { parseInput } from './parse';

/** CallbackToken: exactly 10 characters, [a-zA-Z0-9] (SendPipelineExecutionStep*). */
export const CALLBACK_TOKEN = /^[a-zA-Z0-9]{10}$/;

/** arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id> */
export const PIPELINE_EXECUTION_ARN =
  /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline\/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}\/execution\/[a-zA-Z0-9-]{1,128}$/;

export const callbackStatusSchema = z.enum(['Executing', 'Stopping']);
export type CallbackStatus = z.infer<typeof callbackStatusSchema>;

/** `Executing` / `Stopping` in any letter case, normalised. */
const statusValue = z.string().transform((value, ctx): CallbackStatus => {
  const found = callbackStatusSchema.options.find((status) => status.toLowerCase() === value.toLowerCase());
  if (found) return found;
  ctx.addIssue({ code: 'custom', message: `must be Executing or Stopping, got ${JSON.stringify(value)}` });
  return z.NEVER;
});

/**
 * The body of a CallbackStep SQS message (aws-facts §2): `{token, pipelineExecutionArn,
 * arguments, status}`. The stop message is documented with `Status` and observed with `status`;
 * both are read, values in any case. No status means Executing.
 */
export const callbackMessageSchema = z
  .looseObject({
    token: z.string().regex(CALLBACK_TOKEN, 'must be exactly 10 letters or digits'),
    pipelineExecutionArn: z.string().regex(PIPELINE_EXECUTION_ARN, 'must be a pipeline execution ARN'),
    arguments: z.record(z.string(), z.unknown()).default({}),
    status: statusValue.optional(),
    Status: statusValue.optional(),
  })
  .transform(({ status, Status, ...rest }) => ({ ...rest, status: status ?? Status ?? 'Executing' }));

export type CallbackMessage = z.output<typeof callbackMessageSchema>;

/** Parses an SQS record body (a JSON string) into a callback message. */
export const parseCallbackBody = (body: string): CallbackMessage => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const issue = 'body: not JSON';
    throw new InputValidationError(`Invalid callback message: ${issue}`, [issue], { cause: error });
  }
  return parseInput(callbackMessageSchema, value, 'callback message');
};
