import middy from '@middy/core';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import { awsRegion } from '../src/adapters/clients';
import { StsCallerIdentity } from '../src/adapters/sts-caller-identity';
import { stsEndpointUrl } from '../src/adapters/sts-endpoint';
import { identifyCaller } from '../src/app/command-identity';
import { onOperatorCommand } from '../src/app/control';
import { parseDeploymentId } from '../src/domain/naming';
import { parseCommandRequest, toOperatorCommand } from '../src/domain/schemas/control-command';
import { ConfigError, IdentityProofError, InputValidationError, PermanentError } from '../src/errors';
import { askTheExecutor } from '../src/executor-requests';
import { logInvocation } from '../src/lambda-logger';
import { emitMetrics } from '../src/metrics/emf';
import { ALL_GROUPS, METRIC } from '../src/metrics/service-metrics';
import type { CallerIdentityVerifier } from '../src/ports/identity';
import { deps, logger } from '../src/wiring';

askTheExecutor();

const STATUS = {
  applied: 200,
  ignored: 200,
  rejected: 409,
  unauthorized: 403,
  unknown: 404,
  reused: 422,
} as const;

const reply = (statusCode: number, body: Record<string, unknown>): LambdaFunctionURLResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Built per command (it holds nothing but the endpoint), so a changed AWS_ENDPOINT_URL applies at once. */
const identityVerifier = (): CallerIdentityVerifier => new StsCallerIdentity(stsEndpointUrl(awsRegion()));

/** The stack a proof of identity must name: its table's name. */
const audience = (): string => {
  const table = process.env.TABLE_NAME;
  if (!table) throw new ConfigError('environment variable TABLE_NAME is not set', ['TABLE_NAME']);
  return table;
};

/**
 * Operator commands through the function URL (AuthType AWS_IAM). The actor is the principal STS
 * names for the command's proof of identity (a GetCallerIdentity request signed with the same
 * credentials and bound to this body and stack), never one taken from the event. Answers 200
 * applied, 409 refused by the rollout's state, 403 refused by the authorization config (both
 * recorded in the history) or identity not proven (nothing recorded), 404 unknown deployment, 400
 * invalid. A transient failure throws: the caller gets a 5XX and sends the command again.
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
  const { received } = request;
  if (!received) return reply(405, { message: `send commands with POST, not ${request.method}` });
  // the configuration is loaded (and an invalid one fails the function) before anything else
  const dependencies = deps();
  let actor: string;
  try {
    // signatures are judged by the wall clock, as STS judges them
    actor = await identifyCaller(identityVerifier(), received, { audience: audience(), now: Date.now() });
  } catch (error) {
    if (!(error instanceof IdentityProofError)) throw error;
    logger.warn(`command refused, identity not proven: ${error.message}`, {
      claimedCaller: received.urlCaller,
      requestId: received.body.requestId,
    });
    emitMetrics(ALL_GROUPS, [{ name: METRIC.commandIdentityRefused, unit: 'Count', value: 1 }]);
    return reply(403, { outcome: 'unauthorized', reason: `identity not proven: ${error.message}` });
  }
  const command = toOperatorCommand(received.body, actor);
  try {
    const result = await onOperatorCommand(dependencies, command, request.at);
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
}).use(logInvocation(logger));
