import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientRequestToken } from '../../src/adapters/sagemaker-pipelines';
import {
  onCallbackMessage,
  onInvalidCallbackMessage,
  STOPPED_REASON,
} from '../../src/app/callbacks/handle-message';
import type { CallbackMessage } from '../../src/app/callbacks/task';
import { onEndpointChanged } from '../../src/app/endpoint-changed';
import { onModelPackageChanged } from '../../src/app/model-package-changed';
import { runTick } from '../../src/app/tick';
import { callbackRef } from '../../src/domain/naming';
import { parseCallbackBody } from '../../src/domain/schemas/callback-message';
import { InputValidationError, PermanentError } from '../../src/errors';
import type { InvokeResult } from '../../src/ports/sagemaker';
import { Dynamo, EXEC_ARN, type Harness, harness, newToken, T0, throttled } from './harness';

let dynamo: Dynamo;
let h: Harness;

beforeAll(async () => {
  dynamo = await Dynamo.start();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  h = await harness(dynamo);
});

const MIN = 60_000;

const message = (
  args: Record<string, unknown>,
  overrides: Partial<CallbackMessage> = {},
): CallbackMessage => ({
  token: newToken(),
  pipelineExecutionArn: EXEC_ARN,
  arguments: args,
  status: 'Executing',
  ...overrides,
});

const deployMessage = (
  version: number,
  stage: 'qa' | 'prod',
  status: CallbackMessage['status'] = 'Executing',
) => {
  const arn = h.registry.packages.has(
    `arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model/${version}`,
  )
    ? `arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model/${version}`
    : h.registry.add('churn-model', version, stage === 'qa' ? 'PendingManualApproval' : 'Approved');
  return message({ task: 'deploy', modelPackageArn: arn, stage }, { status });
};

const deployment = async (id: string) =>
  (await h.deps.store.loadGroup('churn-model'))?.deployments.find((d) => d.id === id);

/** The endpoint's current operation ends; its Endpoint State Change event is handled. */
const endpointEvent = async (name: string, at: number, status: 'InService' | 'Failed' = 'InService') => {
  h.endpoints.settle(
    name,
    at,
    status,
    status === 'Failed' ? 'CannotStartContainerError: image not found' : undefined,
  );
  await onEndpointChanged(h.deps, name, at, {
    region: h.deps.region,
    endpointArn: `arn:aws:sagemaker:${h.deps.region}:111122223333:endpoint/${name}`,
  });
};

describe('parseCallbackBody', () => {
  const body = (value: unknown) => JSON.stringify(value);
  const valid = {
    token: 'AbCdEf1234',
    pipelineExecutionArn: EXEC_ARN,
    arguments: { task: 'deploy', n: 0.82 },
  };

  it.each([
    ['status', 'Executing', 'Executing'],
    ['status', 'Stopping', 'Stopping'],
    ['Status', 'Stopping', 'Stopping'],
    ['status', 'STOPPING', 'Stopping'],
    ['Status', 'executing', 'Executing'],
  ])('reads %s=%s as %s', (key, value, expected) => {
    expect(parseCallbackBody(body({ ...valid, [key]: value })).status).toBe(expected);
  });

  it('keeps argument types, defaults a missing status to Executing and missing arguments to {}', () => {
    const parsed = parseCallbackBody(body(valid));
    expect(parsed).toMatchObject({ token: 'AbCdEf1234', status: 'Executing', arguments: { n: 0.82 } });
    const { arguments: _args, ...noArgs } = valid;
    expect(parseCallbackBody(body(noArgs)).arguments).toEqual({});
  });

  it.each([
    ['not JSON', '{"token": "AbCdEf1234",', /not JSON/],
    ['a short token', body({ ...valid, token: 'short' }), /token/],
    ['a token with symbols', body({ ...valid, token: 'AbCdEf12-4' }), /token/],
    ['no token', body({ pipelineExecutionArn: EXEC_ARN }), /token/],
    ['an unknown status', body({ ...valid, status: 'Paused' }), /Executing or Stopping/],
    ['arguments that are not an object', body({ ...valid, arguments: 'deploy' }), /arguments/],
    ['a bad execution ARN', body({ ...valid, pipelineExecutionArn: 'arn:nope' }), /pipelineExecutionArn/],
  ])('rejects %s', (_what, text, reason) => {
    expect(() => parseCallbackBody(text)).toThrow(InputValidationError);
    expect(() => parseCallbackBody(text)).toThrow(reason);
  });
});

