import type { VirtualClock } from '../clock';
import { ACCOUNT_ID, ApiError, epochSeconds, parseTimestamp, type RequestContext } from './protocol';

type Json = Record<string, unknown>;

export interface Dimension {
  Name: string;
  Value: string;
}

/** One minute of one metric: a statistic set plus, when known, the value distribution for percentiles. */
export interface Datapoint {
  sum: number;
  count: number;
  min: number;
  max: number;
  /** [value, weight] pairs. */
  dist?: Array<[number, number]>;
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

interface Alarm {
  name: string;
  state: AlarmState;
  reason: string;
  updated: number;
  region: string;
}

const MINUTE = 60_000;

/** CloudWatch speaks JSON with query compatibility: `__type` is the modeled shape, the header carries the query code. */
const SHAPES: Record<string, string> = {
  ValidationError: 'ValidationException',
  MissingParameter: 'MissingRequiredParameterException',
  InvalidParameterValue: 'InvalidParameterValueException',
};

const cwError = (queryCode: string, message: string): ApiError =>
  new ApiError(SHAPES[queryCode] ?? queryCode, message, { queryCode: `${queryCode};Sender` });

/** Part of a minute's datapoint and when it becomes visible to GetMetricData (ingestion lag). */
interface Arrival {
  availableAt: number;
  point: Datapoint;
}

/**
 * What GetMetricData answers for one variant's metric instead of its datapoints: a value no
 * endpoint metric can take (NaN, infinite, negative), to see that the service copes with it.
 */
export interface ValueOverride {
  endpointName: string;
  variantName: string;
  /** one metric (e.g. ModelLatency), or every metric of the variant */
  metricName?: string;
  value: number;
}

/**
 * The AWS JSON protocols write a Double that is not finite as a string: "NaN", "Infinity",
 * "-Infinity" (JSON itself has no such numbers; JSON.stringify would write null).
 */
const jsonDouble = (value: number): number | string => (Number.isFinite(value) ? value : String(value));

/** A minute's parts as last merged: which of them were visible (`1`), and the datapoint they made. */
const mergedArrivals = new WeakMap<Arrival[], { seen: string; point: Datapoint | undefined }>();

export class CloudWatch {
  private readonly series = new Map<string, Map<number, Arrival[]>>();
  private readonly alarms = new Map<string, Alarm>();
  private overrides: ValueOverride[] = [];

  constructor(
    private readonly clock: VirtualClock,
    private readonly defaultRegion: string,
    private readonly onAlarmChange: (name: string, state: AlarmState) => void,
    private readonly account = ACCOUNT_ID,
  ) {}

  /**
   * Adds to one minute's datapoint. `availableAt` models ingestion lag: the part is not seen by
   * GetMetricData before then (default: at once), so the newest minutes read as incomplete.
   */
  record(
    namespace: string,
    metricName: string,
    dimensions: Dimension[],
    timestampMs: number,
    point: Datapoint,
    availableAt = Number.NEGATIVE_INFINITY,
  ): void {
    const key = seriesKey(namespace, metricName, dimensions);
    let byMinute = this.series.get(key);
    if (!byMinute) {
      byMinute = new Map();
      this.series.set(key, byMinute);
    }
    const minute = Math.floor(timestampMs / MINUTE) * MINUTE;
    const copy = { ...point, ...(point.dist ? { dist: [...point.dist] } : {}) };
    const arrivals = byMinute.get(minute) ?? [];
    arrivals.push({ availableAt, point: copy });
    byMinute.set(minute, arrivals);
  }

  /** From now on GetMetricData answers `value` for every datapoint of the variant's metric(s). */
  overrideValues(override: ValueOverride): void {
    this.overrides = [
      ...this.overrides.filter(
        (o) =>
          o.endpointName !== override.endpointName ||
          o.variantName !== override.variantName ||
          o.metricName !== override.metricName,
      ),
      { ...override },
    ];
  }

  clearValueOverrides(): void {
    this.overrides = [];
  }

  private overrideFor(metricName: string, dimensions: Dimension[]): ValueOverride | undefined {
    const dim = (name: string) => dimensions.find((d) => d.Name === name)?.Value;
    return this.overrides.findLast(
      (o) =>
        o.endpointName === dim('EndpointName') &&
        o.variantName === dim('VariantName') &&
        (o.metricName === undefined || o.metricName === metricName),
    );
  }

