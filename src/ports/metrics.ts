import type { VariantReadings } from '../domain/model';

export interface VariantMetricsQuery {
  /** caller's key, returned with the readings */
  key: string;
  endpointName: string;
  variantName: string;
  latencyStatistic: 'p50' | 'p90' | 'p99' | 'Maximum';
  start: number;
  end: number;
}

/** A datapoint GetMetricData returned that no metric of an endpoint can hold: NaN, infinite, negative. */
export interface InvalidDatapoint {
  endpointName: string;
  variantName: string;
  metricName: string;
  /** the datapoint's period start, ISO 8601 */
  timestamp: string;
  /** the value as returned ("NaN", "Infinity", "-3") */
  value: string;
}

/** Per-variant CloudWatch metrics and alarms. */
export interface Metrics {
  /**
   * Batches every query into as few GetMetricData calls as possible (500 metric queries each). An
   * invalid datapoint is left out as if it were missing and reported to `onInvalid`, once.
   */
  readVariants(
    queries: VariantMetricsQuery[],
    onInvalid?: (datapoint: InvalidDatapoint) => void,
  ): Promise<Map<string, VariantReadings>>;
  /** Names of the given alarms that are in ALARM. */
  alarmsInAlarm(alarmNames: string[]): Promise<string[]>;
}

/** GetMetricData queries per variant: Invocations, Invocation5XXErrors, ModelLatency. */
export const METRIC_QUERIES_PER_VARIANT = 3;
