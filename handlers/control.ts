import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import { onOperatorCommand } from '../src/app/control';
import { parseDeploymentId } from '../src/domain/naming';
import { parseCommandRequest } from '../src/domain/schemas/control-command';
import { InputValidationError, PermanentError } from '../src/errors';
import { emitMetrics } from '../src/metrics/emf';
import { ALL_GROUPS, METRIC } from '../src/metrics/service-metrics';
import { deps, logger } from '../src/wiring';

const STATUS = { applied: 200, ignored: 200, rejected: 409, unauthorized: 403 } as const;

const reply = (statusCode: number, body: Record<string, unknown>): LambdaFunctionURLResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * Operator commands through the function URL (AuthType AWS_IAM): the actor is the principal that
 * signed the request. Answers 200 applied, 409 refused by the rollout's state, 403 refused by the
 * authorization config (both recorded in the history), 400 invalid. A transient failure throws:
 * the caller gets a 5XX and sends the command again (its requestId makes that safe to read back).
 */
export const handler = middy(async (event: unknown): Promise<LambdaFunctionURLResult> => {
  let request: ReturnType<typeof parseCommandRequest>;
  try {
    request = parseCommandRequest(event);
  } catch (error) {
    if (!(error instanceof InputValidationError)) throw error;
    logger.warn(error.message, { issues: error.issues });
    return reply(400, { message: error.message, issues: error.issues });
  }
  const { command } = request;
  if (!command) return reply(405, { message: `send commands with POST, not ${request.method}` });
  try {
    const result = await onOperatorCommand(deps(), command, request.at);
    logger.info(`command ${command.verb} ${command.deploymentId}: ${result.outcome}`, {
      actor: command.actor,
      requestId: command.requestId,
      ...result,
    });
    return reply(STATUS[result.outcome], { ...result, requestId: command.requestId, actor: command.actor });
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    logger.error(`command ${command.verb} ${command.deploymentId} cannot be processed: ${error.message}`, {
      error,
    });
    emitMetrics(parseDeploymentId(command.deploymentId)?.group ?? ALL_GROUPS, [
      { name: METRIC.permanentFailures, unit: 'Count', value: 1 },
    ]);
    return reply(500, { outcome: 'failed', reason: error.message, requestId: command.requestId });
  }
}).use(injectLambdaContext(logger, { clearState: true }));