describe('onCallbackMessage: bad input answered with a reason', () => {
  it('an unknown task is answered with failure naming the known tasks', async () => {
    const m = message({ task: 'retrain' });
    expect(await onCallbackMessage(h.deps, m, T0)).toBe('answered');
    const [answer] = h.pipelines.accepted(m.token);
    expect(answer?.outcome).toBe('failure');
    expect(answer?.reason).toBe('unknown task "retrain"; known tasks: deploy, smoke-test');
    expect(answer?.requestToken).toBe(clientRequestToken(m.token, 'failure'));
  });

  it('a missing task is answered with failure', async () => {
    const m = message({ modelPackageArn: 'x' });
    await onCallbackMessage(h.deps, m, T0);
    expect(h.pipelines.accepted(m.token)[0]?.reason).toMatch(
      /^arguments.task is missing; known tasks: deploy/,
    );
  });

  it('invalid arguments for a task are answered with the field and the problem', async () => {
    const m = message({ task: 'deploy', modelPackageArn: 'churn-model/3', stage: 'staging' });
    expect(await onCallbackMessage(h.deps, m, T0)).toBe('answered');
    const reason = h.pipelines.accepted(m.token)[0]?.reason ?? '';
    expect(reason).toMatch(/^invalid arguments for task deploy: /);
    expect(reason).toContain('modelPackageArn: must be a model package version ARN');
    expect(reason).toContain('stage:');
  });

  it('a FailureReason longer than 256 characters is cut to 256', async () => {
    const m = message({ task: 'x'.repeat(400) });
    await onCallbackMessage(h.deps, m, T0);
    const reason = h.pipelines.accepted(m.token)[0]?.reason ?? '';
    expect(reason).toHaveLength(256);
    expect(reason.startsWith('unknown task "xxx')).toBe(true);
  });

  it('a package the registry does not know is answered with failure', async () => {
    const m = message({
      task: 'deploy',
      modelPackageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model/9',
    });
    await onCallbackMessage(h.deps, m, T0);
    expect(h.pipelines.accepted(m.token)[0]?.reason).toMatch(
      /^cannot read .*churn-model\/9: ResourceNotFound/,
    );
  });

  it('a package of a group this service does not manage is answered with failure', async () => {
    const arn = h.registry.add('other-model', 1);
    const m = message({ task: 'deploy', modelPackageArn: arn });
    await onCallbackMessage(h.deps, m, T0);
    expect(h.pipelines.accepted(m.token)[0]?.reason).toBe(
      'model package group other-model is not configured in sagemaker-rollouts',
    );
  });

  it('a deploy to prod of a version that is not approved is answered with failure', async () => {
    const arn = h.registry.add('churn-model', 4, 'PendingManualApproval');
    const m = message({ task: 'deploy', modelPackageArn: arn, stage: 'prod' });
    await onCallbackMessage(h.deps, m, T0);
    expect(h.pipelines.accepted(m.token)[0]?.reason).toMatch(
      /PendingManualApproval: deploying to prod needs/,
    );
    expect(h.endpoints.deploys).toHaveLength(0);
  });

  it('a message with a valid token but other invalid fields is answered with failure', async () => {
    const token = newToken();
    expect(
      await onInvalidCallbackMessage(
        h.deps,
        { token, pipelineExecutionArn: '' },
        'Invalid callback message: arguments: expected record',
        T0,
      ),
    ).toBe('answered');
    expect(await onInvalidCallbackMessage(h.deps, { token, pipelineExecutionArn: '' }, 'again', T0)).toBe(
      'already-answered',
    );
    expect(h.pipelines.sent.filter((a) => a.token === token)).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: 'Invalid callback message: arguments: expected record',
        accepted: true,
      }),
    ]);
  });

  it('a task refused for good mid-way is answered with failure rather than left to the dead-letter queue', async () => {
    h.endpoints.invokeError = new PermanentError('AccessDeniedException: not authorized to invoke');
    const m = message({ task: 'smoke-test', endpointName: 'churn-model-qa', body: { instances: [[1]] } });
    expect(await onCallbackMessage(h.deps, m, T0)).toBe('answered');
    expect(h.pipelines.accepted(m.token)[0]?.reason).toBe(
      'task smoke-test failed: AccessDeniedException: not authorized to invoke',
    );
  });
});

