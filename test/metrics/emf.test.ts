import { afterEach, describe, expect, it } from 'vitest';
import { emfDocument, emitMetrics, setMetricsSink } from '../../src/metrics/emf';

describe('EMF documents', () => {
  afterEach(() => setMetricsSink(undefined));

  it('name the namespace, the service and group dimensions and each metric once with its unit', () => {
    const document = emfDocument(
      'churn-model',
      [
        { name: 'GatePassed', unit: 'Count', value: 1 },
        { name: 'StepDuration', unit: 'Seconds', value: 900 },
        { name: 'GatePassed', unit: 'Count', value: 3 },
      ],
      { deploymentId: 'churn-model:v2' },
      1_796_638_879_585,
      'sagemaker-rollouts',
    );
    // the layout CloudWatch's Embedded Metric Format specification defines (and Powertools wrote)
    expect(JSON.stringify(document)).toBe(
      '{"_aws":{"Timestamp":1796638879585,"CloudWatchMetrics":[{"Namespace":"SageMakerRollouts",' +
        '"Dimensions":[["service","group"]],"Metrics":[{"Name":"GatePassed","Unit":"Count"},' +
        '{"Name":"StepDuration","Unit":"Seconds"}]}]},"deploymentId":"churn-model:v2",' +
        '"service":"sagemaker-rollouts","group":"churn-model","GatePassed":[1,3],"StepDuration":900}',
    );
  });

  it('emits one line per call to the sink, and nothing for no data', () => {
    const lines: string[] = [];
    setMetricsSink((line) => lines.push(line));
    emitMetrics('all', []);
    emitMetrics('all', [{ name: 'TickDuration', unit: 'Milliseconds', value: 12 }]);
    expect(lines).toHaveLength(1);
    const document = JSON.parse(lines[0]!);
    expect(document).toMatchObject({ group: 'all', TickDuration: 12 });
    expect(document._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'TickDuration', Unit: 'Milliseconds' },
    ]);
  });
});
