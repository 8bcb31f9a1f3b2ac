import {
  DescribePipelineExecutionCommand,
  ListPipelineExecutionStepsCommand,
  SendPipelineExecutionStepFailureCommand,
  SendPipelineExecutionStepSuccessCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-sagemaker';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAll, type Env, setup } from './helpers';

describe('pipelines with a callback step', () => {
  let env: Env;
  let queueUrl: string;
  beforeEach(async () => {
    env = await setup();
    queueUrl = (await env.sqs.send(new CreateQueueCommand({ QueueName: 'callbacks' }))).QueueUrl!;
    env.cloud.pipelines.define({
      name: 'Train',
      callbackQueueUrl: queueUrl,
      callbackArguments: { task: 'deploy', stage: { Get: 'Parameters.Stage' } },
    });
  });
  afterEach(async () => closeAll(env));

  const bodies = (env: Env) => env.cloud.sqs.receiveBatch('callbacks', 10).map((r) => JSON.parse(r.body));

  it('sends Executing then Stopping messages with the same token, and stops once answered', async () => {
    const { sm, cloud } = env;
    const { PipelineExecutionArn: arn } = await sm.send(
      new StartPipelineExecutionCommand({
        PipelineName: 'Train',
        PipelineParameters: [{ Name: 'Stage', Value: 'qa' }],
      }),
    );
    expect(arn).toMatch(/^arn:aws:sagemaker:us-east-1:111122223333:pipeline\/train\/execution\/[a-z0-9]+$/);
    const [executing] = bodies(env);
    expect(executing).toEqual({
      token: expect.stringMatching(/^[a-zA-Z0-9]{10}$/),
      pipelineExecutionArn: arn,
      arguments: { task: 'deploy', stage: 'qa' },
      status: 'Executing',
    });
    await sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
    cloud.advance(30_000);
    // The unacknowledged Executing message is visible again, next to the Stopping one.
    const redelivered = bodies(env);
    expect(redelivered.map((b) => [b.token, b.status])).toEqual([
      [executing.token, 'Executing'],
      [executing.token, 'Stopping'],
    ]);
    expect(
      (await sm.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: arn })))
        .PipelineExecutionStatus,
    ).toBe('Stopping');
    await sm.send(
      new SendPipelineExecutionStepFailureCommand({
        CallbackToken: executing.token,
        FailureReason: 'stopped',
      }),
    );
    expect(
      (await sm.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: arn })))
        .PipelineExecutionStatus,
    ).toBe('Stopped');
  });

  it('rejects a second answer with ConflictException unless it repeats the same request token and outcome', async () => {
    const { sm, cloud } = env;
    const { PipelineExecutionArn: arn } = await sm.send(
      new StartPipelineExecutionCommand({ PipelineName: 'Train' }),
    );
    const [{ token }] = bodies(env);
    const crt = 'a'.repeat(64);
    const success = new SendPipelineExecutionStepSuccessCommand({
      CallbackToken: token,
      ClientRequestToken: crt,
      OutputParameters: [{ Name: 'endpoint', Value: 'qa-endpoint' }],
    });
    expect((await sm.send(success)).PipelineExecutionArn).toBe(arn);
    expect((await sm.send(success)).PipelineExecutionArn).toBe(arn);
    await expect(
      sm.send(new SendPipelineExecutionStepFailureCommand({ CallbackToken: token, FailureReason: 'late' })),
    ).rejects.toMatchObject({ name: 'ConflictException', $metadata: { httpStatusCode: 400 } });
    await expect(
      sm.send(new SendPipelineExecutionStepSuccessCommand({ CallbackToken: token, OutputParameters: [] })),
    ).rejects.toMatchObject({ name: 'ConflictException' });
    expect(cloud.pipelines.answers(token).map((a) => [a.kind, a.accepted])).toEqual([
      ['success', true],
      ['success', true],
      ['failure', false],
      ['success', false],
    ]);
    const exec = await sm.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: arn }));
    expect(exec.PipelineExecutionStatus).toBe('Succeeded');
    const steps = await sm.send(new ListPipelineExecutionStepsCommand({ PipelineExecutionArn: arn }));
    expect(steps.PipelineExecutionSteps?.[0]?.Metadata?.Callback).toMatchObject({
      CallbackToken: token,
      OutputParameters: [{ Name: 'endpoint', Value: 'qa-endpoint' }],
    });
  });

  it('validates token format, reason length and request token length', async () => {
    const { sm } = env;
    await sm.send(new StartPipelineExecutionCommand({ PipelineName: 'Train' }));
    const [{ token }] = bodies(env);
    await expect(
      sm.send(new SendPipelineExecutionStepSuccessCommand({ CallbackToken: 'short' })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(
      sm.send(
        new SendPipelineExecutionStepFailureCommand({ CallbackToken: token, FailureReason: 'x'.repeat(257) }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      sm.send(
        new SendPipelineExecutionStepFailureCommand({
          CallbackToken: token,
          ClientRequestToken: 'too-short',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      sm.send(new SendPipelineExecutionStepSuccessCommand({ CallbackToken: 'ZZZZZZZZZZ' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFound',
    });
    await sm.send(
      new SendPipelineExecutionStepFailureCommand({ CallbackToken: token, FailureReason: 'x'.repeat(256) }),
    );
  });
});
