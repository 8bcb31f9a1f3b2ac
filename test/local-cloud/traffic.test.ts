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
      'sim.responseBase64': Buffer.from('{"predictions":[0.9]}').toString('base64'),
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

  const readMinutes = async (e: Env, from: number, to: number) => {
    const out = await e.cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(from),
        EndTime: new Date(to),
        ScanBy: 'TimestampAscending',
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
    return Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id, r]));
  };
  const total = (values: number[] | undefined) => (values ?? []).reduce((n, v) => n + v, 0);

  it('generates Poisson requests per variant and minute, split by the weights, with binomial 5XX', async () => {
    const { cloud } = env;
    cloud.setTraffic('prod', 1000);
    cloud.advance(10 * 60_000);
    // three more minutes so that every part of the ten minutes has arrived (lag at most 3 min)
    cloud.setTraffic('prod', 0);
    cloud.advance(4 * 60_000);
    const byId = await readMinutes(env, T0 + 5 * 60_000, T0 + 15 * 60_000);
    expect(Object.keys(byId)).not.toContain('hidden');
    const blue = byId.blueinv?.Values ?? [];
    const green = byId.greeninv?.Values ?? [];
    expect(blue).toHaveLength(10);
    // Poisson(750) and Poisson(250) per minute: spread, and totals within 4 standard deviations
    expect(new Set(blue).size).toBeGreaterThan(3);
    expect(Math.abs(total(blue) - 7500)).toBeLessThan(4 * Math.sqrt(7500));
    expect(Math.abs(total(green) - 2500)).toBeLessThan(4 * Math.sqrt(2500));
    const greenErrors = total(byId.greenerr?.Values);
    const n = total(green);
    expect(Math.abs(greenErrors - 0.2 * n)).toBeLessThan(4 * Math.sqrt(n * 0.2 * 0.8));
    expect(byId.greenrate?.Values?.[0]).toBeCloseTo(greenErrors / n, 10);
    // log-normal latency, median 40 ms, sigma 0.3: mean about 41.8 ms, p99 about 80 ms
    expect(byId.bluelat?.Values?.[0]).toBeGreaterThan(38_000);
    expect(byId.bluelat?.Values?.[0]).toBeLessThan(46_000);
    expect(byId.bluep99?.Values?.[0]).toBeGreaterThan(65_000);
    expect(byId.blueinv?.StatusCode).toBe('Complete');
    expect(byId.blueinv?.Timestamps?.[0]?.getTime()).toBe(T0 + 5 * 60_000);
  });

  it('the newest minutes are incomplete when read, and complete once the lag has passed', async () => {
    const { cloud } = env;
    cloud.setTraffic('prod', 1000);
    cloud.advance(10 * 60_000);
    const early = await readMinutes(env, T0 + 5 * 60_000, T0 + 15 * 60_000);
    cloud.setTraffic('prod', 0);
    cloud.advance(4 * 60_000);
    const late = await readMinutes(env, T0 + 5 * 60_000, T0 + 15 * 60_000);
    const earlyBlue = early.blueinv?.Values ?? [];
    const lateBlue = late.blueinv?.Values ?? [];
    // minutes older than the lag read the same; the last one read short and was completed later
    expect(earlyBlue.slice(0, 7)).toEqual(lateBlue.slice(0, 7));
    expect(earlyBlue.at(-1)!).toBeLessThan(lateBlue.at(-1)!);
    expect(earlyBlue.at(-1)!).toBeGreaterThan(0);
  });

  it('the same seed gives the same traffic; another seed other traffic', async () => {
    const run = async (seed: number) => {
      const other = await setup({ seed });
      await modelFromPackage(other, 'g', 'model-a', { 'sim.latencyMs': '40' });
      await other.sm.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'cfg',
          ProductionVariants: [
            {
              VariantName: 'blue',
              ModelName: 'model-a',
              InstanceType: 'ml.m5.large',
              InitialInstanceCount: 1,
            },
          ],
        }),
      );
      await other.sm.send(new CreateEndpointCommand({ EndpointName: 'prod', EndpointConfigName: 'cfg' }));
      other.cloud.advance(5 * 60_000);
      other.cloud.setTraffic('prod', 300, { bursts: { perHour: 30 } });
      other.cloud.advance(10 * 60_000);
      const values = (await readMinutes(other, T0, T0 + 15 * 60_000)).blueinv?.Values;
      await closeAll(other);
      return values;
    };
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("a burst raises every variant's 5XX at once", async () => {
    const { cloud } = env;
    // green errs 20 % normally; during a burst x10, capped at 100 %
    cloud.setTraffic('prod', 1000, { bursts: { perHour: 60, minutes: 2, errorMultiplier: 10 } });
    cloud.advance(10 * 60_000);
    cloud.setTraffic('prod', 0);
    cloud.advance(4 * 60_000);
    const out = await env.cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0 + 5 * 60_000),
        EndTime: new Date(T0 + 15 * 60_000),
        MetricDataQueries: [stat('greenrate', 'Invocation5XXErrors', 'green', 'Average', 600)],
      }),
    );
    // every minute is a burst minute at perHour 60: green at 100 %
    expect(out.MetricDataResults?.[0]?.Values?.[0]).toBe(1);
  });

  it('takes per-request outcomes from a pluggable source, synchronous or not', async () => {
    const { cloud } = env;
    const seen: string[] = [];
    cloud.traffic.setOutcomeSource((batch) => {
      seen.push(batch.variantName);
      const outcome = {
        errors5xx: batch.requests,
        errors4xx: 0,
        latencyUs: [[7000, batch.requests]] as Array<[number, number]>,
      };
      return batch.variantName === 'blue' ? outcome : Promise.resolve(outcome);
    });
    cloud.setTraffic('prod', 600);
    cloud.advance(5 * 60_000);
    await new Promise((resolve) => setImmediate(resolve));
    cloud.setTraffic('prod', 0);
    cloud.advance(4 * 60_000);
    const byId = await readMinutes(env, T0 + 5 * 60_000, T0 + 10 * 60_000);
    expect(new Set(seen)).toEqual(new Set(['blue', 'green']));
    expect(total(byId.greenerr?.Values)).toBe(total(byId.greeninv?.Values));
    expect(byId.greenrate?.Values).toEqual([1]);
    expect(byId.bluelat?.Values?.[0]).toBe(7000);
  });

  it('rounds a StartTime inside a minute down to the minute, as CloudWatch does for recent data', async () => {
    env.cloud.setTraffic('prod', 600);
    env.cloud.advance(10 * 60_000);
    const out = await env.cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0 + 7 * 60_000 + 25_000),
        EndTime: new Date(T0 + 9 * 60_000),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [stat('blueinv', 'Invocations', 'blue', 'Sum')],
      }),
    );
    expect(out.MetricDataResults?.[0]?.Timestamps?.map((t) => t.getTime())).toEqual([
      T0 + 7 * 60_000,
      T0 + 8 * 60_000,
    ]);
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

  it('answers percentiles by nearest rank over the values and counts put, read after read', async () => {
    const { cw } = env;
    const at = new Date(T0 + 60_000);
    // 100 values: 10 once, 20 once, 30 twice, 40 96 times, put in two parts of one minute
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Custom',
        MetricData: [{ MetricName: 'lat', Values: [40, 10], Counts: [50, 1], Timestamp: at }],
      }),
    );
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Custom',
        MetricData: [{ MetricName: 'lat', Values: [30, 20, 40], Counts: [2, 1, 46], Timestamp: at }],
      }),
    );
    const read = async () => {
      const stats = ['p1', 'p2', 'p3', 'p4', 'p5', 'p50', 'p99', 'p100'];
      const out = await cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(T0),
          EndTime: new Date(T0 + 3_600_000),
          MetricDataQueries: stats.map((s) => ({
            Id: s,
            MetricStat: { Metric: { Namespace: 'Custom', MetricName: 'lat' }, Period: 60, Stat: s },
          })),
        }),
      );
      return Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id, r.Values?.[0]]));
    };
    const expected = { p1: 10, p2: 20, p3: 30, p4: 30, p5: 40, p50: 40, p99: 40, p100: 40 };
    expect(await read()).toEqual(expected);
    // the merged minute is kept: a second read answers the same
    expect(await read()).toEqual(expected);
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