  /** The part of a minute's datapoint visible now, or undefined before any of it arrived. */
  private visible(arrivals: Arrival[]): Datapoint | undefined {
    const now = this.clock.now();
    const seen = arrivals.map((a) => (a.availableAt > now ? '0' : '1')).join('');
    const known = mergedArrivals.get(arrivals);
    // the same parts merged as last time: the same datapoint, whose distribution is sorted already
    if (known?.seen === seen) return known.point;
    let out: Datapoint | undefined;
    for (const a of arrivals) {
      if (a.availableAt > now) continue;
      out = out ? merge(out, a.point) : { ...a.point };
    }
    mergedArrivals.set(arrivals, { seen, point: out });
    return out;
  }

  /** Datapoints of one metric aggregated by `periodSec` over [startMs, endMs), oldest first. */
  query(
    namespace: string,
    metricName: string,
    dimensions: Dimension[],
    periodSec: number,
    stat: string,
    startMs: number,
    endMs: number,
  ): Array<{ timestamp: number; value: number }> {
    const byMinute = this.series.get(seriesKey(namespace, metricName, dimensions));
    if (!byMinute) return [];
    const periodMs = periodSec * 1000;
    const buckets = new Map<number, Datapoint>();
    for (const [minute, arrivals] of byMinute) {
      if (minute < startMs || minute >= endMs) continue;
      const point = this.visible(arrivals);
      if (!point) continue;
      const bucket = startMs + Math.floor((minute - startMs) / periodMs) * periodMs;
      const existing = buckets.get(bucket);
      buckets.set(bucket, existing ? merge(existing, point) : { ...point });
    }
    const override = this.overrideFor(metricName, dimensions);
    return [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([timestamp, p]) => ({ timestamp, value: statistic(p, stat) }))
      .filter((d): d is { timestamp: number; value: number } => d.value !== undefined)
      .map((d) => (override ? { ...d, value: override.value } : d));
  }

  setAlarmState(name: string, state: AlarmState, reason = `Set to ${state} by the local cloud`): void {
    const existing = this.alarms.get(name);
    this.alarms.set(name, {
      name,
      state,
      reason,
      updated: this.clock.now(),
      region: existing?.region ?? this.defaultRegion,
    });
    if (existing?.state !== state) this.onAlarmChange(name, state);
  }

  alarmNames(): string[] {
    return [...this.alarms.keys()].sort();
  }

  alarmState(name: string): AlarmState | undefined {
    return this.alarms.get(name)?.state;
  }

  operations(): Record<string, (input: Json, ctx: RequestContext) => unknown> {
    return {
      GetMetricData: (i) => this.getMetricData(i),
      PutMetricData: (i) => this.putMetricData(i),
      DescribeAlarms: (i) => this.describeAlarms(i),
      SetAlarmState: (i) => this.setAlarmStateApi(i),
    };
  }

  /**
   * SetAlarmState as AWS documents it: an existing alarm (ResourceNotFound, 404, otherwise),
   * StateValue OK | ALARM | INSUFFICIENT_DATA, StateReason up to 1023 characters, StateReasonData
   * valid JSON up to 4000 (InvalidFormat otherwise). Alarms here have no metric to return to, so
   * the state stays until set again.
   * Source: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html
   * (parameters and limits; errors ResourceNotFound 404, InvalidFormat 400).
   */
  private setAlarmStateApi(input: Json): unknown {
    const name = input.AlarmName;
    if (typeof name !== 'string' || name.length < 1 || name.length > 255) {
      throw cwError(
        'ValidationError',
        `1 validation error detected: Value at 'alarmName' failed to satisfy constraint: Member must have length between 1 and 255`,
      );
    }
    const state = input.StateValue;
    if (state !== 'OK' && state !== 'ALARM' && state !== 'INSUFFICIENT_DATA') {
      throw cwError(
        'ValidationError',
        `1 validation error detected: Value '${String(state)}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]`,
      );
    }
    const reason = input.StateReason;
    if (typeof reason !== 'string')
      throw cwError('MissingParameter', 'The parameter StateReason is required.');
    if (reason.length > 1023) {
      throw cwError(
        'ValidationError',
        `1 validation error detected: Value at 'stateReason' failed to satisfy constraint: Member must have length less than or equal to 1023`,
      );
    }
    const data = input.StateReasonData;
    if (data !== undefined) {
      if (typeof data !== 'string' || data.length > 4000) {
        throw cwError(
          'ValidationError',
          `1 validation error detected: Value at 'stateReasonData' failed to satisfy constraint: Member must have length less than or equal to 4000`,
        );
      }
      try {
        JSON.parse(data);
      } catch {
        throw new ApiError('InvalidFormatFault', 'Data was not syntactically valid JSON', {
          queryCode: 'InvalidFormat;Sender',
        });
      }
    }
    if (!this.alarms.has(name)) {
      throw new ApiError('ResourceNotFound', `Alarm ${name} not found`, {
        status: 404,
        queryCode: 'ResourceNotFound;Sender',
      });
    }
    this.setAlarmState(name, state, reason);
    return {};
  }

