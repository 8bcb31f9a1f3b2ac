import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsConvergenceRequests } from '../../src/adapters/sqs-convergence-requests';
import { PermanentError, TransientError } from '../../src/errors';
import { throttled } from './aws-fakes';

const sqs = mockClient(SQSClient);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/111122223333/sagemaker-rollouts-prod-executor';
const requests = () => new SqsConvergenceRequests(QUEUE, new SQSClient({ region: 'us-east-1' }));

beforeEach(() => {
  sqs.reset();
});

// the worker's process runs other files after this one: their clients must reach the real SDK
afterAll(() => {
  sqs.restore();
});

describe('SqsConvergenceRequests', () => {
  it('sends a body naming the group only, to the executor queue', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    await requests().request('churn-model');
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: QUEUE,
      MessageBody: '{"group":"churn-model"}',
    });
  });

  it('a throttled send is transient (the trigger is retried); a refused one is permanent, with the queue named', async () => {
    sqs
      .on(SendMessageCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(
        Object.assign(new Error('not authorized to perform sqs:SendMessage'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        }),
      );
    await expect(requests().request('churn-model')).rejects.toBeInstanceOf(TransientError);
    const refused = requests().request('churn-model');
    await expect(refused).rejects.toBeInstanceOf(PermanentError);
    await expect(refused).rejects.toThrow(`SQS SendMessage ${QUEUE} failed: AccessDenied`);
  });
});
