import {
  DescribePipelineExecutionCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-sagemaker';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { STOPPED_REASON } from '../../src/app/callbacks/handle-message';
import { callbackRef } from '../../src/domain/naming';
import type { LocalStackOptions } from '../../src/local/stack';
import { deps } from '../../src/wiring';
import { localConfigVariant } from './helpers';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';

let r: Rollouts;
afterEach(async () => {
  await r?.close();
});

const start = async (options: LocalStackOptions = {}) => {
  r = await startRollouts(options);
  return r;
};

const queueName = (url: string | undefined): string => {
  if (!url) throw new Error('queue not created');
  return url.split('/').pop()!;
};

/** Defines a pipeline whose callback step posts to the stack's callback queue, and starts it. */
const startPipeline = async (name: string, callbackArguments: Record<string, unknown>, queueUrl?: string) => {
  r.stack.cloud.pipelines.define({
    name,
    callbackQueueUrl: queueUrl ?? r.stack.queueUrls.CallbackQueue!,
    callbackArguments,
  });
  const { PipelineExecutionArn } = await r.sm.send(new StartPipelineExecutionCommand({ PipelineName: name }));
  const token = r.stack.cloud.pipelines.tokens().at(-1)!;
  return { arn: PipelineExecutionArn!, token };
};

const status = async (arn: string) =>
  r.sm.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: arn }));

const answers = (token: string) => r.stack.cloud.pipelines.answers(token);

/** A pipeline execution whose own callback message goes elsewhere: its token is known to SageMaker only. */
const scratchExecution = async (name: string) => {
  const sqs = new SQSClient({ region: 'us-east-1' });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'scratch-callbacks' }));
  return startPipeline(name, {}, QueueUrl);
};

