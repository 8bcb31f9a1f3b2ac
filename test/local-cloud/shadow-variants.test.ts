import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  type CreateEndpointConfigCommandInput,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningModelServer, startModelServer } from '../../examples/model-server/server';
import { closeAll, type Env, modelFromPackage, setup, T0 } from './helpers';

async function metricSum(env: Env, variant: string, metric: string): Promise<number> {
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
            Stat: 'Sum',
          },
        },
      ],
    }),
  );
  return (out.MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
}

const instanceVariant = (name: string, model: string, weight = 1) => ({
  VariantName: name,
  ModelName: model,
  InstanceType: 'ml.m5.large' as const,
  InitialInstanceCount: 1,
  InitialVariantWeight: weight,
});

/** A valid config with one production and one shadow variant; negative cases change one thing. */
const base = (): CreateEndpointConfigCommandInput => ({
  EndpointConfigName: 'cfg',
  ProductionVariants: [instanceVariant('v1', 'm-good')],
  ShadowProductionVariants: [instanceVariant('v2', 'm-bad')],
});

describe('local cloud: shadow variants', () => {
  let env: Env;
  let good: RunningModelServer;
  let bad: RunningModelServer;

  beforeEach(async () => {
    good = await startModelServer({ weightsPath: 'examples/model-server/weights/v1-good.json', port: 0 });
    bad = await startModelServer({
      weightsPath: 'examples/model-server/weights/v2-log-merchant-risk.json',
      port: 0,
    });
    env = await setup();
    await modelFromPackage(env, 'g', 'm-good', { 'sim.container': good.url });
    await modelFromPackage(env, 'g', 'm-bad', { 'sim.container': bad.url });
    await modelFromPackage(env, 'g', 'm-sim', { 'sim.errorRate': '1' });
  });
  afterEach(async () => {
    await closeAll(env);
    await Promise.all([good.close(), bad.close()]);
  });

  it.each([
    [
      'two production variants',
      { ProductionVariants: [instanceVariant('v1', 'm-good'), instanceVariant('v3', 'm-sim')] },
      'exactly one production variant and one shadow variant (got 2 and 1)',
    ],
    [
      'two shadow variants',
      { ShadowProductionVariants: [instanceVariant('v2', 'm-bad'), instanceVariant('v3', 'm-sim')] },
      'exactly one production variant and one shadow variant (got 1 and 2)',
    ],
    [
      'a serverless production variant',
      {
        ProductionVariants: [
          {
            VariantName: 'v1',
            ModelName: 'm-good',
            ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 },
          },
        ],
      },
      'Shadow variants are not supported on serverless endpoints: variant "v1"',
    ],
    [
      'a shadow named like the production variant',
      { ShadowProductionVariants: [instanceVariant('v1', 'm-bad')] },
      'Variant name "v1" is used more than once.',
    ],
    [
      'a shadow on a missing model',
      { ShadowProductionVariants: [instanceVariant('v2', 'm-nope')] },
      'Could not find model',
    ],
  ] satisfies Array<[string, Partial<CreateEndpointConfigCommandInput>, string]>)(
    'refuses a config with %s',
    async (_name, change, message) => {
      const err = await env.sm
        .send(new CreateEndpointConfigCommand({ ...base(), ...change }))
        .catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('ValidationException');
      expect((err as Error).message).toContain(message);
    },
  );

  it('describes the shadow variant in the config and on the endpoint', async () => {
    await env.sm.send(new CreateEndpointConfigCommand(base()));
    const cfg = await env.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'cfg' }));
    expect(cfg.ShadowProductionVariants?.map((v) => v.VariantName)).toEqual(['v2']);
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg' }));
    const creating = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(creating.PendingDeploymentSummary?.ShadowProductionVariants?.map((v) => v.VariantName)).toEqual([
      'v2',
    ]);
    env.cloud.advance(5 * 60_000);
    const ep = await env.sm.send(new DescribeEndpointCommand({ EndpointName: 'prod' }));
    expect(ep.EndpointStatus).toBe('InService');
    expect(ep.ProductionVariants?.map((v) => v.VariantName)).toEqual(['v1']);
    expect(ep.ShadowProductionVariants?.map((v) => [v.VariantName, v.CurrentWeight])).toEqual([['v2', 1]]);
  });

  it('copies requests to the shadow, records its real errors under its own name, and answers from production only', async () => {
    await env.sm.send(new CreateEndpointConfigCommand(base()));
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg' }));
    env.cloud.advance(5 * 60_000);
    for (let i = 0; i < 10; i++) {
      const out = await env.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'prod',
          ContentType: 'application/json',
          // merchantRisk 0 on every other request: the shadow (v2) cannot score those
          Body: new TextEncoder().encode(
            JSON.stringify({ instances: [[120, 400, i % 2 === 0 ? 0 : 0.3, 0]] }),
          ),
        }),
      );
      expect(out.InvokedProductionVariant).toBe('v1');
    }
    await env.cloud.runtime.settled();
    expect(await metricSum(env, 'v1', 'Invocations')).toBe(10);
    expect(await metricSum(env, 'v1', 'Invocation5XXErrors')).toBe(0);
    expect(await metricSum(env, 'v2', 'Invocations')).toBe(10);
    expect(await metricSum(env, 'v2', 'Invocation5XXErrors')).toBe(5);
  });

  it('samples the share of requests set by the shadow weight relative to the production weight', async () => {
    await env.sm.send(
      new CreateEndpointConfigCommand({
        ...base(),
        ProductionVariants: [instanceVariant('v1', 'm-good', 4)],
        ShadowProductionVariants: [instanceVariant('v2', 'm-sim', 1)],
      }),
    );
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg' }));
    env.cloud.advance(5 * 60_000);
    const n = 400;
    for (let i = 0; i < n; i++) {
      await env.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'prod',
          ContentType: 'application/json',
          Body: new TextEncoder().encode('{"instances":[[120,400,0.3,0.1]]}'),
        }),
      );
    }
    await env.cloud.runtime.settled();
    const copies = await metricSum(env, 'v2', 'Invocations');
    // Binomial(400, 0.25): mean 100, sd 8.7; 4 sd either side.
    expect(copies).toBeGreaterThan(65);
    expect(copies).toBeLessThan(135);
    // The simulated shadow fails every copy; production answered every request.
    expect(await metricSum(env, 'v2', 'Invocation5XXErrors')).toBe(copies);
    expect(await metricSum(env, 'v1', 'Invocation5XXErrors')).toBe(0);
  });
});
