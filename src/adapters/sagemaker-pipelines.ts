import { createHash } from 'node:crypto';
import {
  type OutputParameter,
  type SageMakerClient,
  SendPipelineExecutionStepFailureCommand,
  SendPipelineExecutionStepSuccessCommand,
} from '@aws-sdk/client-sagemaker';
import { callbackRef } from '../domain/naming';
import type { AnswerResult, PipelineCallbacks } from '../ports/pipelines';
import { errorCode, errorMessage, toRolloutsError } from './aws-errors';
import { sageMakerClient } from './clients';

export const MAX_OUTPUT_PARAMETERS = 50;
export const MAX_OUTPUT_NAME_LENGTH = 256;
export const MAX_OUTPUT_VALUE_LENGTH = 1024;
export const MAX_FAILURE_REASON_LENGTH = 256;

/**
 * The idempotency token for one answer to one callback token: the same on every redelivery, so
 * SageMaker completes the step at most once (the SDK would otherwise make a new UUID per call).
 */
export const clientRequestToken = (token: string, outcome: 'success' | 'failure'): string =>
  createHash('sha256').update(`${token}:${outcome}`).digest('hex');

/**
 * At most 50 parameters: names longer than 256 characters cannot match a declared output and are
 * dropped, the rest are kept in name order (the first 50), values cut to 1024 characters.
 */
export const outputParameters = (outputs: Record<string, string>): OutputParameter[] =>
  Object.entries(outputs)
    .filter(([name]) => name.length <= MAX_OUTPUT_NAME_LENGTH)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_OUTPUT_PARAMETERS)
    .map(([Name, value]) => ({ Name, Value: String(value).slice(0, MAX_OUTPUT_VALUE_LENGTH) }));

const ALREADY_ANSWERED = /\balready\b|\bnot in (an? )?executing\b/i;

const isAlreadyAnswered = (error: unknown): boolean => {
  const code = errorCode(error);
  if (code === 'ConflictException') return true;
  return (
    (code === 'ValidationException' || code === 'ResourceNotFound' || code === 'ResourceNotFoundException') &&
    ALREADY_ANSWERED.test(errorMessage(error))
  );
};

/** Answers SageMaker Pipelines callback steps. */
export class SageMakerPipelineCallbacks implements PipelineCallbacks {
  constructor(private readonly client: SageMakerClient = sageMakerClient()) {}

  async sendSuccess(
    token: string,
    outputs: Record<string, string>,
    requestToken: string,
  ): Promise<AnswerResult> {
    return this.answer('SageMaker SendPipelineExecutionStepSuccess', token, () =>
      this.client.send(
        new SendPipelineExecutionStepSuccessCommand({
          CallbackToken: token,
          OutputParameters: outputParameters(outputs),
          ClientRequestToken: requestToken,
        }),
      ),
    );
  }

  async sendFailure(token: string, reason: string, requestToken: string): Promise<AnswerResult> {
    return this.answer('SageMaker SendPipelineExecutionStepFailure', token, () =>
      this.client.send(
        new SendPipelineExecutionStepFailureCommand({
          CallbackToken: token,
          FailureReason: reason.slice(0, MAX_FAILURE_REASON_LENGTH),
          ClientRequestToken: requestToken,
        }),
      ),
    );
  }

  private async answer(
    operation: string,
    token: string,
    send: () => Promise<unknown>,
  ): Promise<AnswerResult> {
    try {
      await send();
      return 'sent';
    } catch (error) {
      if (isAlreadyAnswered(error)) return 'already-answered';
      // SageMaker's messages may quote the token (e.g. "Callback token ... does not exist")
      const ref = callbackRef(token);
      throw toRolloutsError(error, {
        operation,
        resource: `callback ${ref}`,
        secret: { text: token, as: ref },
      });
    }
  }
}
