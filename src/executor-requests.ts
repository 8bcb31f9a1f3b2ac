import { SqsConvergenceRequests } from './adapters/sqs-convergence-requests';
import { ConfigError } from './errors';
import { provideConvergence } from './wiring';

/**
 * Called by the deciding functions' handler modules: their convergence requests go to the
 * executor's queue (EXECUTOR_QUEUE_URL). The executor's bundle leaves this module out.
 */
export const askTheExecutor = (): void =>
  provideConvergence(() => {
    const queueUrl = process.env.EXECUTOR_QUEUE_URL;
    if (!queueUrl)
      throw new ConfigError('environment variable EXECUTOR_QUEUE_URL is not set', ['EXECUTOR_QUEUE_URL']);
    return new SqsConvergenceRequests(queueUrl);
  });
