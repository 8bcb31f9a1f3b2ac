import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchMetrics } from '../../src/adapters/cloudwatch-metrics';
import { TransientError } from '../../src/errors';
import type { VariantMetricsQuery } from '../../src/ports/metrics';
import { throttled } from './aws-fakes';

const cw = mockClient(CloudWatchClient);
let metrics: CloudWatchMetrics;
const START = Date.parse('2024-01-01T00:00:00Z');
const END = START + 10 * 60_000;
const minute = (n: number) => new Date(START + n * 60_000);

beforeEach(() => {
  cw.reset();
  metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'us-east-1' }));
});

// the worker's process runs other files after this one: their clients must reach the real SDK
afterAll(() => {
  cw.restore();
});

const query = (
  key: string,
  variantName: string,
  overrides: Partial<VariantMetricsQuery> = {},
): VariantMetricsQuery => ({
  key,
  endpointName: 'churn-prod',
  variantName,
  latencyStatistic: 'p99',
  start: START,
  end: END,
  ...overrides,
});

/** Answers every query id with the datapoints chosen by `series`. */
const answerWith = (series: (id: string, input: GetMetricDataCommandInput) => Partial<MetricDataResult>) =>
  cw.on(GetMetricDataCommand).callsFake(async (input: GetMetricDataCommandInput) => ({
    $metadata: {},
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
      Id: q.Id,
      StatusCode: 'Complete',
      Timestamps: [],
      Values: [],
      ...series(q.Id!, input),
    })),
  }));

