import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningModelServer, startModelServer } from '../../examples/model-server/server';
import { closeAll, type Env, modelFromPackage, setup, T0 } from './helpers';

const GOOD = 'examples/model-server/weights/v1-good.json';
const BAD = 'examples/model-server/weights/v2-log-merchant-risk.json';
const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud:2';

/** Sum of one per-variant metric of endpoint `prod` over the first hour. */
async function metricSum(env: Env, variant: string, metric: string, stat = 'Sum'): Promise<number> {
  const out = await env.cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(T0),
      EndTime: new Date(T0 + 3600_000),
      MetricDataQueries: [
        {
          Id: 'm',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SageMaker',
              MetricName: metric,
              Dimensions: [
                { Name: 'EndpointName', Value: 'prod' },
                { Name: 'VariantName', Value: variant },
              ],
            },
            Period: 3600,
            Stat: stat,
          },
        },
      ],
    }),
  );
  return (out.MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
}

const variant = (name: string, model: string, weight = 1) => ({
  VariantName: name,
  ModelName: model,
  InstanceType: 'ml.m5.large' as const,
  InitialInstanceCount: 1,
  InitialVariantWeight: weight,
});

const body = (instances: number[][]) => new TextEncoder().encode(JSON.stringify({ instances }));

describe('local cloud: real model servers behind endpoints', () => {
  let env: Env;
  let good: RunningModelServer;
  let bad: RunningModelServer;
  const extra: Server[] = [];

  beforeEach(async () => {
    good = await startModelServer({ weightsPath: GOOD, port: 0 });
    bad = await startModelServer({ weightsPath: BAD, port: 0 });
    env = await setup({
      containers: { images: { [IMAGE]: bad.url }, startupBudgetMs: 300 },
    });
  });
  afterEach(async () => {
    await closeAll(env);
    await Promise.all([good.close(), bad.close()]);
    for (const s of extra.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  async function endpointOn(models: Array<[string, string]>): Promise<void> {
    await env.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg',
        ProductionVariants: models.map(([name, model]) => variant(name, model)),
      }),
    );
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg' }));
    env.cloud.advance(5 * 60_000);
  }

  it('forwards InvokeEndpoint to POST /invocations and answers with the container body', async () => {
    await modelFromPackage(env, 'g', 'm-good', { 'sim.container': good.url });
    await endpointOn([['v1', 'm-good']]);
    const described = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(described.EndpointStatus).toBe('InService');
    const out = await env.runtime.send(
      new InvokeEndpointCommand({
        EndpointName: 'prod',
        ContentType: 'application/json',
        Body: body([[120, 400, 0.3, 0.1]]),
      }),
    );
    expect(out.InvokedProductionVariant).toBe('v1');
    expect(out.ContentType).toBe('application/json');
    const answer = JSON.parse(new TextDecoder().decode(out.Body)) as { predictions: number[] };
    expect(answer.predictions[0]).toBeCloseTo(1 / (1 + Math.exp(2)), 10);
    expect(await metricSum(env, 'v1', 'Invocations')).toBe(1);
    expect(await metricSum(env, 'v1', 'Invocation5XXErrors')).toBe(0);
    expect(await metricSum(env, 'v1', 'ModelLatency')).toBeGreaterThan(0);
  });

  it('routes TargetVariant to that variant, and maps a model 5XX to ModelError with its status and body', async () => {
    await modelFromPackage(env, 'g', 'm-good', { 'sim.container': good.url });
    await modelFromPackage(env, 'g', 'm-bad', { 'sim.container': bad.url });
    await endpointOn([
      ['v1', 'm-good'],
      ['v2', 'm-bad'],
    ]);
    const send = (target: string) =>
      env.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'prod',
          TargetVariant: target,
          ContentType: 'application/json',
          Body: body([[120, 400, 0, 0]]),
        }),
      );
    expect((await send('v1')).InvokedProductionVariant).toBe('v1');
    const err = await send('v2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    const modelError = err as ModelError;
    expect(modelError.$metadata.httpStatusCode).toBe(424);
    expect(modelError.OriginalStatusCode).toBe(500);
    expect(modelError.OriginalMessage).toBe('{"error":"model fraud-score v2 produced no finite score"}');
    expect(modelError.message).toMatch(/^Received server error \(500\) from primary with message/);
    expect(modelError.LogStreamArn).toContain('/aws/sagemaker/Endpoints/prod');
    expect(await metricSum(env, 'v2', 'Invocation5XXErrors')).toBe(1);
    expect(await metricSum(env, 'v2', 'InvocationModelErrors')).toBe(1);
    expect(await metricSum(env, 'v1', 'Invocation5XXErrors')).toBe(0);
  });

  it('maps a model 4XX to ModelError "client error" and counts it in Invocation4XXErrors', async () => {
    await modelFromPackage(env, 'g', 'm-good', { 'sim.container': good.url });
    await endpointOn([['v1', 'm-good']]);
    const err = (await env.runtime
      .send(
        new InvokeEndpointCommand({
          EndpointName: 'prod',
          ContentType: 'application/json',
          Body: body([[1, 2]]),
        }),
      )
      .catch((e: unknown) => e)) as ModelError;
    expect(err).toBeInstanceOf(ModelError);
    expect(err.OriginalStatusCode).toBe(400);
    expect(err.message).toMatch(
      /^Received client error \(400\) from primary with message ".*instance 0 has 2 values/,
    );
    expect(await metricSum(env, 'v1', 'Invocation4XXErrors')).toBe(1);
    expect(await metricSum(env, 'v1', 'Invocation5XXErrors')).toBe(0);
  });

  it('times a slow container out as SageMaker does and records the wait as its latency', async () => {
    const slow = createServer((req, res) => {
      if (req.url === '/ping') return void res.writeHead(200).end();
      setTimeout(() => res.writeHead(200).end('{}'), 2_000).unref();
    });
    extra.push(slow);
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    // SageMaker waits 60 s; the test shortens the wait
    env.cloud.sagemaker.containerOptions.invocationTimeoutMs = 1_500;
    await modelFromPackage(env, 'g', 'm-slow', { 'sim.container': url });
    await endpointOn([['v1', 'm-slow']]);
    const err = (await env.runtime
      .send(new InvokeEndpointCommand({ EndpointName: 'prod', Body: body([[1, 2, 3, 4]]) }))
      .catch((e: unknown) => e)) as ModelError;
    expect(err).toBeInstanceOf(ModelError);
    expect(err.OriginalStatusCode).toBe(0);
    expect(err.message).toContain(
      'Received server error (0) from primary with message "Your invocation timed out while waiting for a response from container primary.',
    );
    expect(await metricSum(env, 'v1', 'InvocationModelErrors')).toBe(1);
    // the 1.5 s timeout, in microseconds
    expect(await metricSum(env, 'v1', 'ModelLatency', 'Maximum')).toBeGreaterThanOrEqual(1_450_000);
  });

  it("fails CreateEndpoint with SageMaker's ping reason when the container answers /ping with 503", async () => {
    const broken = await startModelServer({ weightsPath: '/nonexistent/weights.json', port: 0 });
    try {
      await modelFromPackage(env, 'g', 'm-broken', { 'sim.container': broken.url });
      await endpointOn([['v1', 'm-broken']]);
      const described = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
      expect(described.EndpointStatus).toBe('Failed');
      expect(described.FailureReason).toBe(
        'The primary container for production variant v1 did not pass the ping health check. Please check CloudWatch logs for this endpoint.',
      );
    } finally {
      await broken.close();
    }
  });

  it('fails CreateEndpoint when nothing listens at the container URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await modelFromPackage(env, 'g', 'm-gone', { 'sim.container': `http://127.0.0.1:${port}` });
    await endpointOn([['v1', 'm-gone']]);
    const described = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(described.EndpointStatus).toBe('Failed');
    expect(described.FailureReason).toContain('production variant v1 did not pass the ping health check');
  });

  it("keeps the old config InService when an update's container fails its ping", async () => {
    await modelFromPackage(env, 'g', 'm-good', { 'sim.container': good.url });
    await endpointOn([['v1', 'm-good']]);
    const broken = await startModelServer({ weightsPath: '/nonexistent/weights.json', port: 0 });
    try {
      await modelFromPackage(env, 'g', 'm-broken', { 'sim.container': broken.url });
      await env.sm.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'cfg2',
          ProductionVariants: [variant('v2', 'm-broken')],
        }),
      );
      await env.sm.send(new UpdateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg2' }));
      env.cloud.advance(5 * 60_000);
      const described = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
      expect(described.EndpointStatus).toBe('InService');
      expect(described.EndpointConfigName).toBe('cfg');
      expect(described.FailureReason).toContain('production variant v2 did not pass the ping health check');
    } finally {
      await broken.close();
    }
  });

  it('serves a package that names an image through the image-to-URL map', async () => {
    await env.sm.send(
      new CreateModelCommand({
        ModelName: 'm-image',
        ExecutionRoleArn: 'arn:aws:iam::111122223333:role/sm',
        PrimaryContainer: { Image: IMAGE },
      }),
    );
    await endpointOn([['v2', 'm-image']]);
    const err = (await env.runtime
      .send(
        new InvokeEndpointCommand({
          EndpointName: 'prod',
          ContentType: 'application/json',
          Body: body([[1, 1, -1, 0]]),
        }),
      )
      .catch((e: unknown) => e)) as ModelError;
    expect(err.OriginalStatusCode).toBe(500);
  });
});
