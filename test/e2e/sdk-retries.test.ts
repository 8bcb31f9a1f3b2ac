import { ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterEach, describe, expect, it } from 'vitest';
import { sageMakerClient } from '../../src/adapters/clients';
import { LocalStack } from '../../src/local/stack';

describe('SDK retries on the local stack', () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('retries a throttled call as often as in AWS, at once: the virtual clock does not move while it waits', async () => {
    stack = await LocalStack.start();
    stack.cloud.faults.add({
      service: 'sagemaker',
      operation: 'ListEndpoints',
      error: 'ThrottlingException',
      message: 'Rate exceeded',
      times: 2,
    });
    const listed = await sageMakerClient().send(new ListEndpointsCommand({}));
    expect(listed.$metadata).toMatchObject({ attempts: 3, totalRetryDelay: 0 });
    expect(stack.cloud.calls.filter((c) => c.operation === 'ListEndpoints').map((c) => c.error)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      undefined,
    ]);

    // a third throttle in a row is the handler's to see, as in AWS (3 attempts)
    stack.cloud.faults.add({
      service: 'sagemaker',
      operation: 'ListEndpoints',
      error: 'ThrottlingException',
      message: 'Rate exceeded',
      times: 3,
    });
    await expect(sageMakerClient().send(new ListEndpointsCommand({}))).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { attempts: 3, totalRetryDelay: 0 },
    });
  });

  it('leaves the SDK its own backoff once the stack is closed', async () => {
    stack = await LocalStack.start();
    expect(await sageMakerClient().config.retryStrategy()).toBeInstanceOf(ConfiguredRetryStrategy);
    await stack.close();
    stack = undefined;
    expect(await sageMakerClient().config.retryStrategy()).not.toBeInstanceOf(ConfiguredRetryStrategy);
  });

  it('leaves process.env as it found it once closed: a file sharing the process gets no stale endpoints', async () => {
    const before = { ...process.env };
    process.env.TABLE_NAME = 'a-table-set-before';
    try {
      stack = await LocalStack.start();
      expect(process.env.TABLE_NAME).toBe(stack.tableName);
      expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBeDefined();
      await stack.close();
      stack = undefined;
      expect(process.env.TABLE_NAME).toBe('a-table-set-before');
      delete process.env.TABLE_NAME;
      expect(process.env).toEqual(before);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in before)) delete process.env[key];
      Object.assign(process.env, before);
    }
  });
});