describe('smoke-test task', () => {
  const smoke = (extra: Record<string, unknown> = {}) =>
    message({ task: 'smoke-test', endpointName: 'churn-model-qa', body: { instances: [[0.1]] }, ...extra });

  it('answers success with the endpoint and response status', async () => {
    const m = smoke({ expectBodyContains: 'predictions' });
    await onCallbackMessage(h.deps, m, T0);
    expect(h.pipelines.accepted(m.token)).toEqual([
      expect.objectContaining({
        outcome: 'success',
        outputs: { EndpointName: 'churn-model-qa', StatusCode: '200' },
      }),
    ]);
  });

  // a ModelError's message quotes the model's answer, which may echo the request
  const modelError = (): InvokeResult => ({
    ok: false,
    statusCode: 500,
    body: '{"error":"cannot score SSN-123-45-6789"}',
    errorCode: 'ModelError',
    error:
      'ModelError: Received server error (500) from primary with message "{"error":"cannot score SSN-123-45-6789"}"',
  });

  it('answers failure with the response status and error code when the endpoint errs, quoting nothing', async () => {
    h.endpoints.invokeResult = modelError();
    const m = smoke({ body: { applicant: 'SSN-123-45-6789' } });
    await onCallbackMessage(h.deps, m, T0);
    expect(h.pipelines.accepted(m.token)[0]).toMatchObject({
      outcome: 'failure',
      reason: expect.stringMatching(
        /^churn-model-qa answered HTTP 500 ModelError \(answer 40 bytes, sha256 [0-9a-f]{12}\)$/,
      ),
    });
    expect(JSON.stringify(await h.deps.store.getCallback(m.token))).not.toContain('SSN-123-45-6789');
    expect(JSON.stringify(h.events)).not.toContain('SSN-123-45-6789');
    expect(JSON.stringify(h.logs)).not.toContain('SSN-123-45-6789');
  });

  it("quotes the model's message when the endpoint's group allows payload excerpts", async () => {
    h.deps.config.modelPackageGroups['churn-model']!.debug.payloadExcerpts = true;
    h.endpoints.invokeResult = modelError();
    const m = smoke();
    await onCallbackMessage(h.deps, m, T0);
    expect(h.pipelines.accepted(m.token)[0]?.reason).toContain('cannot score SSN-123-45-6789');
  });

  it('answers failure when the response lacks the expected text', async () => {
    h.endpoints.invokeResult = { ok: true, statusCode: 200, body: '{"predictions":["SSN-123-45-6789"]}' };
    const m = smoke({ expectBodyContains: 'scores' });
    await onCallbackMessage(h.deps, m, T0);
    const reason = h.pipelines.accepted(m.token)[0]?.reason;
    expect(reason).toMatch(/response lacks "scores" \(answer 35 bytes, sha256 [0-9a-f]{12}\)$/);
    expect(reason).not.toContain('SSN-123-45-6789');
  });
});

