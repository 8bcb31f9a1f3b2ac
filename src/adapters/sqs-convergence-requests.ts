import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ConvergenceRequest } from '../domain/schemas/convergence-request';
import type { ConvergenceRequests } from '../ports/convergence';
import { toRolloutsError } from './aws-errors';
import { sqsClient } from './clients';

/** Convergence requests on the executor's queue (standard SQS: at least once, in any order). */
export class SqsConvergenceRequests implements ConvergenceRequests {
  constructor(
    private readonly queueUrl: string,
    private readonly client: SQSClient = sqsClient(),
  ) {}

  async request(group: string): Promise<void> {
    const body: ConvergenceRequest = { group };
    try {
      await this.client.send(
        new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(body) }),
      );
    } catch (error) {
      throw toRolloutsError(error, { operation: 'SQS SendMessage', resource: this.queueUrl });
    }
  }
}