const sqsRecord = (messageId: string, body: unknown): SQSRecord =>
  ({
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(r.stack.cloud.clock.now()),
      SenderId: 'AROA',
      ApproximateFirstReceiveTimestamp: String(r.stack.cloud.clock.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:sagemaker-rollouts-local-callbacks',
    awsRegion: 'us-east-1',
  }) as SQSRecord;

describe('pipeline callback steps end to end', () => {
  it('(e) a callback step deploys a model through the canary and succeeds with output parameters', async () => {
    await start();
    await withV1InProd(r, GROUP, PROD);
    const v2 = await r.registerAndApprove(GROUP);
    const { arn, token } = await startPipeline('train-and-deploy', {
      task: 'deploy',
      modelPackageArn: v2,
      stage: 'prod',
    });
    // the callback message is handled before the approval event: the pipeline's request starts v2
    await r.stack.pollQueues();
    expect((await r.state(GROUP)).deployments.find((d) => d.id === `${GROUP}:v2`)?.trigger).toBe('callback');

    await r.runUntil(
      async () => (await status(arn)).PipelineExecutionStatus !== 'Executing',
      3 * 60 * MINUTE,
    );
    expect((await status(arn)).PipelineExecutionStatus).toBe('Succeeded');
    const endpoint = r.stack.cloud.sagemaker.endpoints.get(PROD);
    expect(answers(token)).toEqual([
      expect.objectContaining({
        kind: 'success',
        accepted: true,
        outputParameters: [
          { Name: 'EndpointConfigName', Value: endpoint?.configName },
          { Name: 'EndpointName', Value: PROD },
          { Name: 'ModelPackageArn', Value: v2 },
          { Name: 'VariantName', Value: 'v2' },
        ],
      }),
    ]);
    expect(r.weights(PROD)).toEqual({ v2: 100 });
    expect(await r.phase(`${GROUP}:v2`)).toBe('Succeeded');
    expect(r.events('Callback Reported')).toEqual([
      expect.objectContaining({
        detail: expect.objectContaining({
          callback: callbackRef(token),
          outcome: 'success',
          pipelineExecutionArn: arn,
        }),
      }),
    ]);
    // the token answers a pipeline step: it is named by a short hash only
    expect(JSON.stringify(r.events('Callback Reported'))).not.toContain(token);
  });

  it('(f) a pipeline stopped during the canary: the deployment is aborted, the canary rolled back, failure reported, pipeline stopped', async () => {
    await start();
    await withV1InProd(r, GROUP, PROD);
    const v2 = await r.registerAndApprove(GROUP);
    const { arn, token } = await startPipeline('train-and-deploy', {
      task: 'deploy',
      modelPackageArn: v2,
      stage: 'prod',
    });
    await r.stack.pollQueues();
    await r.runUntil(async () => r.weights(PROD).v2 === 10);

    await r.sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
    await r.runUntil(async () => (await status(arn)).PipelineExecutionStatus !== 'Stopping', 30 * MINUTE);
    expect((await status(arn)).PipelineExecutionStatus).toBe('Stopped');
    expect(answers(token)).toEqual([
      expect.objectContaining({ kind: 'failure', accepted: true, failureReason: STOPPED_REASON }),
    ]);
    await r.runUntil(async () => Object.keys(r.weights(PROD)).length === 1, 30 * MINUTE);
    expect(await r.phase(`${GROUP}:v2`)).toBe('Aborted');
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    expect((await r.state(GROUP)).prod?.version).toBe(1);
    // nothing answers the token again later
    await r.stack.run(60 * MINUTE);
    expect(answers(token)).toHaveLength(1);
  });

  it('(f) a pipeline stopped while its deployment is in QA', async () => {
    await start();
    await r.createGroup(GROUP);
    const v1 = await r.register(GROUP);
    const { arn, token } = await startPipeline('qa-deploy', {
      task: 'deploy',
      modelPackageArn: v1,
      stage: 'qa',
    });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'QaDeploying');
    await r.sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
    await r.stack.run(30 * MINUTE);
    expect((await status(arn)).PipelineExecutionStatus).toBe('Stopped');
    expect(answers(token)).toEqual([
      expect.objectContaining({ kind: 'failure', accepted: true, failureReason: STOPPED_REASON }),
    ]);
    expect(await r.phase(`${GROUP}:v1`)).toBe('Aborted');
  });

  it('a Stopping that arrives before its Executing message is answered; the Executing message starts nothing', async () => {
    await start();
    await r.createGroup(GROUP);
    const v1 = await r.register(GROUP);
    const { arn, token } = await startPipeline('qa-deploy', {
      task: 'deploy',
      modelPackageArn: v1,
      stage: 'qa',
    });
    const queue = queueName(r.stack.queueUrls.CallbackQueue);
    // the Executing message is in flight somewhere (received, not yet handled) when the stop comes
    const [executing] = r.stack.cloud.sqs.receiveBatch(queue, 1, 120);
    await r.sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
    await r.stack.run(MINUTE);
    expect((await status(arn)).PipelineExecutionStatus).toBe('Stopped');
    expect(answers(token)).toEqual([
      expect.objectContaining({ kind: 'failure', failureReason: STOPPED_REASON }),
    ]);

    const response = (await r.stack.invoke('pipelineCallback', { Records: [executing] })) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    await r.stack.run(30 * MINUTE);
    expect(answers(token)).toHaveLength(1);
    expect(r.stack.cloud.sagemaker.endpoints.has('churn-model-qa')).toBe(false);
    expect(await r.phase(`${GROUP}:v1`)).toBeUndefined();
  });

  it('a Stopping for a token never seen (its Executing message was lost) is answered at once and the pipeline stops', async () => {
    await start();
    const { arn, token } = await startPipeline('lost', { task: 'deploy' });
    r.stack.cloud.sqs.receiveBatch(queueName(r.stack.queueUrls.CallbackQueue), 1, 3600);
    await r.sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
    await r.stack.run(MINUTE);
    expect(answers(token)).toEqual([
      expect.objectContaining({ kind: 'failure', accepted: true, failureReason: STOPPED_REASON }),
    ]);
    expect((await status(arn)).PipelineExecutionStatus).toBe('Stopped');
  });

  it('a mixed batch: good, malformed, Stopping and unknown-task messages each meet their fate; the malformed one ends in the DLQ', async () => {
    await start();
    await r.createGroup(GROUP);
    const v1 = await r.register(GROUP);
    const good = await scratchExecution('good');
    const stopping = await scratchExecution('stopping');
    const unknownTask = await scratchExecution('unknown-task');
    const badArguments = await scratchExecution('bad-arguments');
    const sqs = new SQSClient({ region: 'us-east-1' });
    const send = (body: unknown) =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl: r.stack.queueUrls.CallbackQueue,
          MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      );
    const bodyOf = (
      e: { arn: string; token: string },
      args: Record<string, unknown>,
      status = 'Executing',
    ) => ({
      token: e.token,
      pipelineExecutionArn: e.arn,
      arguments: args,
      status,
    });
    await send(bodyOf(good, { task: 'deploy', modelPackageArn: v1, stage: 'qa' }));
    const malformed = await send('{"token": "AbCdEf1234", "arguments": ');
    await send({ pipelineExecutionArn: good.arn, arguments: {} });
    await send({ ...bodyOf(stopping, {}), status: undefined, Status: 'Stopping' });
    await send(bodyOf(unknownTask, { task: 'retrain' }));
    await send({ ...bodyOf(badArguments, {}), arguments: ['deploy'] });

    await r.stack.run(MINUTE);
    expect(answers(stopping.token)).toEqual([
      expect.objectContaining({ kind: 'failure', failureReason: STOPPED_REASON }),
    ]);
    expect(answers(unknownTask.token)).toEqual([
      expect.objectContaining({
        kind: 'failure',
        failureReason: expect.stringMatching(/^unknown task "retrain"; known tasks: deploy, smoke-test/),
      }),
    ]);
    expect(answers(badArguments.token)).toEqual([
      expect.objectContaining({
        kind: 'failure',
        failureReason: expect.stringMatching(/^Invalid callback message: arguments/),
      }),
    ]);
    const rejected = r.stack.records.filter(
      (x) =>
        x.kind === 'result' && x.functionName === 'pipelineCallback' && x.detail === '2 failed record(s)',
    );
    expect(rejected.length).toBeGreaterThan(0);

    await r.stack.run(60 * MINUTE);
    expect(answers(good.token)).toEqual([
      expect.objectContaining({
        kind: 'success',
        outputParameters: expect.arrayContaining([{ Name: 'EndpointName', Value: 'churn-model-qa' }]),
      }),
    ]);
    const dlq = r.stack.cloud.sqs.messages(queueName(r.stack.queueUrls.CallbackDlq));
    expect(dlq.map((m) => m.messageId).sort()).toHaveLength(2);
    expect(dlq.map((m) => m.messageId)).toContain(malformed.MessageId);
    expect(r.stack.cloud.sqs.messages(queueName(r.stack.queueUrls.CallbackQueue))).toEqual([]);
    for (const e of [good, stopping, unknownTask, badArguments]) expect(answers(e.token)).toHaveLength(1);
  });

  describe('redelivery: the same SQS event handled twice gives exactly one answer per token', () => {
    const event = async () => {
      await r.createGroup(GROUP);
      const v1 = await r.register(GROUP);
      const executions = [
        await scratchExecution('a'),
        await scratchExecution('b'),
        await scratchExecution('c'),
      ];
      const [deploy, unknown, stop] = executions as [
        (typeof executions)[0],
        (typeof executions)[0],
        (typeof executions)[0],
      ];
      const body = (e: typeof deploy, args: Record<string, unknown>, status = 'Executing') => ({
        token: e.token,
        pipelineExecutionArn: e.arn,
        arguments: args,
        status,
      });
      const records = [
        sqsRecord('m-1', body(deploy, { task: 'deploy', modelPackageArn: v1, stage: 'qa' })),
        sqsRecord('m-2', body(unknown, { task: 'nope' })),
        sqsRecord('m-3', body(stop, {}, 'Stopping')),
      ];
      return { executions, event: { Records: records } as SQSEvent };
    };

    const check = async (executions: { token: string }[]) => {
      await r.stack.run(60 * MINUTE);
      for (const e of executions) {
        // one answer completes the step; a concurrent twin may resend it with the same
        // ClientRequestToken, which SageMaker treats as the same request (never a second answer)
        const all = answers(e.token);
        expect(
          all.filter((a) => a.accepted && a.error === undefined),
          e.token,
        ).toHaveLength(1);
        expect(
          all.every((a) => a.accepted),
          e.token,
        ).toBe(true);
        expect(new Set(all.map((a) => `${a.kind}:${a.clientRequestToken}`)).size, e.token).toBe(1);
      }
      expect(r.stack.cloud.callCounts().CreateEndpoint ?? 0).toBe(1);
    };

    it('in sequence', async () => {
      await start();
      const { executions, event: e } = await event();
      await r.stack.invoke('pipelineCallback', e);
      await r.stack.invoke('pipelineCallback', e);
      await check(executions);
      for (const x of executions) expect(answers(x.token)).toHaveLength(1);
    });

    it('concurrently', async () => {
      await start();
      const { executions, event: e } = await event();
      await Promise.all([r.stack.invoke('pipelineCallback', e), r.stack.invoke('pipelineCallback', e)]);
      await check(executions);
    });
  });

  it('a throttled SendPipelineExecutionStepFailure fails only that record; SQS redelivers it and it is answered once', async () => {
    await start();
    const { token, arn } = await startPipeline('unknown-task', { task: 'retrain' });
    // more than the SDK's own attempts, so the record itself fails
    r.stack.cloud.faults.add({
      operation: 'SendPipelineExecutionStepFailure',
      error: 'ThrottlingException',
      times: 3,
    });
    await r.stack.run(MINUTE);
    expect(answers(token)).toEqual([]);
    expect(r.stack.cloud.sqs.messages(queueName(r.stack.queueUrls.CallbackQueue))).toHaveLength(1);
    await r.stack.run(10 * MINUTE);
    expect(answers(token)).toEqual([expect.objectContaining({ kind: 'failure', accepted: true })]);
    expect((await status(arn)).PipelineExecutionStatus).toBe('Failed');
    expect(r.stack.cloud.sqs.messages(queueName(r.stack.queueUrls.CallbackQueue))).toEqual([]);
  });

  it('a throttled SendPipelineExecutionStepSuccess is retried and the step answered once', async () => {
    await start();
    await r.createGroup(GROUP);
    const v1 = await r.register(GROUP);
    r.stack.cloud.faults.add({
      operation: 'SendPipelineExecutionStepSuccess',
      error: 'ThrottlingException',
      times: 1,
    });
    const { token, arn } = await startPipeline('qa-deploy', {
      task: 'deploy',
      modelPackageArn: v1,
      stage: 'qa',
    });
    await r.runUntil(async () => (await status(arn)).PipelineExecutionStatus !== 'Executing', 60 * MINUTE);
    expect((await status(arn)).PipelineExecutionStatus).toBe('Succeeded');
    expect(answers(token)).toEqual([expect.objectContaining({ kind: 'success', accepted: true })]);
  });

  it('a task past callback.taskTimeoutMinutes is answered with failure by the tick', async () => {
    const configPath = localConfigVariant((config) => {
      config.modelPackageGroups['fraud-detector'].callback = { taskTimeoutMinutes: 30 };
    });
    await start({ configPath });
    await r.createGroup('fraud-detector');
    const v1 = await r.registerAndApprove('fraud-detector');
    const { token, arn } = await startPipeline('fraud', {
      task: 'deploy',
      modelPackageArn: v1,
      stage: 'prod',
    });
    await r.runUntil(
      async () => (await status(arn)).PipelineExecutionStatus !== 'Executing',
      2 * 60 * MINUTE,
    );
    expect((await status(arn)).PipelineExecutionStatus).toBe('Failed');
    const [answer] = answers(token);
    expect(answer).toMatchObject({ kind: 'failure', accepted: true });
    expect(answer?.failureReason).toMatch(
      /^task timed out after 30 min \(fraud-detector:v1 is AwaitingApproval\)/,
    );
    expect(answers(token)).toHaveLength(1);
    // the pipeline gave up on the work, so the work stops too, whichever event started it
    const d = (await r.state('fraud-detector')).deployments[0];
    expect(d).toMatchObject({ phase: 'Aborted', callbacks: [] });
    expect(d?.reason).toMatch(/timed out after 30 min/);
    expect((await deps().store.getCallback(token))?.reportedAt).toBeDefined();
  });
});
