import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetClients } from '../../src/adapters/clients';
import { CloudWatchMetrics } from '../../src/adapters/cloudwatch-metrics';
import { SageMakerEndpointsFactory } from '../../src/adapters/sagemaker-endpoints';
import { SageMakerPipelineCallbacks } from '../../src/adapters/sagemaker-pipelines';
import { SageMakerModelRegistry } from '../../src/adapters/sagemaker-registry';
import { SageMakerRegistryWriter } from '../../src/adapters/sagemaker-registry-writer';
import { PermanentError } from '../../src/errors';
import { VirtualClock } from '../../src/local/clock';
import { type LocalCloud, startLocalCloud } from '../../src/local/cloud';
import type { InvalidDatapoint } from '../../src/ports/metrics';
import { restoreProcessEnv } from '../support/process-env';

/** The adapters over the wire, against the local cloud, configured only through AWS_ENDPOINT_URL. */
const T0 = Date.UTC(2024, 0, 1);
let cloud: LocalCloud;
const savedEnv = { ...process.env };
let packageArn: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ clock: new VirtualClock(T0) });
  Object.assign(process.env, cloud.env());
  resetClients();
  const sm = new SageMakerClient({});
  await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'churn' }));
  const created = await sm.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: 'churn',
      ModelApprovalStatus: 'Approved',
      InferenceSpecification: {
        Containers: [{ Image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/img:1' }],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
    }),
  );
  packageArn = created.ModelPackageArn!;
  sm.destroy();
});

afterAll(async () => {
  restoreProcessEnv(savedEnv);
  resetClients();
  await cloud.close();
});