  private getMetricData(input: Json): unknown {
    const queries = (Array.isArray(input.MetricDataQueries) ? input.MetricDataQueries : []) as Json[];
    if (queries.length === 0 || queries.length > 500) {
      throw cwError(
        'ValidationError',
        `1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length between 1 and 500`,
      );
    }
    if (input.StartTime === undefined || input.EndTime === undefined) {
      throw cwError('ValidationError', 'StartTime and EndTime are required.');
    }
    // "CloudWatch rounds the specified time stamp ... Start time less than 15 days ago - Round down
    // to the nearest whole minute" (GetMetricData StartTime, CloudWatch API reference); simulated
    // runs stay within days, so the local cloud always rounds to the minute.
    const requestedStart = parseTimestamp(input.StartTime, 'StartTime');
    const start = Math.floor(requestedStart / MINUTE) * MINUTE;
    const end = parseTimestamp(input.EndTime, 'EndTime');
    if (end <= requestedStart)
      throw cwError('ValidationError', 'The parameter StartTime must be less than the parameter EndTime.');
    const descending = (input.ScanBy ?? 'TimestampDescending') === 'TimestampDescending';
    const results = queries.map((q) => {
      const id = q.Id;
      if (typeof id !== 'string' || !/^[a-z][a-zA-Z0-9_]*$/.test(id)) {
        throw cwError(
          'ValidationError',
          `The value ${String(id)} for parameter MetricDataQueries.member.Id is not valid.`,
        );
      }
      if (q.Expression !== undefined) {
        throw cwError(
          'ValidationError',
          `Metric math expressions are not supported by the local cloud (query "${id}"); use MetricStat queries.`,
        );
      }
      const ms = q.MetricStat as Json | undefined;
      const metric = ms?.Metric as Json | undefined;
      if (!ms || !metric || typeof metric.MetricName !== 'string' || typeof metric.Namespace !== 'string') {
        throw cwError('ValidationError', `MetricDataQuery "${id}" must have a MetricStat with a Metric.`);
      }
      const period = Number(ms.Period);
      if (!Number.isInteger(period) || period < 60 || period % 60 !== 0) {
        throw cwError(
          'ValidationError',
          `The parameter MetricDataQueries.member.MetricStat.Period must be a multiple of 60.`,
        );
      }
      const stat = String(ms.Stat);
      if (!isKnownStat(stat))
        throw cwError(
          'ValidationError',
          `The value ${stat} for parameter MetricDataQueries.member.MetricStat.Stat is not valid.`,
        );
      const points = this.query(
        metric.Namespace,
        metric.MetricName,
        (metric.Dimensions ?? []) as Dimension[],
        period,
        stat,
        start,
        end,
      );
      if (descending) points.reverse();
      return {
        Id: id,
        Label: typeof q.Label === 'string' ? q.Label : metric.MetricName,
        Timestamps: points.map((p) => epochSeconds(p.timestamp)),
        Values: points.map((p) => jsonDouble(p.value)),
        StatusCode: 'Complete',
        Messages: [],
        returnData: q.ReturnData !== false,
      };
    });
    return {
      MetricDataResults: results.filter((r) => r.returnData).map(({ returnData: _unused, ...r }) => r),
      Messages: [],
    };
  }