describe('deploy task', () => {
  it('deploys to QA and answers success with the output parameters when QA is live', async () => {
    const m = deployMessage(1, 'qa');
    expect(await onCallbackMessage(h.deps, m, T0)).toBe('started');
    expect(h.pipelines.sent).toHaveLength(0);
    const record = await h.deps.store.getCallback(m.token);
    expect(record).toMatchObject({ group: 'churn-model', task: 'deploy', pipelineExecutionArn: EXEC_ARN });
    expect((await deployment('churn-model:v1'))?.callbacks.map((c) => c.token)).toEqual([m.token]);

    await endpointEvent('churn-model-qa', T0 + 8 * MIN);
    const [answer] = h.pipelines.accepted(m.token);
    expect(answer?.outcome).toBe('success');
    expect(answer?.outputs).toEqual({
      EndpointName: 'churn-model-qa',
      EndpointConfigName: h.endpoints.endpoints.get('churn-model-qa')?.configName,
      VariantName: 'v1',
      ModelPackageArn: m.arguments.modelPackageArn,
    });
    const reported = h.events.find((e) => e.type === 'Callback Reported')?.detail;
    // named by a short hash: the token answers the pipeline step, it is never published
    expect(reported).toMatchObject({ callback: callbackRef(m.token), outcome: 'success' });
    expect(JSON.stringify(reported)).not.toContain(m.token);
    expect((await h.deps.store.getCallback(m.token))?.reportedAt).toBe(T0 + 8 * MIN);
  });

  it('deploys to prod (QA first) and answers success once prod serves the version', async () => {
    const m = deployMessage(1, 'prod');
    await onCallbackMessage(h.deps, m, T0);
    await endpointEvent('churn-model-qa', T0 + 8 * MIN);
    expect(h.pipelines.sent).toHaveLength(0);
    await endpointEvent('churn-model-prod', T0 + 16 * MIN);
    const answers = h.pipelines.accepted(m.token);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.outputs).toMatchObject({ EndpointName: 'churn-model-prod', VariantName: 'v1' });
    expect((await deployment('churn-model:v1'))?.phase).toBe('Succeeded');
  });

  it('answers success at once when the stage already serves the version', async () => {
    const first = deployMessage(1, 'qa');
    await onCallbackMessage(h.deps, first, T0);
    await endpointEvent('churn-model-qa', T0 + 8 * MIN);
    const again = message(first.arguments);
    await onCallbackMessage(h.deps, again, T0 + 9 * MIN);
    expect(h.pipelines.accepted(again.token)[0]).toMatchObject({
      outcome: 'success',
      outputs: { EndpointName: 'churn-model-qa' },
    });
  });

  it('answers failure with the reason when the deployment fails', async () => {
    const m = deployMessage(1, 'prod');
    await onCallbackMessage(h.deps, m, T0);
    await endpointEvent('churn-model-qa', T0 + 8 * MIN, 'Failed');
    const [answer] = h.pipelines.accepted(m.token);
    expect(answer?.outcome).toBe('failure');
    expect(answer?.reason).toMatch(/^churn-model:v1 failed: .*CannotStartContainerError/);
    expect(answer?.reason?.length).toBeLessThanOrEqual(256);
  });

  it('answers failure when the version is rejected while it deploys (aborted)', async () => {
    const m = deployMessage(1, 'prod');
    await onCallbackMessage(h.deps, m, T0);
    const pkg = h.registry.packages.get(String(m.arguments.modelPackageArn))!;
    pkg.approvalStatus = 'Rejected';
    await onModelPackageChanged(
      h.deps,
      { group: 'churn-model', version: 1, packageArn: pkg.arn, status: 'Rejected' },
      T0 + MIN,
    );
    expect(h.pipelines.accepted(m.token)[0]?.reason).toMatch(/^churn-model:v1 aborted: v1 rejected/);
  });

  it('a redelivered Executing message neither deploys again nor answers', async () => {
    const m = deployMessage(1, 'qa');
    await onCallbackMessage(h.deps, m, T0);
    await onCallbackMessage(h.deps, m, T0);
    await Promise.all([onCallbackMessage(h.deps, m, T0), onCallbackMessage(h.deps, m, T0)]);
    expect(h.endpoints.deploys).toHaveLength(1);
    expect((await deployment('churn-model:v1'))?.callbacks).toHaveLength(1);
    expect(h.pipelines.sent).toHaveLength(0);
    await endpointEvent('churn-model-qa', T0 + 8 * MIN);
    await onCallbackMessage(h.deps, m, T0 + 9 * MIN);
    expect(h.pipelines.sent.filter((a) => a.token === m.token)).toHaveLength(1);
  });

  it('a task past its timeout is answered with failure by the tick, and its deployment aborted', async () => {
    const config = structuredClone(h.deps.config);
    config.modelPackageGroups['churn-model']!.callback.taskTimeoutMinutes = 30;
    h.deps.config = config;
    const m = deployMessage(1, 'qa');
    await onCallbackMessage(h.deps, m, T0);
    await runTick(h.deps, T0 + 29 * MIN);
    expect(h.pipelines.sent).toHaveLength(0);
    await runTick(h.deps, T0 + 30 * MIN);
    expect(h.pipelines.accepted(m.token)[0]?.reason).toBe(
      'task timed out after 30 min (churn-model:v1 is QaDeploying)',
    );
    expect((await deployment('churn-model:v1'))?.phase).toBe('Aborted');
  });
});

