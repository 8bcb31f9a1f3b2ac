import middy from '@middy/core';
import type { Deps } from './app/deps';
import { parseInput } from './domain/schemas/parse';
import { InputValidationError, PermanentError } from './errors';
import { logInvocation } from './lambda-logger';
import { emitMetrics } from './metrics/emf';
import { ALL_GROUPS, METRIC } from './metrics/service-metrics';
import { deps, logger } from './wiring';
import type * as z from './zod';

export interface HandlerOutcome {
  outcome: string;
  reason?: string;
  [key: string]: unknown;
}

/**
 * An EventBridge-invoked handler: parse, run, and map the result to the async-invoke retry rules.
 * Only transient failures are thrown (Lambda retries, then the failure destination); an event
 * that can never be processed (invalid, or refused by AWS for good) is logged whole, with the
 * reason, and not retried.
 */
export const eventBridgeHandler = <S extends z.core.$ZodType>(
  what: string,
  schema: S,
  handle: (event: z.core.output<S>, deps: Deps) => Promise<HandlerOutcome>,
  /** the group an event is about, for the PermanentFailures metric */
  groupOf: (event: z.core.output<S>, deps: Deps) => string | undefined = () => undefined,
) =>
  middy(async (event: unknown): Promise<HandlerOutcome> => {
    let parsed: z.core.output<S>;
    try {
      parsed = parseInput(schema, event, what);
    } catch (error) {
      if (!(error instanceof InputValidationError)) throw error;
      logger.error(error.message, { issues: error.issues, event });
      return { outcome: 'invalid', reason: error.message };
    }
    try {
      const result = await handle(parsed, deps());
      logger.info(`${what}: ${result.outcome}`, { ...result });
      return result;
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      logger.error(`${what} cannot be processed: ${error.message}`, { error, event });
      emitMetrics(groupOf(parsed, deps()) ?? ALL_GROUPS, [
        { name: METRIC.permanentFailures, unit: 'Count', value: 1 },
      ]);
      return { outcome: 'failed', reason: error.message };
    }
  }).use(logInvocation(logger));
