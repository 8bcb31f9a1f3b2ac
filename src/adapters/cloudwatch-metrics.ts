import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { MinuteReading, VariantReadings } from '../domain/model';
import { PermanentError, TransientError } from '../errors';
import type { InvalidDatapoint, Metrics, VariantMetricsQuery } from '../ports/metrics';
import { toRolloutsError } from './aws-errors';
import { cloudWatchClient } from './clients';

export const MAX_QUERIES_PER_CALL = 500;
export const MAX_ALARM_NAMES_PER_CALL = 100;
const NAMESPACE = 'AWS/SageMaker';
const PERIOD_SECONDS = 60;

/** The start of the period holding `ms`: a window starting mid-minute keeps that minute's datapoint. */
const periodStart = (ms: number): number => Math.floor(ms / (PERIOD_SECONDS * 1000)) * PERIOD_SECONDS * 1000;

type Series = 'inv' | 'err' | 'lat';

const METRIC_NAMES: Record<Series, string> = {
  inv: 'Invocations',
  err: 'Invocation5XXErrors',
  lat: 'ModelLatency',
};

/**
 * Counts and latencies are finite and never negative. The API's type is Double and its JSON can
 * carry "NaN" and "Infinity", which the SDK turns into numbers a DynamoDB item cannot hold; a
 * value the SDK could not parse stays a string, and a JSON null stays null.
 */
const isValidValue = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** Invalid datapoints remembered as reported, so that each is logged once per function instance. */
const REPORTED_LIMIT = 10_000;

interface PlannedQuery {
  id: string;
  query: MetricDataQuery;
  owner: number;
  series: Series;
}

const metricQuery = (
  id: string,
  source: VariantMetricsQuery,
  metricName: string,
  stat: string,
): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: NAMESPACE,
      MetricName: metricName,
      Dimensions: [
        { Name: 'EndpointName', Value: source.endpointName },
        { Name: 'VariantName', Value: source.variantName },
      ],
    },
    Period: PERIOD_SECONDS,
    Stat: stat,
  },
  ReturnData: true,
});