describe('Stopping', () => {
  it('cancels the deployment tied to the token and answers failure', async () => {
    const m = deployMessage(1, 'qa');
    await onCallbackMessage(h.deps, m, T0);
    expect(await onCallbackMessage(h.deps, { ...m, status: 'Stopping' }, T0 + MIN)).toBe('stopping-handled');
    expect(h.pipelines.accepted(m.token)).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: STOPPED_REASON }),
    ]);
    const d = await deployment('churn-model:v1');
    expect(d?.phase).toBe('Aborted');
    expect(d?.callbacks).toEqual([]);
    // the endpoint's later event does not answer again
    await endpointEvent('churn-model-qa', T0 + 8 * MIN);
    expect(h.pipelines.sent.filter((a) => a.token === m.token)).toHaveLength(1);
  });

  it('a success SageMaker refuses for good is answered with failure, and a later Stopping adds nothing (finding 10)', async () => {
    const m = deployMessage(1, 'qa');
    await onCallbackMessage(h.deps, m, T0);
    h.pipelines.failNext.push(
      new PermanentError('ValidationException: output parameter EndpointName is invalid'),
    );
    await endpointEvent('churn-model-qa', T0 + 8 * MIN);
    expect(h.pipelines.accepted(m.token)).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: expect.stringMatching(/success answer was refused/),
      }),
    ]);
    expect(await onCallbackMessage(h.deps, { ...m, status: 'Stopping' }, T0 + 9 * MIN)).toBe(
      'already-answered',
    );
    expect(h.pipelines.accepted(m.token)).toHaveLength(1);
    expect(
      h.events.filter((e) => e.type === 'Callback Reported' && e.detail.callback === callbackRef(m.token)),
    ).toEqual([expect.objectContaining({ detail: expect.objectContaining({ outcome: 'failure' }) })]);
  });

  it('for a token never seen is answered with failure at once', async () => {
    const m = message({}, { status: 'Stopping' });
    expect(await onCallbackMessage(h.deps, m, T0)).toBe('stopping-handled');
    expect(h.pipelines.accepted(m.token)).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: STOPPED_REASON }),
    ]);
  });

  it('before its Executing message: the Executing message starts nothing', async () => {
    const m = deployMessage(1, 'qa');
    await onCallbackMessage(h.deps, { ...m, status: 'Stopping' }, T0);
    expect(await onCallbackMessage(h.deps, m, T0)).toBe('started');
    expect(h.endpoints.deploys).toHaveLength(0);
    expect(await h.deps.store.loadGroup('churn-model')).toBeUndefined();
    expect(h.pipelines.sent).toHaveLength(1);
  });

  it('racing its Executing message leaves no work running and one answer', async () => {
    for (let i = 0; i < 5; i++) {
      const m = deployMessage(1 + i, 'qa');
      await Promise.all([
        onCallbackMessage(h.deps, m, T0 + i),
        onCallbackMessage(h.deps, { ...m, status: 'Stopping' }, T0 + i),
      ]);
      expect(h.pipelines.accepted(m.token)).toEqual([expect.objectContaining({ reason: STOPPED_REASON })]);
      const state = await h.deps.store.loadGroup('churn-model');
      expect(state?.deployments.filter((d) => !['Aborted', 'Superseded'].includes(d.phase)) ?? []).toEqual(
        [],
      );
    }
  });

  it('after the answer was given changes nothing', async () => {
    const m = message({ task: 'smoke-test', endpointName: 'churn-model-qa', body: '{}' });
    await onCallbackMessage(h.deps, m, T0);
    expect(await onCallbackMessage(h.deps, { ...m, status: 'Stopping' }, T0 + MIN)).toBe('already-answered');
    expect(h.pipelines.sent).toHaveLength(1);
    expect(h.pipelines.sent[0]?.outcome).toBe('success');
  });
});

