import {
  AddTagsCommand,
  DescribeModelCommand,
  ListModelsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config';
import type { CloudEvent } from '../../src/local/cloud';
import { laneStages, stageLanes } from '../../src/local/report-lanes';
import { localConfigVariant } from './helpers';
import {
  canaryAfterInService,
  ECR_EU,
  ECR_HOME,
  EU,
  eu,
  GROUP,
  HOME,
  PROD,
  prodInEu,
  QA,
  register,
  v1InEuProd,
} from './prod-in-eu';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

const euWeights = (r: Rollouts) =>
  Object.fromEntries(
    (eu(r).sagemaker.endpoints.get(PROD)?.variants ?? []).map((v) => [v.name, v.currentWeight]),
  );
const calls = (r: Rollouts, operation: string, from = 0) =>
  r.stack.cloud.calls.slice(from).filter((c) => c.operation === operation && !c.error);
const regionsOf = (r: Rollouts, operation: string, from = 0) =>
  [...new Set(calls(r, operation, from).map((c) => c.region))].sort();

const endpointEvents = (r: Rollouts, region: string, endpoint: string): CloudEvent[] =>
  r.stack.cloud.events.published.filter(
    (e) =>
      e['detail-type'] === 'SageMaker Endpoint State Change' &&
      e.region === region &&
      (e.detail as { EndpointName?: string }).EndpointName === endpoint,
  );

/** The service's own events about one deployment, as published on its bus: type, stage, region. */
const serviceEvents = (r: Rollouts, deploymentId: string) =>
  r.stack.cloud.events.published
    .filter((e) => e.source === 'sagemaker-rollouts' && e.detail.deploymentId === deploymentId)
    .map((e) => [e['detail-type'], e.detail.stage, e.detail.region, e.region]);

describe('a prod stage in another region', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('ships a version through QA at home and the eu-west-1 canary to 100 %, each call in its region', async () => {
    r = await startRollouts({ configPath: prodInEu() });
    await v1InEuProd(r);
    const v2 = await register(r, 2);
    const before = r.stack.cloud.calls.length;
    await r.approve(v2);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Succeeded', 180 * MINUTE);

    // the prod endpoint is in eu-west-1 only, QA's at home only
    expect(r.stack.cloud.sagemaker.endpoints.get(PROD)).toBeUndefined();
    expect(eu(r).sagemaker.endpoints.get(QA)).toBeUndefined();
    expect(r.stack.cloud.sagemaker.endpoints.get(QA)).toBeDefined();
    expect(euWeights(r)).toEqual({ v2: 100 });
    // the canary's weights were set there, its metrics and alarms read there
    expect(calls(r, 'UpdateEndpointWeightsAndCapacities', before).length).toBeGreaterThan(0);
    expect(regionsOf(r, 'UpdateEndpointWeightsAndCapacities', before)).toEqual([EU]);
    expect(calls(r, 'GetMetricData', before).length).toBeGreaterThan(0);
    expect(regionsOf(r, 'GetMetricData', before)).toEqual([EU]);
    expect(regionsOf(r, 'DescribeAlarms', before)).toEqual([EU]);
    // every endpoint change of prod went to eu-west-1, QA's to the service's region
    const prodWrites = ['CreateEndpointConfig', 'UpdateEndpoint', 'CreateModel'].flatMap((op) =>
      calls(r, op, before).filter(
        (c) => c.names?.EndpointName === PROD || c.names?.EndpointConfigName?.startsWith(PROD),
      ),
    );
    expect(prodWrites.length).toBeGreaterThan(0);
    expect(new Set(prodWrites.map((c) => c.region))).toEqual(new Set([EU]));
    // the registry stayed at home: read and marked in us-east-1 only
    expect(regionsOf(r, 'DescribeModelPackage')).toEqual([HOME]);
    expect(calls(r, 'UpdateModelPackage', before).length).toBeGreaterThan(0);
    expect(regionsOf(r, 'UpdateModelPackage')).toEqual([HOME]);
    expect(await r.lifecycle(v2)).toMatchObject({ stage: 'Production', status: 'Deployed' });
    // the model in eu-west-1 runs the version's replicas there, not the package of another region
    const euSm = new SageMakerClient({ region: EU });
    const models = (await euSm.send(new ListModelsCommand({}))).Models ?? [];
    const v2Model = models.find((m) => m.ModelName?.includes('v2'));
    expect(v2Model).toBeDefined();
    const described = await euSm.send(new DescribeModelCommand({ ModelName: v2Model!.ModelName! }));
    expect(described.PrimaryContainer).toEqual({
      Image: `${ECR_EU}:v2`,
      ModelDataUrl: 's3://models-euw1/churn/v2/model.tar.gz',
    });
    // the pre-flight looked the replicas up in eu-west-1 (and QA's artifacts at home)
    expect(regionsOf(r, 'DescribeImages', before)).toEqual([EU, HOME]);
    expect(regionsOf(r, 'HeadObject', before)).toEqual([EU, HOME]);
    // eu-west-1's endpoint events reached the service through the forwarding rule
    const forward = r.stack.stageRegionRules.get(EU)!.ruleName;
    const forwarded = r.stack.cloud.events.deliveries.filter((d) => d.rule === forward && d.ok);
    expect(forwarded.length).toBe(endpointEvents(r, EU, PROD).length);
    expect(forwarded.length).toBeGreaterThan(0);
    const handled = r.stack.cloud.events.deliveries.filter(
      (d) => d.rule === 'endpointStateChange-rule' && d.region === HOME && d.ok,
    );
    expect(handled.map((d) => d.eventId)).toEqual(
      expect.arrayContaining(endpointEvents(r, EU, PROD).map((e) => e.id)),
    );
    // the history and the service's events name each stage and its region
    expect((await r.history(`${GROUP}:v2`)).map((h) => [h.from, h.to, h.stage, h.region])).toEqual([
      [null, 'Queued', undefined, undefined],
      ['Queued', 'QaDeploying', 'qa', HOME],
      ['QaDeploying', 'QaVerifying', 'qa', HOME],
      ['QaVerifying', 'ReadyForProd', 'qa', HOME],
      ['ReadyForProd', 'ProdDeploying', 'prod', EU],
      ['ProdDeploying', 'Canary', 'prod', EU],
      ['Canary', 'Canary', 'prod', EU],
      ['Canary', 'Canary', 'prod', EU],
      ['Canary', 'Canary', 'prod', EU],
      ['Canary', 'Promoting', 'prod', EU],
      ['Promoting', 'Succeeded', 'prod', EU],
    ]);
    // published on the service's bus at home, whichever stage they are about
    expect(serviceEvents(r, `${GROUP}:v2`)).toEqual([
      ['Deployment Started', undefined, undefined, HOME],
      ['Stage Deployed', 'qa', HOME, HOME],
      ['Canary Step Passed', 'prod', EU, HOME],
      ['Canary Step Passed', 'prod', EU, HOME],
      ['Deployment Promoted', 'prod', EU, HOME],
    ]);
    // the report's lanes: prod's read from eu-west-1's endpoint changes and named with its region
    const lanes = stageLanes({
      stages: laneStages(
        loadConfigFile(r.stack.env().ROLLOUTS_CONFIG_PATH!).modelPackageGroups,
        [GROUP],
        HOME,
      ),
      changes: r.stack.cloud.changes,
      published: r.stack.cloud.events.published,
      startMs: 0,
    });
    expect(lanes.map((l) => [l.stage, l.endpoint, l.region, l.elsewhere])).toEqual([
      ['qa', QA, HOME, false],
      ['prod', PROD, EU, true],
    ]);
    const prod = lanes[1]!;
    const shares = prod.segments.map((s) => s.serving.map((v) => `${v.variant} ${v.percent}`).join(' · '));
    expect(shares[0]).toBe('v1 100');
    expect(shares.at(-1)).toBe('v2 100');
    expect(shares.some((s) => /^v1 \d+ · v2 \d+$/.test(s))).toBe(true);
    expect(prod.markers.filter((m) => m.version === 'v2').map((m) => [m.outcome, m.region])).toEqual([
      ['promoted', EU],
    ]);
  });

  it('a canary in eu-west-1 that regresses is rolled back there', async () => {
    r = await startRollouts({ configPath: prodInEu() });
    await v1InEuProd(r);
    const euSm = new SageMakerClient({ region: EU });
    const v2Model = async () =>
      ((await euSm.send(new ListModelsCommand({}))).Models ?? []).find((m) => m.ModelName?.includes('v2'));
    const before = r.stack.cloud.calls.length;
    await r.approve(await register(r, 2));
    await r.runUntil(async () => (await v2Model()) !== undefined, 60 * MINUTE);
    // the simulated model of v2 in eu-west-1 answers 30 % of its requests with errors
    await euSm.send(
      new AddTagsCommand({
        ResourceArn: (await v2Model())!.ModelArn!,
        Tags: [{ Key: 'sim.errorRate', Value: '0.3' }],
      }),
    );
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack', 120 * MINUTE);

    const d = (await r.state(GROUP)).deployments.find((x) => x.id === `${GROUP}:v2`)!;
    expect(d.reason).toMatch(/^rolling back to v1: gate failed at step 1\/2 \(10%\): candidate 5XX /);
    expect(euWeights(r)).toEqual({ v1: 100 });
    expect(r.stack.cloud.sagemaker.endpoints.get(PROD)).toBeUndefined();
    // judged on eu-west-1's metrics; rolled back with writes there alone
    expect(regionsOf(r, 'GetMetricData', before)).toEqual([EU]);
    const rollback = (await r.history(`${GROUP}:v2`)).find((h) => h.to === 'RollingBack')!;
    const writes = ['UpdateEndpointWeightsAndCapacities', 'UpdateEndpoint'].flatMap((op) =>
      calls(r, op, before).filter((c) => c.at >= rollback.at),
    );
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes.map((c) => c.region))).toEqual(new Set([EU]));
    // the rollback is recorded and announced as prod's, in eu-west-1
    expect((await r.history(`${GROUP}:v2`)).slice(-2).map((h) => [h.to, h.stage, h.region])).toEqual([
      ['RollingBack', 'prod', EU],
      ['RolledBack', 'prod', EU],
    ]);
    expect(serviceEvents(r, `${GROUP}:v2`).at(-1)).toEqual(['Deployment Rolled Back', 'prod', EU, HOME]);
    // the registry hears of it at home
    expect(calls(r, 'UpdateModelPackage', before).length).toBeGreaterThan(0);
    expect(regionsOf(r, 'UpdateModelPackage', before)).toEqual([HOME]);
  });

  it('a QA stage in eu-west-1 is created, smoke-tested and verified there, prod at home', async () => {
    const qaInEu = localConfigVariant((config) => {
      const qa = config.modelPackageGroups[GROUP].stages.qa;
      qa.region = EU;
      qa.artifacts = {
        ecr: [{ from: ECR_HOME, to: ECR_EU }],
        s3: [{ from: 's3://models-use1/churn/', to: 's3://models-euw1/churn/' }],
      };
    });
    r = await startRollouts({ configPath: qaInEu });
    await r.createGroup(GROUP);
    const v1 = await register(r, 1);
    await r.approve(v1);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded', 120 * MINUTE);

    expect(eu(r).sagemaker.endpoints.get(QA)).toBeDefined();
    expect(r.stack.cloud.sagemaker.endpoints.get(QA)).toBeUndefined();
    expect(r.stack.cloud.sagemaker.endpoints.get(PROD)).toBeDefined();
    // the only requests sent over the API are QA's smoke tests (prod has no pre-traffic check here)
    const smoke = calls(r, 'InvokeEndpoint');
    expect(smoke.length).toBeGreaterThan(0);
    expect(new Set(smoke.map((c) => c.region))).toEqual(new Set([EU]));
    const history = (await r.history(`${GROUP}:v1`)).map((h) => h.to);
    expect(history).toEqual(
      expect.arrayContaining(['QaDeploying', 'QaVerifying', 'ProdDeploying', 'Succeeded']),
    );
    expect(regionsOf(r, 'DescribeModelPackage')).toEqual([HOME]);
  });

  /**
   * How long after eu-west-1's endpoint went InService the service acted on it: the update to the
   * canary's config (ProdDeploying, then Canary). UpdateEndpoint takes 3 minutes plus `offsetMs`,
   * so that InService falls anywhere within a minute of the tick.
   */
  const lagToCanary = async (offsetMs: number, forwarding: boolean): Promise<number> => {
    r = await startRollouts({ configPath: prodInEu(), timings: { updateMs: 3 * MINUTE + offsetMs } });
    await v1InEuProd(r);
    if (!forwarding) await r.stack.setStageRegionEvents(EU, false);
    const eventsBefore = endpointEvents(r, EU, PROD).length;
    await r.approve(await register(r, 2));
    // the canary's start is what is measured: its bakes are not waited for (the first test of
    // this file takes a canary in eu-west-1 to 100 %)
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary', 180 * MINUTE);
    expect(Object.keys(euWeights(r)).sort()).toEqual(['v1', 'v2']);
    const published = endpointEvents(r, EU, PROD).slice(eventsBefore);
    const handled = new Set(
      r.stack.cloud.events.deliveries
        .filter((d) => d.rule === 'endpointStateChange-rule' && d.ok)
        .map((d) => d.eventId),
    );
    // forwarded, every event of eu-west-1 reached the service; lost, none did
    expect(published.length).toBeGreaterThan(0);
    expect(published.filter((e) => handled.has(e.id)).length).toBe(forwarding ? published.length : 0);
    const { lagMs } = await canaryAfterInService(r, published);
    await r.close();
    return lagMs;
  };

  it('forwarded, eu-west-1’s endpoint event moves the rollout at once; lost, the tick catches it within a minute', async () => {
    const offsets = [0, 20_000, 40_000, 59_000];
    expect(await lagToCanary(30_000, true)).toBe(0);
    const lags: number[] = [];
    for (const offsetMs of offsets) lags.push(await lagToCanary(offsetMs, false));
    console.log(
      `lost eu-west-1 endpoint event caught by the tick after ${lags.map((l) => `${l / 1000} s`).join(', ')} (UpdateEndpoint 3 min + ${offsets.map((o) => `${o / 1000} s`).join(', ')})`,
    );
    for (const lag of lags) {
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThanOrEqual(MINUTE);
    }
    expect(Math.max(...lags)).toBeGreaterThan(0);
  });
});
