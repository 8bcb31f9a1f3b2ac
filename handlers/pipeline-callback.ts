import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { onCallbackMessage } from '../src/app/callbacks/handle-message';
import { parseCallbackBody } from '../src/domain/schemas/callback-message';
import { InputValidationError } from '../src/errors';
import { deps, logger } from '../src/wiring';

const processor = new BatchProcessor(EventType.SQS);

/**
 * One CallbackStep message. Throwing fails this record only: SQS redelivers it, and after the
 * queue's maxReceiveCount it goes to the dead-letter queue. A body without a valid token cannot be
 * answered, so it fails the same way (and ends in the dead-letter queue, never dropped).
 */
const handleRecord = async (record: SQSRecord): Promise<void> => {
  let message: ReturnType<typeof parseCallbackBody>;
  try {
    message = parseCallbackBody(record.body);
  } catch (error) {
    if (error instanceof InputValidationError) {
      logger.error(`callback message ${record.messageId} rejected: ${error.message}`, {
        messageId: record.messageId,
        issues: error.issues,
        receiveCount: record.attributes.ApproximateReceiveCount,
      });
    }
    throw error;
  }
  const sent = Number(record.attributes.SentTimestamp);
  const now = Number.isFinite(sent) && sent > 0 ? sent : Date.now();
  const outcome = await onCallbackMessage(deps(), message, now);
  logger.info(`callback ${message.token}: ${outcome}`, {
    messageId: record.messageId,
    token: message.token,
    status: message.status,
    pipelineExecutionArn: message.pipelineExecutionArn,
  });
};

/** The callback queue (SQS event source with ReportBatchItemFailures): records run concurrently. */
export const handler = middy(
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false }),
).use(injectLambdaContext(logger, { clearState: true }));