  private putMetricData(input: Json): unknown {
    const namespace = input.Namespace;
    if (typeof namespace !== 'string' || namespace === '')
      throw cwError('MissingParameter', 'The parameter Namespace is required.');
    if (namespace.startsWith('AWS/')) {
      throw cwError('InvalidParameterValue', 'The value AWS/ for parameter Namespace is invalid.');
    }
    for (const d of (input.MetricData ?? []) as Json[]) {
      const ts = d.Timestamp !== undefined ? parseTimestamp(d.Timestamp, 'Timestamp') : this.clock.now();
      const dims = (d.Dimensions ?? []) as Dimension[];
      const name = String(d.MetricName);
      const stats = d.StatisticValues as Json | undefined;
      if (stats) {
        this.record(namespace, name, dims, ts, {
          sum: Number(stats.Sum),
          count: Number(stats.SampleCount),
          min: Number(stats.Minimum),
          max: Number(stats.Maximum),
        });
      } else if (Array.isArray(d.Values)) {
        const values = d.Values as number[];
        const counts = (d.Counts ?? values.map(() => 1)) as number[];
        const dist: Array<[number, number]> = values.map((v, i) => [v, counts[i] ?? 1]);
        this.record(namespace, name, dims, ts, fromDistribution(dist));
      } else if (typeof d.Value === 'number') {
        this.record(namespace, name, dims, ts, fromDistribution([[d.Value, 1]]));
      }
    }
    return {};
  }

  private describeAlarms(input: Json): unknown {
    const names = Array.isArray(input.AlarmNames) ? (input.AlarmNames as string[]) : undefined;
    const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : '';
    const alarms = [...this.alarms.values()]
      .filter((a) => (names ? names.includes(a.name) : a.name.startsWith(prefix)))
      .filter((a) => input.StateValue === undefined || a.state === input.StateValue)
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      MetricAlarms: alarms.map((a) => ({
        AlarmName: a.name,
        AlarmArn: `arn:aws:cloudwatch:${a.region}:${this.account}:alarm:${a.name}`,
        StateValue: a.state,
        StateReason: a.reason,
        StateUpdatedTimestamp: epochSeconds(a.updated),
        ActionsEnabled: true,
      })),
      CompositeAlarms: [],
    };
  }
}

function seriesKey(namespace: string, metricName: string, dimensions: Dimension[]): string {
  const dims = [...dimensions]
    .sort((a, b) => a.Name.localeCompare(b.Name))
    .map((d) => `${d.Name}=${d.Value}`);
  return `${namespace}|${metricName}|${dims.join(',')}`;
}

export function fromDistribution(dist: Array<[number, number]>): Datapoint {
  let sum = 0;
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const [v, w] of dist) {
    sum += v * w;
    count += w;
    if (w > 0) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return { sum, count, min, max, dist };
}

function merge(a: Datapoint, b: Datapoint): Datapoint {
  const out: Datapoint = {
    sum: a.sum + b.sum,
    count: a.count + b.count,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
  };
  if (a.dist && b.dist) out.dist = [...a.dist, ...b.dist];
  return out;
}

const isKnownStat = (stat: string): boolean =>
  ['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount'].includes(stat) ||
  /^p\d{1,2}(\.\d+)?$|^p100$/.test(stat);

function statistic(p: Datapoint, stat: string): number | undefined {
  switch (stat) {
    case 'Sum':
      return p.sum;
    case 'Average':
      return p.count > 0 ? p.sum / p.count : undefined;
    case 'Maximum':
      return p.max;
    case 'Minimum':
      return p.min;
    case 'SampleCount':
      return p.count;
    default:
      return p.dist ? percentile(p.dist, Number(stat.slice(1))) : undefined;
  }
}

/**
 * Each distribution sorted once: a minute's datapoint is read again on every tick whose window
 * holds it (distributions are never changed in place; merging makes a new one).
 */
const sortedDistributions = new WeakMap<
  Array<[number, number]>,
  { values: number[]; cumulative: number[]; total: number }
>();

/** The distribution's values in order, with the weight up to and including each. */
const sortedOnce = (dist: Array<[number, number]>) => {
  let known = sortedDistributions.get(dist);
  if (!known) {
    const sorted = [...dist].filter(([, w]) => w > 0).sort((a, b) => a[0] - b[0]);
    const cumulative: number[] = [];
    let total = 0;
    for (const [, w] of sorted) {
      total += w;
      cumulative.push(total);
    }
    known = { values: sorted.map(([v]) => v), cumulative, total };
    sortedDistributions.set(dist, known);
  }
  return known;
};

/** The smallest value whose cumulative weight reaches pct % of the total (nearest rank). */
function percentile(dist: Array<[number, number]>, pct: number): number | undefined {
  const { values, cumulative, total } = sortedOnce(dist);
  if (total === 0) return undefined;
  const rank = (pct / 100) * total;
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (cumulative[middle]! >= rank) high = middle;
    else low = middle + 1;
  }
  return values[low];
}
