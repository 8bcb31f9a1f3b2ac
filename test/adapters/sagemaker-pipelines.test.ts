import {
  SageMakerClient,
  SendPipelineExecutionStepFailureCommand,
  SendPipelineExecutionStepSuccessCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  clientRequestToken,
  outputParameters,
  SageMakerPipelineCallbacks,
} from '../../src/adapters/sagemaker-pipelines';
import { callbackRef } from '../../src/domain/naming';
import { PermanentError, TransientError } from '../../src/errors';
import { awsError, throttled } from './aws-fakes';

const sm = mockClient(SageMakerClient);
let callbacks: SageMakerPipelineCallbacks;
const TOKEN = 'AbCdEf1234';

beforeEach(() => {
  sm.reset();
  callbacks = new SageMakerPipelineCallbacks(new SageMakerClient({ region: 'us-east-1' }));
});

// the worker's process runs other files after this one: their clients must reach the real SDK
afterAll(() => {
  sm.restore();
});

describe('clientRequestToken', () => {
  it('is the sha256 hex of token and outcome: deterministic, 64 chars, distinct per outcome', () => {
    const success = clientRequestToken(TOKEN, 'success');
    expect(success).toBe(clientRequestToken(TOKEN, 'success'));
    expect(success).toMatch(/^[0-9a-f]{64}$/);
    expect(success).toBe('e5f56f4e81270487e7b765a9ff90bf4bf9636a359ca436623fbe32e66f77960c');
    expect(clientRequestToken(TOKEN, 'failure')).not.toBe(success);
    expect(clientRequestToken('ZyXwVu9876', 'success')).not.toBe(success);
  });
});

describe('sendSuccess', () => {
  it('sends the outputs with the given ClientRequestToken', async () => {
    const token = clientRequestToken(TOKEN, 'success');
    expect(await callbacks.sendSuccess(TOKEN, { endpoint: 'churn-prod', version: '3' }, token)).toBe('sent');
    expect(sm.commandCalls(SendPipelineExecutionStepSuccessCommand)[0]?.args[0].input).toEqual({
      CallbackToken: TOKEN,
      OutputParameters: [
        { Name: 'endpoint', Value: 'churn-prod' },
        { Name: 'version', Value: '3' },
      ],
      ClientRequestToken: token,
    });
  });

  it('keeps at most 50 parameters (first by name), values cut to 1024, over-long names dropped', () => {
    const outputs: Record<string, string> = { ['n'.repeat(257)]: 'dropped', long: 'v'.repeat(5000) };
    for (let i = 0; i < 60; i++) outputs[`p${String(i).padStart(2, '0')}`] = String(i);
    const params = outputParameters(outputs);
    expect(params).toHaveLength(50);
    expect(params[0]).toEqual({ Name: 'long', Value: 'v'.repeat(1024) });
    expect(params[1]?.Name).toBe('p00');
    expect(params[49]?.Name).toBe('p48');
    expect(params.some((p) => p.Name?.startsWith('nnn'))).toBe(false);
    expect(outputParameters(Object.fromEntries(Object.entries(outputs).reverse()))).toEqual(params);
  });

  it('reports a ConflictException as already answered', async () => {
    sm.on(SendPipelineExecutionStepSuccessCommand).rejects(awsError('ConflictException', 'conflict'));
    expect(await callbacks.sendSuccess(TOKEN, {}, clientRequestToken(TOKEN, 'success'))).toBe(
      'already-answered',
    );
  });
});

describe('sendFailure', () => {
  it('truncates FailureReason to 256 characters', async () => {
    const token = clientRequestToken(TOKEN, 'failure');
    expect(await callbacks.sendFailure(TOKEN, `canary gate failed: ${'x'.repeat(400)}`, token)).toBe('sent');
    const input = sm.commandCalls(SendPipelineExecutionStepFailureCommand)[0]?.args[0].input;
    expect(input?.FailureReason).toHaveLength(256);
    expect(input?.FailureReason?.startsWith('canary gate failed: ')).toBe(true);
    expect(input).toMatchObject({ CallbackToken: TOKEN, ClientRequestToken: token });
  });

  it('treats "already completed" as answered, other errors by kind', async () => {
    sm.on(SendPipelineExecutionStepFailureCommand)
      .rejectsOnce(awsError('ValidationException', 'Step has already been completed.'))
      .rejectsOnce(throttled())
      .rejects(awsError('ResourceNotFound', 'Callback token AbCdEf1234 does not exist.'));
    const requestToken = clientRequestToken(TOKEN, 'failure');
    expect(await callbacks.sendFailure(TOKEN, 'stopped', requestToken)).toBe('already-answered');
    await expect(callbacks.sendFailure(TOKEN, 'stopped', requestToken)).rejects.toBeInstanceOf(
      TransientError,
    );
    await expect(callbacks.sendFailure(TOKEN, 'stopped', requestToken)).rejects.toBeInstanceOf(
      PermanentError,
    );
  });

  it("names the callback by its hash in errors, even when SageMaker's message quotes the token", async () => {
    sm.on(SendPipelineExecutionStepFailureCommand)
      .rejectsOnce(awsError('ResourceNotFound', `Callback token ${TOKEN} does not exist.`))
      .rejects(throttled());
    for (const kind of [PermanentError, TransientError]) {
      const error = await callbacks.sendFailure(TOKEN, 'stopped', 'r'.repeat(64)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(kind);
      const { message, cause } = error as Error;
      expect(message).toContain(callbackRef(TOKEN));
      expect(message).not.toContain(TOKEN);
      expect(String((cause as Error).message)).not.toContain(TOKEN);
    }
  });
});
