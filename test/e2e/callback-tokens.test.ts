import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribePipelineExecutionCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-sagemaker';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { STOPPED_REASON } from '../../src/app/callbacks/handle-message';
import { callbackRef } from '../../src/domain/naming';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let r: Rollouts;
afterEach(async () => {
  await r?.close();
});

const dynamo = () => new DynamoDBClient({ region: 'us-east-1' });

const tableItems = async (): Promise<Record<string, AttributeValue>[]> => {
  const client = dynamo();
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: r.stack.tableName, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  client.destroy();
  return items;
};

/** Where a token must never show: keys, logs and invocation results, published events. */
const expectNowhere = async (token: string) => {
  const keys = (await tableItems()).map((item) => `${item.pk?.S} ${item.sk?.S}`);
  expect(keys.filter((key) => key.includes(token))).toEqual([]);
  expect(r.stack.records.filter((record) => JSON.stringify(record).includes(token))).toEqual([]);
  expect(r.stack.cloud.events.published.filter((e) => JSON.stringify(e).includes(token))).toEqual([]);
};

const startDeployPipeline = async (modelPackageArn: string) => {
  r.stack.cloud.pipelines.define({
    name: 'train-and-deploy',
    callbackQueueUrl: r.stack.queueUrls.CallbackQueue!,
    callbackArguments: { task: 'deploy', modelPackageArn, stage: 'prod' },
  });
  const started = await r.sm.send(new StartPipelineExecutionCommand({ PipelineName: 'train-and-deploy' }));
  return { arn: started.PipelineExecutionArn!, token: r.stack.cloud.pipelines.tokens().at(-1)! };
};

const executionStatus = async (arn: string) =>
  (await r.sm.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: arn })))
    .PipelineExecutionStatus;

describe('callback tokens in the table, logs and events', () => {
  it('a deploy callback stopped mid-canary: its record is keyed by the hash of the token, which shows nowhere', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    const v2 = await r.registerAndApprove(GROUP);
    const { arn, token } = await startDeployPipeline(v2);
    await r.stack.pollQueues();
    await r.runUntil(async () => r.weights(PROD).v2 === 10);
    const keys = (await tableItems()).map((item) => item.pk?.S);
    expect(keys).toContain(`CALLBACK#${sha256(token)}`);
    await expectNowhere(token);

    await r.sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
    await r.runUntil(async () => (await executionStatus(arn)) === 'Stopped', 30 * MINUTE);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Aborted', 30 * MINUTE);
    expect(r.events('Callback Reported').map((e) => e.detail.callback)).toEqual([callbackRef(token)]);
    await expectNowhere(token);
    // once answered, no item holds the token at all: only a deployment a pipeline waits on needs it
    expect((await tableItems()).filter((item) => JSON.stringify(item).includes(token))).toEqual([]);
  });

  it("SageMaker's refusal of an answer, which quotes the token, is logged with the callback's hash only", async () => {
    r = await startRollouts();
    await r.createGroup(GROUP);
    const v1 = await r.register(GROUP);
    // a token SageMaker never issued: answering it fails with "Callback token ... does not exist."
    const token = 'NotIssued1';
    await new SQSClient({ region: 'us-east-1' }).send(
      new SendMessageCommand({
        QueueUrl: r.stack.queueUrls.CallbackQueue,
        MessageBody: JSON.stringify({
          token,
          pipelineExecutionArn: 'arn:aws:sagemaker:us-east-1:111122223333:pipeline/p/execution/abc123',
          arguments: { task: 'deploy', modelPackageArn: v1, stage: 'qa' },
          status: 'Executing',
        }),
      }),
    );
    const refused = () =>
      r.stack.records.filter((record) => JSON.stringify(record).includes('does not exist'));
    await r.runUntil(() => refused().length > 0, 60 * MINUTE);
    expect(JSON.stringify(refused())).toContain(`Callback token ${callbackRef(token)} does not exist`);
    await expectNowhere(token);
  });

  it('a record written by the previous version (keyed by the raw token): a Stopping still aborts its deployment', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    const v2 = await r.registerAndApprove(GROUP);
    const { arn, token } = await startDeployPipeline(v2);
    await r.stack.pollQueues();
    await r.runUntil(async () => r.weights(PROD).v2 === 10);
    // the table as the previous version left it: the record under CALLBACK#<token>, with the token
    const client = dynamo();
    const table = r.stack.tableName;
    const sk = { S: 'CALLBACK' };
    await client.send(
      new DeleteItemCommand({ TableName: table, Key: { pk: { S: `CALLBACK#${sha256(token)}` }, sk } }),
    );
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: `CALLBACK#${token}` },
          sk,
          token: { S: token },
          pipelineExecutionArn: { S: arn },
          group: { S: GROUP },
          task: { S: 'deploy' },
          receivedAt: { N: String(r.stack.cloud.clock.now()) },
        },
      }),
    );
    client.destroy();

    await r.sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
    await r.runUntil(async () => (await executionStatus(arn)) === 'Stopped', 30 * MINUTE);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Aborted', 30 * MINUTE);
    expect(r.stack.cloud.pipelines.answers(token)).toEqual([
      expect.objectContaining({ kind: 'failure', accepted: true, failureReason: STOPPED_REASON }),
    ]);
    await r.runUntil(async () => Object.keys(r.weights(PROD)).length === 1, 30 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
  });
});