describe('adapters against the local cloud', () => {
  it('reads and updates the registry', async () => {
    const registry = new SageMakerModelRegistry();
    await new SageMakerRegistryWriter().updatePackage(packageArn, {
      lifecycle: { stage: 'QA', stageStatus: 'Deploying' },
    });
    expect(await registry.describePackage(packageArn)).toMatchObject({
      group: 'churn',
      version: 1,
      arn: packageArn,
      approvalStatus: 'Approved',
      lifecycle: { stage: 'QA', stageStatus: 'Deploying' },
    });
  });

  it('deploys, waits, shifts weights, invokes and reads metrics', async () => {
    const endpoints = new SageMakerEndpointsFactory().forStage({ group: 'churn', stage: 'qa' });
    expect(await endpoints.describe('churn-qa')).toBeNull();
    const spec = {
      endpointName: 'churn-qa',
      configName: 'churn-qa-v1-abc123',
      variants: [{ variantName: 'v1', modelName: 'churn-v1', packageArn, version: 1, weight: 100 }],
      instance: { instanceType: 'ml.m5.large', instanceCount: 1 },
      executionRoleArn: 'arn:aws:iam::111122223333:role/sm',
      tags: { 'sagemaker-rollouts:group': 'churn' },
    };
    expect(await endpoints.deploy(spec)).toBe('started');
    expect(await endpoints.deploy(spec)).toBe('already');
    expect((await endpoints.describe('churn-qa'))?.status).toBe('Creating');
    expect(await endpoints.setWeights('churn-qa', { v1: 50 })).toBe('busy');

    cloud.timers.runUntil(T0 + 10 * 60_000);
    expect(await endpoints.describe('churn-qa')).toMatchObject({
      status: 'InService',
      configName: 'churn-qa-v1-abc123',
      variants: [{ variantName: 'v1', currentWeight: 100, desiredWeight: 100 }],
    });
    expect(await endpoints.setWeights('churn-qa', { v1: 50 })).toBe('sent');

    const result = await endpoints.invoke('churn-qa', { contentType: 'application/json', body: '{}' });
    expect(result.ok).toBe(true);
    const readings = await new CloudWatchMetrics().readVariants([
      {
        key: 'qa',
        endpointName: 'churn-qa',
        variantName: 'v1',
        latencyStatistic: 'p99',
        start: T0,
        end: T0 + 60 * 60_000,
      },
    ]);
    expect(readings.get('qa')?.invocations).toBe(1);
    expect(readings.get('qa')?.latencyMs).toBeGreaterThan(0);
    expect(await new CloudWatchMetrics().alarmsInAlarm(['no-such-alarm'])).toEqual([]);

    await endpoints.retire(['churn-v9'], ['no-such-config']);
  });

  it('NaN, Infinity and negative datapoints: carried by the JSON protocol, left out and reported once by the adapter', async () => {
    const post = (body: unknown) =>
      fetch(`${cloud.url}/_local/metric-values`, { method: 'POST', body: JSON.stringify(body) });
    const at = (metric: string, value: unknown) => ({ endpoint: 'churn-qa', variant: 'v1', metric, value });
    expect((await post(at('ModelLatency', 'NaN'))).status).toBe(200);
    expect((await post(at('Invocations', 'Infinity'))).status).toBe(200);
    expect((await post(at('Invocation5XXErrors', -1))).status).toBe(200);
    const refused = await post(at('ModelLatency', 'nan'));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/^value: /);

    const window = { StartTime: new Date(T0), EndTime: new Date(T0 + 60 * 60_000) };
    const stat = (Id: string, MetricName: string, Stat: string) => ({
      Id,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SageMaker',
          MetricName,
          Dimensions: [
            { Name: 'EndpointName', Value: 'churn-qa' },
            { Name: 'VariantName', Value: 'v1' },
          ],
        },
        Period: 60,
        Stat,
      },
    });
    const cw = new CloudWatchClient({});
    const raw = await cw.send(
      new GetMetricDataCommand({
        ...window,
        MetricDataQueries: [stat('lat', 'ModelLatency', 'p99'), stat('inv', 'Invocations', 'Sum')],
      }),
    );
    cw.destroy();
    const values = Object.fromEntries((raw.MetricDataResults ?? []).map((r) => [r.Id, r.Values]));
    expect(values).toEqual({ lat: [Number.NaN], inv: [Number.POSITIVE_INFINITY] });

    const reported: InvalidDatapoint[] = [];
    const adapter = new CloudWatchMetrics();
    const query = {
      key: 'qa',
      endpointName: 'churn-qa',
      variantName: 'v1',
      latencyStatistic: 'p99' as const,
      start: T0,
      end: T0 + 60 * 60_000,
    };
    const readings = await adapter.readVariants([query], (d) => reported.push(d));
    expect(readings.get('qa')).toMatchObject({ invocations: 0, errors5xx: 0, latencyMs: null });
    // every metric of the minute was invalid: the minute reads as if CloudWatch had no datapoint
    expect(readings.get('qa')?.minutes).toEqual([]);
    expect(reported.map((d) => [d.metricName, d.value]).sort()).toEqual([
      ['Invocation5XXErrors', '-1'],
      ['Invocations', 'Infinity'],
      ['ModelLatency', 'NaN'],
    ]);
    expect(reported[0]).toMatchObject({ endpointName: 'churn-qa', variantName: 'v1' });
    const minute = raw.MetricDataResults![0]!.Timestamps![0]!.getTime();
    expect(reported.every((d) => new Date(d.timestamp).getTime() === minute)).toBe(true);
    await adapter.readVariants([query], (d) => reported.push(d));
    expect(reported).toHaveLength(3);

    expect((await fetch(`${cloud.url}/_local/metric-values`, { method: 'DELETE' })).status).toBe(200);
    expect((await adapter.readVariants([query])).get('qa')?.latencyMs).toBeGreaterThan(0);
  });

  it('maps an unknown callback token to a PermanentError', async () => {
    await expect(
      new SageMakerPipelineCallbacks().sendFailure('AbCdEf1234', 'stopped', 'x'.repeat(64)),
    ).rejects.toBeInstanceOf(PermanentError);
  });
});
