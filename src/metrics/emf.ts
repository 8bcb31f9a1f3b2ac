import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as PowertoolsUnit } from '@aws-lambda-powertools/metrics/types';
import type { Datum } from './service-metrics';

export const NAMESPACE = 'SageMakerRollouts';

const metrics = new Metrics({
  namespace: NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sagemaker-rollouts',
});

/** Where EMF lines go: stdout (CloudWatch Logs turns them into metrics), or a local sink. */
let write = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** For the local stack: receive the EMF lines instead of stdout (undefined restores stdout). */
export const setMetricsSink = (sink: ((line: string) => void) | undefined): void => {
  write = sink ?? ((line) => process.stdout.write(`${line}\n`));
};

/**
 * One EMF document per group: the group dimension and these metrics. Emitted at once, so a
 * handler that serves several groups (the tick) never mixes their dimensions.
 */
export const emitMetrics = (group: string, data: Datum[], metadata: Record<string, string> = {}): void => {
  if (data.length === 0) return;
  metrics.addDimension('group', group);
  for (const datum of data) metrics.addMetric(datum.name, datum.unit as PowertoolsUnit, datum.value);
  for (const [key, value] of Object.entries(metadata)) metrics.addMetadata(key, value);
  const line = JSON.stringify(metrics.serializeMetrics());
  metrics.clearMetrics();
  metrics.clearDimensions();
  metrics.clearMetadata();
  write(line);
};
