import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ApplicationAutoScalingFactory } from '../src/adapters/application-autoscaling';
import { AwsArtifactLookupFactory } from '../src/adapters/artifact-lookup';
import { SageMakerEndpointsFactory } from '../src/adapters/sagemaker-endpoints';
import { SageMakerRegistryWriter } from '../src/adapters/sagemaker-registry-writer';
import { groupConfig } from '../src/app/deps';
import { type ExecutorRun, executeGroup } from '../src/app/executor';
import { convergenceRequestSchema } from '../src/domain/schemas/convergence-request';
import { parseInput } from '../src/domain/schemas/parse';
import { InputValidationError } from '../src/errors';
import { logInvocation } from '../src/lambda-logger';
import { deps, eventTimeMs, logger, provideWriters } from '../src/wiring';

// the one function that changes SageMaker endpoints, autoscaling and the model registry (and
// checks a version's artifacts before it does)
provideWriters({
  endpoints: new SageMakerEndpointsFactory(),
  autoscaling: new ApplicationAutoScalingFactory(),
  registry: new SageMakerRegistryWriter(),
  artifacts: new AwsArtifactLookupFactory(),
});

const groupOf = (record: SQSRecord): string => {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    throw new InputValidationError('Invalid convergence request: the body is not JSON', ['body: not JSON'], {
      cause: error,
    });
  }
  const { group } = parseInput(convergenceRequestSchema, body, 'convergence request');
  if (!groupConfig(deps(), group)) {
    throw new InputValidationError(`Invalid convergence request: group ${group} is not configured`, [
      `group: ${group} is not configured`,
    ]);
  }
  return group;
};

/**
 * The executor's queue (SQS event source with ReportBatchItemFailures). A batch converges each
 * group once, whatever the number of requests for it; a record whose group failed (or whose body
 * is invalid) is reported failed, so SQS delivers it again and, after maxReceiveCount, moves it to
 * the dead-letter queue. A processor per invocation, as for the callback queue.
 */
export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const runs = new Map<string, Promise<ExecutorRun>>();
  const handleRecord = async (record: SQSRecord): Promise<void> => {
    let group: string;
    try {
      group = groupOf(record);
    } catch (error) {
      if (error instanceof InputValidationError) {
        logger.error(`convergence request ${record.messageId} rejected: ${error.message}`, {
          messageId: record.messageId,
          issues: error.issues,
          receiveCount: record.attributes.ApproximateReceiveCount,
        });
      }
      throw error;
    }
    let run = runs.get(group);
    if (!run) {
      const sent = Number(record.attributes.SentTimestamp);
      run = executeGroup(deps(), group, eventTimeMs(Number.isFinite(sent) && sent > 0 ? sent : undefined));
      runs.set(group, run);
      const { steps } = await run;
      logger.info(`converged ${group}`, { group, steps });
      return;
    }
    await run;
  };
  return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
    context,
    throwOnFullBatchFailure: false,
  });
}).use(logInvocation(logger));