describe('readVariants', () => {
  it('builds three MetricStat queries per variant without metric math', async () => {
    answerWith(() => ({}));
    await metrics.readVariants([
      query('candidate', 'v3'),
      query('baseline', 'v2', { latencyStatistic: 'Maximum' }),
    ]);
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
    const input = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date(START));
    expect(input.EndTime).toEqual(new Date(END));
    const queries = input.MetricDataQueries ?? [];
    expect(queries).toHaveLength(6);
    expect(queries.every((q) => q.Expression === undefined && /^[a-z][a-zA-Z0-9_]*$/.test(q.Id!))).toBe(true);
    expect(
      queries.map((q) => [q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat, q.MetricStat?.Period]),
    ).toEqual([
      ['Invocations', 'Sum', 60],
      ['Invocation5XXErrors', 'Sum', 60],
      ['ModelLatency', 'p99', 60],
      ['Invocations', 'Sum', 60],
      ['Invocation5XXErrors', 'Sum', 60],
      ['ModelLatency', 'Maximum', 60],
    ]);
    expect(queries[5]?.MetricStat?.Metric).toEqual({
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      Dimensions: [
        { Name: 'EndpointName', Value: 'churn-prod' },
        { Name: 'VariantName', Value: 'v2' },
      ],
    });
  });

  it('sums counts, computes the error rate and converts latency from microseconds to milliseconds', async () => {
    const byId = new Map<string, Partial<MetricDataResult>>();
    answerWith((id) => byId.get(id) ?? {});
    // Learn the ids the adapter chose, then answer by metric name.
    await metrics.readVariants([query('candidate', 'v3'), query('baseline', 'v2')]);
    const ids = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!.map((q) => q.Id!);
    byId.set(ids[0]!, { Timestamps: [minute(1), minute(2)], Values: [100, 50] });
    byId.set(ids[1]!, { Timestamps: [minute(1), minute(2)], Values: [3, 0] });
    byId.set(ids[2]!, { Timestamps: [minute(1), minute(2)], Values: [120_000, 250_500] });

    const readings = await metrics.readVariants([query('candidate', 'v3'), query('baseline', 'v2')]);
    expect(readings.get('candidate')).toEqual({
      invocations: 150,
      errors5xx: 3,
      errorRate: 0.02,
      latencyMs: 250.5,
      minutes: [
        { at: minute(1).getTime(), invocations: 100, errors5xx: 3, latencyMs: 120 },
        { at: minute(2).getTime(), invocations: 50, errors5xx: 0, latencyMs: 250.5 },
      ],
    });
    expect(readings.get('baseline')).toEqual({
      invocations: 0,
      errors5xx: 0,
      errorRate: null,
      latencyMs: null,
      minutes: [],
    });
  });

  it('ignores datapoints outside [start, end) and follows NextToken', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        $metadata: {},
        MetricDataResults: [
          { Id: 'q0_inv', StatusCode: 'PartialData', Timestamps: [minute(0), minute(10)], Values: [10, 999] },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        $metadata: {},
        MetricDataResults: [
          { Id: 'q0_inv', StatusCode: 'Complete', Timestamps: [minute(9)], Values: [5] },
          { Id: 'q0_lat', StatusCode: 'Complete', Timestamps: [minute(9)], Values: [2000] },
        ],
      });
    const readings = await metrics.readVariants([query('candidate', 'v3')]);
    expect(readings.get('candidate')).toMatchObject({
      invocations: 15,
      errors5xx: 0,
      errorRate: 0,
      latencyMs: 2,
    });
    expect(readings.get('candidate')!.minutes).toEqual([
      { at: minute(0).getTime(), invocations: 10, errors5xx: 0, latencyMs: null },
      { at: minute(9).getTime(), invocations: 5, errors5xx: 0, latencyMs: 2 },
    ]);
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cw).toHaveReceivedNthCommandWith(GetMetricDataCommand, 2, { NextToken: 'page-2' });
  });

  it('asks from the start of the minute holding the window start, and keeps that minute', async () => {
    answerWith((id) => (id.endsWith('_inv') ? { Timestamps: [minute(0), minute(1)], Values: [7, 8] } : {}));
    const readings = await metrics.readVariants([query('candidate', 'v3', { start: START + 25_000 })]);
    expect(cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input.StartTime).toEqual(new Date(START));
    expect(readings.get('candidate')!.invocations).toBe(15);
  });

  it('batches 200 variants (600 queries) into 2 calls of at most 500, mapping results back to keys', async () => {
    answerWith((id) =>
      id.endsWith('_inv') ? { Timestamps: [minute(1)], Values: [Number(id.slice(1, id.indexOf('_')))] } : {},
    );
    const queries = Array.from({ length: 200 }, (_, i) => query(`variant-${i}`, `v${i}`));
    const readings = await metrics.readVariants(queries);
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.args[0].input.MetricDataQueries?.length)).toEqual([500, 100]);
    const ids = calls.flatMap((c) => c.args[0].input.MetricDataQueries!.map((q) => q.Id));
    expect(new Set(ids).size).toBe(600);
    expect(readings.size).toBe(200);
    expect(readings.get('variant-0')?.invocations).toBe(0);
    expect(readings.get('variant-199')?.invocations).toBe(199);
  });

  it('reads canaries with different windows in one call over their union, each keeping its own window', async () => {
    answerWith((id) => (id.endsWith('_inv') ? { Timestamps: [minute(-1), minute(0)], Values: [7, 5] } : {}));
    const readings = await metrics.readVariants([
      query('a', 'v1'),
      query('b', 'v2', { start: START - 60_000, end: END }),
      query('c', 'v3', { start: START + 60_000, end: END + 60_000 }),
    ]);
    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.StartTime).toEqual(new Date(START - 60_000));
    expect(calls[0]?.EndTime).toEqual(new Date(END + 60_000));
    expect(calls[0]?.MetricDataQueries).toHaveLength(9);
    expect(readings.get('a')?.invocations).toBe(5);
    expect(readings.get('b')?.invocations).toBe(12);
    expect(readings.get('c')?.invocations).toBe(0);
  });

  it('makes no call for no queries, and maps throttling to TransientError', async () => {
    expect((await metrics.readVariants([])).size).toBe(0);
    expect(cw).not.toHaveReceivedCommand(GetMetricDataCommand);
    cw.on(GetMetricDataCommand).rejects(throttled());
    await expect(metrics.readVariants([query('a', 'v1')])).rejects.toBeInstanceOf(TransientError);
  });
});

describe('alarmsInAlarm', () => {
  it('asks only for alarms in ALARM, 100 names per call', async () => {
    cw.on(DescribeAlarmsCommand).callsFake(async (input: { AlarmNames?: string[] }) => ({
      $metadata: {},
      MetricAlarms: (input.AlarmNames ?? [])
        .filter((n) => n.endsWith('7'))
        .map((AlarmName) => ({ AlarmName, StateValue: 'ALARM' })),
      CompositeAlarms: (input.AlarmNames ?? [])
        .filter((n) => n === 'alarm-150')
        .map((AlarmName) => ({ AlarmName })),
    }));
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i + 1}`);
    const inAlarm = await metrics.alarmsInAlarm(names);
    expect(inAlarm.sort()).toEqual(['alarm-150', ...names.filter((n) => n.endsWith('7'))].sort());
    const calls = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.AlarmNames?.length)).toEqual([100, 50]);
    expect(calls.every((c) => c.StateValue === 'ALARM')).toBe(true);
  });

  it('makes no call for an empty list', async () => {
    expect(await metrics.alarmsInAlarm([])).toEqual([]);
    expect(cw).not.toHaveReceivedAnyCommand();
  });
});
