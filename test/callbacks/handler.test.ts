import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../handlers/pipeline-callback';
import { STOPPED_REASON } from '../../src/app/callbacks/handle-message';
import { setHandlerClock } from '../../src/clock';
import { logger, setDeps } from '../../src/wiring';
import { Dynamo, EXEC_ARN, type Harness, harness, newToken, T0, throttled } from './harness';

let dynamo: Dynamo;
let h: Harness;

beforeAll(async () => {
  dynamo = await Dynamo.start();
  // the handler's clock: the world of these messages is at T0 (a message far from it is decided at the clock)
  setHandlerClock(() => T0);
});
afterAll(async () => {
  setHandlerClock(undefined);
  setDeps(undefined);
  await dynamo.close();
});
beforeEach(async () => {
  h = await harness(dynamo);
  setDeps(h.deps);
});

const context = {
  functionName: 'sagemaker-rollouts-test-pipelineCallback',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

let ids = 0;
const record = (body: string | Record<string, unknown>, receiveCount = 1): SQSRecord =>
  ({
    messageId: `msg-${++ids}`,
    receiptHandle: `rh-${ids}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(T0),
      SenderId: 'AROA',
      ApproximateFirstReceiveTimestamp: String(T0),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:sagemaker-rollouts-test-callbacks',
    awsRegion: 'us-east-1',
  }) as SQSRecord;

const invoke = async (records: SQSRecord[]): Promise<string[]> => {
  const response = (await handler({ Records: records } as SQSEvent, context)) as SQSBatchResponse;
  return response.batchItemFailures.map((f) => f.itemIdentifier);
};

const body = (token: string, args: Record<string, unknown>, status = 'Executing') => ({
  token,
  pipelineExecutionArn: EXEC_ARN,
  arguments: args,
  status,
});
const smokeArgs = { task: 'smoke-test', endpointName: 'churn-model-qa', body: { instances: [[0.1]] } };

describe('pipeline-callback handler', () => {
  it('a mixed batch: each record meets its own fate', async () => {
    const errors = vi.spyOn(logger, 'error');
    const tokens = {
      good: newToken(),
      stoppingUnknown: newToken(),
      unknownTask: newToken(),
      badArguments: newToken(),
      deploy: newToken(),
    };
    const deployArn = h.registry.add('churn-model', 1, 'PendingManualApproval');
    const records = {
      good: record(body(tokens.good, smokeArgs)),
      notJson: record('{"token":'),
      noToken: record({ pipelineExecutionArn: EXEC_ARN, arguments: {}, status: 'Executing' }),
      badToken: record(body('short', smokeArgs)),
      stoppingUnknown: record({
        token: tokens.stoppingUnknown,
        pipelineExecutionArn: EXEC_ARN,
        Status: 'Stopping',
      }),
      unknownTask: record(body(tokens.unknownTask, { task: 'retrain' })),
      badArguments: record({ ...body(tokens.badArguments, {}), arguments: 'deploy' }),
      deploy: record(body(tokens.deploy, { task: 'deploy', modelPackageArn: deployArn, stage: 'qa' })),
    };
    const failed = await invoke(Object.values(records));

    expect(failed.sort()).toEqual(
      [records.notJson.messageId, records.noToken.messageId, records.badToken.messageId].sort(),
    );
    for (const bad of [records.notJson, records.noToken, records.badToken]) {
      expect(errors).toHaveBeenCalledWith(
        expect.stringContaining(`callback message ${bad.messageId} rejected`),
        expect.objectContaining({ messageId: bad.messageId }),
      );
    }
    const only = (token: string) => {
      const accepted = h.pipelines.accepted(token);
      expect(accepted).toHaveLength(1);
      return accepted[0];
    };
    expect(only(tokens.good)).toMatchObject({ outcome: 'success', outputs: { StatusCode: '200' } });
    expect(only(tokens.stoppingUnknown)).toMatchObject({ outcome: 'failure', reason: STOPPED_REASON });
    expect(only(tokens.unknownTask)?.reason).toMatch(/^unknown task "retrain"/);
    expect(only(tokens.badArguments)?.reason).toMatch(/^Invalid callback message: arguments/);
    expect(h.pipelines.accepted(tokens.deploy)).toEqual([]);
    expect((await h.deps.store.getCallback(tokens.deploy))?.group).toBe('churn-model');
    expect(h.pipelines.sent.map((a) => a.token).sort()).toEqual(
      [tokens.good, tokens.stoppingUnknown, tokens.unknownTask, tokens.badArguments].sort(),
    );
    errors.mockRestore();
  });

  it('a transient error fails only its record; the redelivery answers it once', async () => {
    const [a, b] = [newToken(), newToken()];
    const ra = record(body(a, { task: 'nope' }));
    const rb = record(body(b, smokeArgs));
    h.endpoints.invokeError = throttled();
    expect(await invoke([ra, rb])).toEqual([rb.messageId]);
    expect(h.pipelines.accepted(a)).toHaveLength(1);
    h.endpoints.invokeError = undefined;
    expect(await invoke([rb])).toEqual([]);
    expect(h.pipelines.accepted(b)).toEqual([expect.objectContaining({ outcome: 'success' })]);
  });

  it('a throttled answer fails its record; the redelivery sends it with the same request token', async () => {
    const token = newToken();
    const r = record(body(token, smokeArgs));
    h.pipelines.failNext.push(throttled());
    expect(await invoke([r])).toEqual([r.messageId]);
    expect(await invoke([r])).toEqual([]);
    expect(h.pipelines.sent.filter((s) => s.token === token)).toEqual([
      expect.objectContaining({ outcome: 'success', accepted: true }),
    ]);
  });

  describe('redelivery: the same batch twice gives one answer per token', () => {
    const batch = () => {
      const tokens = [newToken(), newToken(), newToken(), newToken()];
      const [smoke, unknown, stopping, deploy] = tokens as [string, string, string, string];
      const arn = h.registry.add('churn-model', 1, 'PendingManualApproval');
      const records = [
        record(body(smoke, smokeArgs)),
        record(body(unknown, { task: 'retrain' })),
        record(body(stopping, {}, 'Stopping')),
        record(body(deploy, { task: 'deploy', modelPackageArn: arn, stage: 'qa' })),
        record(body(deploy, {}, 'Stopping')),
        record('not json'),
      ];
      return { tokens, records };
    };

    const check = async (tokens: string[]) => {
      for (const token of tokens) {
        expect(h.pipelines.accepted(token), token).toHaveLength(1);
        expect((await h.deps.store.getCallback(token))?.reportedAt).toBe(T0);
      }
      const state = await h.deps.store.loadGroup('churn-model');
      expect(state?.deployments.filter((d) => d.phase !== 'Aborted') ?? []).toEqual([]);
      expect(h.endpoints.deploys.length).toBeLessThanOrEqual(1);
    };

    it('in sequence', async () => {
      const { tokens, records } = batch();
      const malformed = records.at(-1)?.messageId;
      expect(await invoke(records)).toEqual([malformed]);
      expect(await invoke(records)).toEqual([malformed]);
      await check(tokens);
    });

    it('concurrently', async () => {
      const { tokens, records } = batch();
      const malformed = records.at(-1)?.messageId;
      const [first, second] = await Promise.all([invoke(records), invoke(records)]);
      expect(first).toEqual([malformed]);
      expect(second).toEqual([malformed]);
      await check(tokens);
    });
  });
});