describe('exactly one answer', () => {
  it('a transient error sending the answer is thrown; the retry sends it with the same request token', async () => {
    const m = message({ task: 'retrain' });
    h.pipelines.failNext.push(throttled());
    await expect(onCallbackMessage(h.deps, m, T0)).rejects.toThrow(/ThrottlingException/);
    expect(h.pipelines.sent).toHaveLength(0);
    expect(await onCallbackMessage(h.deps, m, T0)).toBe('already-answered');
    expect(await onCallbackMessage(h.deps, m, T0)).toBe('already-answered');
    expect(h.pipelines.sent).toEqual([
      expect.objectContaining({ accepted: true, requestToken: clientRequestToken(m.token, 'failure') }),
    ]);
  });

  it('a throttled Stopping answer is retried with the message, not lost', async () => {
    const m = deployMessage(1, 'qa');
    await onCallbackMessage(h.deps, m, T0);
    // the group's outbox tries first, then the message handler itself
    h.pipelines.failNext.push(throttled(), throttled());
    const stopping = { ...m, status: 'Stopping' as const };
    await expect(onCallbackMessage(h.deps, stopping, T0 + MIN)).rejects.toThrow(/ThrottlingException/);
    expect((await deployment('churn-model:v1'))?.phase).toBe('Aborted');
    await onCallbackMessage(h.deps, stopping, T0 + 2 * MIN);
    expect(h.pipelines.accepted(m.token)).toEqual([expect.objectContaining({ reason: STOPPED_REASON })]);
  });

  it('a token SageMaker says was answered already counts as done', async () => {
    const m = message({ task: 'smoke-test', endpointName: 'churn-model-qa', body: '{}' });
    await h.pipelines.sendFailure(m.token, 'answered elsewhere', 'x'.repeat(64));
    await onCallbackMessage(h.deps, m, T0);
    expect((await h.deps.store.getCallback(m.token))?.reportedAt).toBe(T0);
    expect(h.events.find((e) => e.type === 'Callback Reported')?.detail).toMatchObject({
      alreadyAnswered: true,
    });
    await onCallbackMessage(h.deps, m, T0);
    expect(h.pipelines.sent.filter((a) => a.token === m.token)).toHaveLength(2);
  });
});
