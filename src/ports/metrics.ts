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

/** Per-variant CloudWatch metrics and alarms. */
export interface Metrics {
  /** Batches every query into as few GetMetricData calls as possible (500 metric queries each). */
  readVariants(queries: VariantMetricsQuery[]): Promise<Map<string, VariantReadings>>;
  /** Names of the given alarms that are in ALARM. */
  alarmsInAlarm(alarmNames: string[]): Promise<string[]>;
}

/** GetMetricData queries per variant: Invocations, Invocation5XXErrors, ModelLatency. */
export const METRIC_QUERIES_PER_VARIANT = 3;
