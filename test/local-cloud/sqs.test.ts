import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAll, type Env, setup, T0 } from './helpers';

describe('SQS', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
  });
  afterEach(async () => closeAll(env));

  it('hides received messages for the visibility timeout and redrives to the DLQ after maxReceiveCount', async () => {
    const { sqs, cloud } = env;
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'callbacks-dlq' }));
    const dlqAttrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    expect(dlqAttrs.Attributes?.QueueArn).toBe('arn:aws:sqs:us-east-1:111122223333:callbacks-dlq');
    const q = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'callbacks',
        Attributes: {
          VisibilityTimeout: '60',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqAttrs.Attributes?.QueueArn,
            maxReceiveCount: 2,
          }),
        },
      }),
    );
    expect(q.QueueUrl).toBe(`${cloud.url}/111122223333/callbacks`);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'callbacks' }))).QueueUrl).toBe(q.QueueUrl);
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: '{"a":1}' }));

    const first = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: q.QueueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(first.Messages).toHaveLength(1);
    expect(first.Messages?.[0]).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"a":1}',
      Attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(T0) },
    });
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl }))).Messages ?? []).toHaveLength(
      0,
    );
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['All'] }),
    );
    expect(attrs.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
    });

    cloud.advance(60_000);
    const second = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['All'] }),
    );
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    cloud.advance(60_000);
    // A third receive exceeds maxReceiveCount: the message moves to the DLQ instead.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl }))).Messages ?? []).toHaveLength(
      0,
    );
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl }));
    expect(dead.Messages?.[0]?.MessageId).toBe(sent.MessageId);
    expect(cloud.sqs.messages('callbacks')).toHaveLength(0);
  });

  it('supports batch send, visibility changes, delete, and the in-process event source API', async () => {
    const { sqs, cloud } = env;
    const q = await sqs.send(new CreateQueueCommand({ QueueName: 'work' }));
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.QueueUrl,
        Entries: [
          { Id: '1', MessageBody: 'one' },
          { Id: '2', MessageBody: 'two' },
        ],
      }),
    );
    expect(batch.Successful?.map((s) => s.Id)).toEqual(['1', '2']);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, MaxNumberOfMessages: 1 }));
    const handle = got.Messages?.[0]?.ReceiptHandle;
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: q.QueueUrl,
        ReceiptHandle: handle,
        VisibilityTimeout: 0,
      }),
    );
    const records = cloud.sqs.receiveBatch('work', 10);
    expect(records.map((r) => r.body)).toEqual(['one', 'two']);
    expect(records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      attributes: { ApproximateReceiveCount: '2' },
    });
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: q.QueueUrl, ReceiptHandle: records[0]!.receiptHandle }),
    );
    expect(cloud.sqs.deleteMessages('work', [records[1]!.receiptHandle])).toBe(1);
    expect(cloud.sqs.messages('work')).toHaveLength(0);
    await expect(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: `${cloud.url}/111122223333/missing` })),
    ).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
    await expect(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, MaxNumberOfMessages: 11 })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });
});