const chunk = <T>(items: T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

/** Per-variant SageMaker endpoint metrics (GetMetricData, plain MetricStat queries) and alarm states. */
export class CloudWatchMetrics implements Metrics {
  private readonly reported = new Set<string>();

  constructor(private readonly client: CloudWatchClient = cloudWatchClient()) {}

  async readVariants(
    queries: VariantMetricsQuery[],
    onInvalid: (datapoint: InvalidDatapoint) => void = () => {},
  ): Promise<Map<string, VariantReadings>> {
    // Values per query index, series and period start, only datapoints inside that query's [start, end).
    const values = queries.map(() => ({
      inv: new Map<number, number>(),
      err: new Map<number, number>(),
      lat: new Map<number, number>(),
      /** minutes whose Invocations or 5XX count was invalid: neither count of them is used */
      unknownCounts: new Set<number>(),
    }));
    const planned: PlannedQuery[] = [];
    queries.forEach((source, owner) => {
      planned.push(
        {
          id: `q${owner}_inv`,
          query: metricQuery(`q${owner}_inv`, source, 'Invocations', 'Sum'),
          owner,
          series: 'inv',
        },
        {
          id: `q${owner}_err`,
          query: metricQuery(`q${owner}_err`, source, 'Invocation5XXErrors', 'Sum'),
          owner,
          series: 'err',
        },
        {
          id: `q${owner}_lat`,
          query: metricQuery(`q${owner}_lat`, source, 'ModelLatency', source.latencyStatistic),
          owner,
          series: 'lat',
        },
      );
    });
    // Canaries started at different times have different windows. One call per window would cost
    // a call per rollout; instead each call spans the union of its queries' windows (datapoints are
    // per 60 s period either way) and every query keeps only the datapoints inside its own window.
    // Sorting by start packs similar windows together, which keeps the union short.
    planned.sort((a, b) => queries[a.owner]!.start - queries[b.owner]!.start);
    for (const batch of chunk(planned, MAX_QUERIES_PER_CALL)) {
      // minute-aligned, as CloudWatch rounds a recent StartTime down to the minute anyway
      const start = periodStart(Math.min(...batch.map((p) => queries[p.owner]!.start)));
      const end = Math.max(...batch.map((p) => queries[p.owner]!.end));
      const byId = new Map(batch.map((p) => [p.id, p]));
      for (const result of await this.getMetricData(batch, start, end)) {
        const target = result.Id ? byId.get(result.Id) : undefined;
        if (!target) continue;
        const source = queries[target.owner]!;
        const timestamps = result.Timestamps ?? [];
        (result.Values ?? []).forEach((value: unknown, index) => {
          const at = timestamps[index]?.getTime();
          if (at === undefined || at < periodStart(source.start) || at >= source.end) return;
          if (isValidValue(value)) {
            values[target.owner]![target.series].set(at, value);
            return;
          }
          if (target.series !== 'lat') values[target.owner]!.unknownCounts.add(at);
          this.report(source, target.series, at, value, onInvalid);
        });
      }
    }

    const readings = new Map<string, VariantReadings>();
    queries.forEach((source, owner) => {
      const { inv, err, lat, unknownCounts } = values[owner]!;
      // a 5XX count without its request count (or the reverse) would be judged against the wrong
      // total: a minute with either invalid counts no requests at all, as if both were missing
      const count = (series: Map<number, number>, at: number) =>
        unknownCounts.has(at) ? 0 : (series.get(at) ?? 0);
      const minutes: MinuteReading[] = [...new Set([...inv.keys(), ...err.keys(), ...lat.keys()])]
        .sort((a, b) => a - b)
        .map((at) => ({
          at,
          invocations: count(inv, at),
          errors5xx: count(err, at),
          // ModelLatency is reported in microseconds.
          latencyMs: lat.has(at) ? lat.get(at)! / 1000 : null,
        }));
      const invocations = minutes.reduce((sum, m) => sum + m.invocations, 0);
      const errors5xx = minutes.reduce((sum, m) => sum + m.errors5xx, 0);
      const latencies = minutes.flatMap((m) => (m.latencyMs === null ? [] : [m.latencyMs]));
      readings.set(source.key, {
        invocations,
        errors5xx,
        errorRate: invocations > 0 ? errors5xx / invocations : null,
        latencyMs: latencies.length > 0 ? Math.max(...latencies) : null,
        minutes,
      });
    });
    return readings;
  }

  private report(
    source: VariantMetricsQuery,
    series: Series,
    at: number,
    value: unknown,
    onInvalid: (datapoint: InvalidDatapoint) => void,
  ): void {
    const key = `${source.endpointName}|${source.variantName}|${series}|${at}`;
    if (this.reported.has(key)) return;
    if (this.reported.size >= REPORTED_LIMIT) this.reported.clear();
    this.reported.add(key);
    onInvalid({
      endpointName: source.endpointName,
      variantName: source.variantName,
      metricName: METRIC_NAMES[series],
      timestamp: new Date(at).toISOString(),
      value: String(value),
    });
  }

  async alarmsInAlarm(alarmNames: string[]): Promise<string[]> {
    const names = [...new Set(alarmNames)];
    const inAlarm: string[] = [];
    for (const batch of chunk(names, MAX_ALARM_NAMES_PER_CALL)) {
      let nextToken: string | undefined;
      do {
        let output: DescribeAlarmsCommandOutput;
        try {
          output = await this.client.send(
            new DescribeAlarmsCommand({
              AlarmNames: batch,
              AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
              StateValue: 'ALARM',
              MaxRecords: MAX_ALARM_NAMES_PER_CALL,
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          );
        } catch (error) {
          throw toRolloutsError(error, { operation: 'CloudWatch DescribeAlarms', resource: batch.join(',') });
        }
        for (const alarm of [...(output.MetricAlarms ?? []), ...(output.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName) inAlarm.push(alarm.AlarmName);
        }
        nextToken = output.NextToken;
      } while (nextToken);
    }
    return [...new Set(inAlarm)];
  }

  private async getMetricData(
    batch: PlannedQuery[],
    start: number,
    end: number,
  ): Promise<NonNullable<GetMetricDataCommandOutput['MetricDataResults']>> {
    const results: NonNullable<GetMetricDataCommandOutput['MetricDataResults']> = [];
    let nextToken: string | undefined;
    do {
      let output: GetMetricDataCommandOutput;
      try {
        output = await this.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: batch.map((p) => p.query),
            StartTime: new Date(start),
            EndTime: new Date(end),
            ScanBy: 'TimestampAscending',
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
      } catch (error) {
        throw toRolloutsError(error, { operation: 'CloudWatch GetMetricData', resource: NAMESPACE });
      }
      for (const result of output.MetricDataResults ?? []) {
        if (result.StatusCode === 'InternalError') {
          throw new TransientError(
            `CloudWatch GetMetricData ${result.Id}: InternalError ${JSON.stringify(result.Messages ?? [])}`,
          );
        }
        if (result.StatusCode === 'Forbidden') {
          throw new PermanentError(
            `CloudWatch GetMetricData ${result.Id}: Forbidden ${JSON.stringify(result.Messages ?? [])}`,
          );
        }
        results.push(result);
      }
      nextToken = output.NextToken;
    } while (nextToken);
    return results;
  }
}
