import { GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateEndpointCommand, CreateEndpointConfigCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAll, type Env, modelFromPackage, setup, T0 } from './helpers';

const dims = (variant: string) => [
  { Name: 'EndpointName', Value: 'prod' },
  { Name: 'VariantName', Value: variant },
];

const stat = (id: string, metric: string, variant: string, s: string, period = 60) => ({
  Id: id,
  MetricStat: {
    Metric: { Namespace: 'AWS/SageMaker', MetricName: metric, Dimensions: dims(variant) },
    Period: period,
    Stat: s,
  },
});

describe('traffic, metrics and InvokeEndpoint', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
    await modelFromPackage(env, 'g', 'model-a', { 'sim.latencyMs': '40' });
    await modelFromPackage(env, 'g', 'model-b', {
      'sim.errorRate': '0.2',
      'sim.response': '{"predictions":[0.9]}',
    });
    await env.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg',
        ProductionVariants: [
          {
            VariantName: 'blue',
            ModelName: 'model-a',
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
            InitialVariantWeight: 3,
          },
          {
            VariantName: 'green',
            ModelName: 'model-b',
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
            InitialVariantWeight: 1,
          },
        ],
      }),
    );
    await env.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg' }));
    env.cloud.advance(5 * 60_000);
  });
  afterEach(async () => closeAll(env));

  it('generates per-variant per-minute datapoints split by current weights', async () => {
    const { cloud, cw } = env;
    cloud.setTraffic('prod', 100);
    cloud.advance(10 * 60_000);
    const start = new Date(T0 + 5 * 60_000);
    const end = new Date(T0 + 15 * 60_000);
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: end,
        MetricDataQueries: [
          stat('blueinv', 'Invocations', 'blue', 'Sum'),
          stat('greeninv', 'Invocations', 'green', 'Sum'),
          stat('greenerr', 'Invocation5XXErrors', 'green', 'Sum'),
          stat('greenrate', 'Invocation5XXErrors', 'green', 'Average', 600),
          stat('bluelat', 'ModelLatency', 'blue', 'Average', 600),
          stat('bluep99', 'ModelLatency', 'blue', 'p99', 600),
          { ...stat('hidden', 'Invocations', 'blue', 'Sum'), ReturnData: false },
        ],
      }),
    );
    const byId = Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id, r]));
    expect(Object.keys(byId)).not.toContain('hidden');
    expect(byId.blueinv?.Values).toEqual(Array(10).fill(75));
    expect(byId.greeninv?.Values).toEqual(Array(10).fill(25));
    expect(byId.greenerr?.Values).toEqual(Array(10).fill(5));
    expect(byId.greenrate?.Values).toEqual([0.2]);
    expect(byId.bluelat?.Values?.[0]).toBeCloseTo(40_000);
    expect(byId.bluep99?.Values?.[0]).toBeGreaterThan(50_000);
    expect(byId.blueinv?.StatusCode).toBe('Complete');
    // TimestampDescending by default: newest first.
    expect(byId.blueinv?.Timestamps?.[0]?.getTime()).toBe(T0 + 14 * 60_000);
    expect(byId.blueinv?.Timestamps?.at(-1)?.getTime()).toBe(T0 + 5 * 60_000);

    cloud.setTraffic('prod', 0);
    cloud.advance(5 * 60_000);
    const quiet = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0 + 15 * 60_000),
        EndTime: new Date(T0 + 20 * 60_000),
        MetricDataQueries: [stat('blueinv', 'Invocations', 'blue', 'Sum')],
      }),
    );
    expect(quiet.MetricDataResults?.[0]?.Values).toEqual([]);
  });

  it('rejects metric math and too many queries, and accepts PutMetricData', async () => {
    const { cw } = env;
    const range = { StartTime: new Date(T0), EndTime: new Date(T0 + 3_600_000) };
    await expect(
      cw.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [{ Id: 'e1', Expression: 'm1/m2' }] })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      Code: 'ValidationError',
      message: expect.stringMatching(/not supported/),
    });
    await expect(
      cw.send(
        new GetMetricDataCommand({
          ...range,
          MetricDataQueries: Array.from({ length: 501 }, (_, i) =>
            stat(`q${i}`, 'Invocations', 'blue', 'Sum'),
          ),
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Custom',
        MetricData: [{ MetricName: 'm', Value: 4, Timestamp: new Date(T0 + 60_000) }],
      }),
    );
    const got = await cw.send(
      new GetMetricDataCommand({
        ...range,
        MetricDataQueries: [
          {
            Id: 'm',
            MetricStat: { Metric: { Namespace: 'Custom', MetricName: 'm' }, Period: 60, Stat: 'Sum' },
          },
        ],
      }),
    );
    expect(got.MetricDataResults?.[0]?.Values).toEqual([4]);
  });

  it('InvokeEndpoint routes by weight, returns the model response and records metrics', async () => {
    const { runtime, cloud } = env;
    const seen: Record<string, number> = {};
    let errors = 0;
    for (let i = 0; i < 200; i++) {
      try {
        const out = await runtime.send(
          new InvokeEndpointCommand({
            EndpointName: 'prod',
            Body: '{"x":1}',
            ContentType: 'application/json',
          }),
        );
        const variant = out.InvokedProductionVariant!;
        seen[variant] = (seen[variant] ?? 0) + 1;
        const body = new TextDecoder().decode(out.Body);
        expect(body).toBe(variant === 'blue' ? '{"predictions":[0.5]}' : '{"predictions":[0.9]}');
      } catch (err) {
        expect(err).toMatchObject({
          name: 'ModelError',
          OriginalStatusCode: 500,
          $metadata: { httpStatusCode: 424 },
        });
        errors++;
      }
    }
    expect(seen.blue).toBeGreaterThan(120);
    expect(errors).toBeGreaterThan(0);
    const points = cloud.cloudwatch.query(
      'AWS/SageMaker',
      'Invocation5XXErrors',
      dims('green'),
      60,
      'Sum',
      T0,
      T0 + 3_600_000,
    );
    expect(points[0]?.value).toBe(errors);
    await expect(
      runtime.send(new InvokeEndpointCommand({ EndpointName: 'nope', Body: '{}' })),
    ).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });
});
