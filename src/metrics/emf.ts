import type { Datum } from './service-metrics';

export const NAMESPACE = 'SageMakerRollouts';

const serviceName = (): string => process.env.POWERTOOLS_SERVICE_NAME ?? 'sagemaker-rollouts';

/** Where EMF lines go: stdout (CloudWatch Logs turns them into metrics), or a local sink. */
let write = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** For the local stack: receive the EMF lines instead of stdout (undefined restores stdout). */
export const setMetricsSink = (sink: ((line: string) => void) | undefined): void => {
  write = sink ?? ((line) => process.stdout.write(`${line}\n`));
};

type EmfDocument = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
};

/**
 * The Embedded Metric Format document of one group's data: dimensions `service` and `group`, a
 * metric given twice carries its values as an array, metadata as plain members (searchable in
 * Logs Insights, not metrics). The service's metric names (METRIC) are far fewer than the 100 a
 * directive may hold. Written by hand rather than with Powertools Metrics, whose validation and
 * stores weigh 12 KB in every bundle.
 */
export const emfDocument = (
  group: string,
  data: Datum[],
  metadata: Record<string, string>,
  timestamp: number,
  service: string = serviceName(),
): EmfDocument => {
  const byName = new Map<string, { unit: string; values: number[] }>();
  for (const datum of data) {
    const entry = byName.get(datum.name) ?? { unit: datum.unit, values: [] };
    entry.values.push(datum.value);
    byName.set(datum.name, entry);
  }
  const document: EmfDocument = {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: NAMESPACE,
          Dimensions: [['service', 'group']],
          Metrics: [...byName].map(([name, { unit }]) => ({ Name: name, Unit: unit })),
        },
      ],
    },
    ...metadata,
    service,
    group,
  };
  for (const [name, { values }] of byName) document[name] = values.length === 1 ? values[0] : values;
  return document;
};

/**
 * One EMF document per group: the group dimension and these metrics. Emitted at once, so a
 * handler that serves several groups (the tick) never mixes their dimensions.
 */
export const emitMetrics = (group: string, data: Datum[], metadata: Record<string, string> = {}): void => {
  if (data.length === 0) return;
  write(JSON.stringify(emfDocument(group, data, metadata, Date.now())));
};
