import type { ExecutorError } from '../ports/state-store';
import { formatDuration } from './output';

/**
 * `executor retrying UpdateEndpoint on churn-model-qa since 24m00s: ThrottlingException: Rate
 * exceeded`: why a deployment waiting on its endpoint does not move. `now` is the time the age is
 * measured against (an emulator's virtual time, or this machine's clock).
 */
export const executorHint = (error: ExecutorError, now: number): string =>
  `executor retrying ${error.operation} on ${error.endpointName} since ${formatDuration(
    Math.max(now, error.lastSeenAt) - error.firstSeenAt,
  )}: ${error.code}: ${error.message}`;
