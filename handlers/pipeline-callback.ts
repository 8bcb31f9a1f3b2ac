import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { onCallbackMessage, onInvalidCallbackMessage } from '../src/app/callbacks/handle-message';
import { callbackRef } from '../src/domain/naming';
import { CALLBACK_TOKEN, parseCallbackBody } from '../src/domain/schemas/callback-message';
import { InputValidationError } from '../src/errors';
import { askTheExecutor } from '../src/executor-requests';
import { logInvocation } from '../src/lambda-logger';
import { deps, eventTimeMs, logger } from '../src/wiring';

askTheExecutor();

/** The token of a body that is JSON with a valid `token`, even when the rest is invalid. */
const answerableToken = (body: string): { token: string; pipelineExecutionArn: string } | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const { token, pipelineExecutionArn } = value as Record<string, unknown>;
  if (typeof token !== 'string' || !CALLBACK_TOKEN.test(token)) return undefined;
  return {
    token,
    pipelineExecutionArn: typeof pipelineExecutionArn === 'string' ? pipelineExecutionArn : '',
  };
};

/**
 * One CallbackStep message. Throwing fails this record only: SQS redelivers it, and after the
 * queue's maxReceiveCount it goes to the dead-letter queue. A body without a valid token cannot be
 * answered, so it fails the same way (and ends in the dead-letter queue, never dropped); a body
 * with a valid token but other invalid fields is answered with failure and consumed.
 */
const handleRecord = async (record: SQSRecord): Promise<void> => {
  const sent = Number(record.attributes.SentTimestamp);
  const now = eventTimeMs(Number.isFinite(sent) && sent > 0 ? sent : undefined);
  let message: ReturnType<typeof parseCallbackBody>;
  try {
    message = parseCallbackBody(record.body);
  } catch (error) {
    if (!(error instanceof InputValidationError)) throw error;
    const answerable = answerableToken(record.body);
    if (answerable) {
      const outcome = await onInvalidCallbackMessage(deps(), answerable, error.message, now);
      const callback = callbackRef(answerable.token);
      logger.warn(`callback message ${record.messageId} invalid; callback ${callback}: ${outcome}`, {
        messageId: record.messageId,
        callback,
        pipelineExecutionArn: answerable.pipelineExecutionArn,
        issues: error.issues,
      });
      return;
    }
    logger.error(`callback message ${record.messageId} rejected: ${error.message}`, {
      messageId: record.messageId,
      issues: error.issues,
      receiveCount: record.attributes.ApproximateReceiveCount,
    });
    throw error;
  }
  const outcome = await onCallbackMessage(deps(), message, now);
  const callback = callbackRef(message.token);
  logger.info(`callback ${callback}: ${outcome}`, {
    messageId: record.messageId,
    callback,
    status: message.status,
    pipelineExecutionArn: message.pipelineExecutionArn,
  });
};

/**
 * The callback queue (SQS event source with ReportBatchItemFailures): records run concurrently.
 * A processor per invocation: it holds the batch's results, and invocations may overlap in one
 * process (the local stack, tests).
 */
export const handler = middy(
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    }),
).use(logInvocation(logger));
