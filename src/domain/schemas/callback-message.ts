import { InputValidationError } from '../../errors';
import * as z from '../../zod';
import { parseInput } from './parse';

/** CallbackToken: exactly 10 characters, [a-zA-Z0-9] (SendPipelineExecutionStep*). */
export const CALLBACK_TOKEN = /^[a-zA-Z0-9]{10}$/;

/** arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id> */
export const PIPELINE_EXECUTION_ARN =
  /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline\/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}\/execution\/[a-zA-Z0-9-]{1,128}$/;

export const callbackStatusSchema = z.enum(['Executing', 'Stopping']);
export type CallbackStatus = z.infer<typeof callbackStatusSchema>;

/** `Executing` / `Stopping` in any letter case, normalised. */
const statusValue = z.pipe(
  z.string(),
  z.transform((value: string, ctx): CallbackStatus => {
    const found = callbackStatusSchema.options.find((status) => status.toLowerCase() === value.toLowerCase());
    if (found) return found;
    ctx.issues.push({
      code: 'custom',
      message: `must be Executing or Stopping, got ${JSON.stringify(value)}`,
      input: value,
    });
    return z.NEVER;
  }),
);

/**
 * The body of a CallbackStep SQS message (aws-facts §2): `{token, pipelineExecutionArn,
 * arguments, status}`. The stop message is documented with `Status` and observed with `status`;
 * both are read, values in any case. No status means Executing.
 */
const callbackBodySchema = z.looseObject({
  token: z.string().check(z.regex(CALLBACK_TOKEN, 'must be exactly 10 letters or digits')),
  pipelineExecutionArn: z.string().check(z.regex(PIPELINE_EXECUTION_ARN, 'must be a pipeline execution ARN')),
  arguments: z._default(z.record(z.string(), z.unknown()), {}),
  status: z.optional(statusValue),
  Status: z.optional(statusValue),
});

export const callbackMessageSchema = z.pipe(
  callbackBodySchema,
  z.transform(({ status, Status, ...rest }: z.output<typeof callbackBodySchema>) => ({
    ...rest,
    status: status ?? Status ?? ('Executing' as const),
  })),
);

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
