import { UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';
const ALARM = 'churn-model-prod-business-kpi';

describe('canary: promotion of v2, then automatic rollback of a failing v3 (default local config)', () => {
  let r: Rollouts;
  let v1 = '';
  let v2 = '';
  const weightsSeen: string[] = [];

  beforeAll(async () => {
    r = await startRollouts();
    v1 = await withV1InProd(r, GROUP, PROD);
  });
  afterAll(() => r.close());

  const watchWeights = () => {
    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD);
    if (!ep) return;
    const split = ep.variants.map((v) => `${v.name}=${v.currentWeight}`).join(',');
    if (weightsSeen.at(-1) !== split) weightsSeen.push(split);
  };

  it('(b) approve v2: QA, canary 10% then 50%, promoted; v1 retired and superseded', async () => {
    const qaBefore = r.stack.cloud.calls.length;
    v2 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => {
      watchWeights();
      return (await r.phase(`${GROUP}:v2`)) === 'Succeeded';
    });
    watchWeights();

    // QA first, then prod
    const calls = r.stack.cloud.calls.slice(qaBefore);
    const invoke = calls.findIndex((c) => c.operation === 'InvokeEndpoint');
    const firstWeights = calls.findIndex((c) => c.operation === 'UpdateEndpointWeightsAndCapacities');
    expect(invoke).toBeGreaterThanOrEqual(0);
    expect(firstWeights).toBeGreaterThan(invoke);

    // the candidate joins at weight 0; step 1 gives it its weight once the config is InService
    expect(weightsSeen).toEqual(['v1=100', 'v1=100,v2=0', 'v1=90,v2=10', 'v1=50,v2=50', 'v2=100']);
    const state = await r.state(GROUP);
    expect(state.prod).toMatchObject({ version: 2, variantName: 'v2', modelName: 'churn-model-v2' });
    expect(state.knownGood.map((k) => k.version)).toEqual([1, 2]);

    const steps = r.events('Canary Step Passed').filter((e) => e.detail.deploymentId === `${GROUP}:v2`);
    expect(steps.map((e) => e.detail.step)).toEqual([1, 2]);
    expect(r.events('Deployment Promoted').map((e) => e.detail.deploymentId)).toContain(`${GROUP}:v2`);

    const history = await r.history(`${GROUP}:v2`);
    expect(history.map((h) => h.to)).toEqual(
      expect.arrayContaining(['QaDeploying', 'ProdDeploying', 'Canary', 'Promoting', 'Succeeded']),
    );
    expect(history.filter((h) => h.reason.includes('passed') && h.readings).length).toBe(2);

    // prod is the candidate alone; the baseline's model and the old configs are gone
    const sm = r.stack.cloud.sagemaker;
    const ep = sm.endpoints.get(PROD)!;
    expect(ep.configName).toBe(state.prod?.configName);
    expect(sm.configs.get(ep.configName)?.variants.map((v) => v.VariantName)).toEqual(['v2']);
    expect(sm.models.has('churn-model-v1')).toBe(false);
    expect(sm.models.has('churn-model-v2')).toBe(true);
    const prodConfigs = [...sm.configs.keys()].filter((n) => n.startsWith(`${PROD}-`));
    expect(prodConfigs).toEqual([ep.configName]);

    expect(await r.lifecycle(v2)).toMatchObject({ stage: 'Production', status: 'Deployed' });
    expect(await r.lifecycle(v1)).toMatchObject({ stage: 'Production', status: 'Superseded' });
  });

  it('(c) v3 with a high error rate: gate fails, weights 100/0 first, then v2 alone; v3 Rejected', async () => {
    const v3 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0.25' });
    weightsSeen.length = 0;
    await r.runUntil(async () => {
      watchWeights();
      return (await r.phase(`${GROUP}:v3`)) === 'Canary';
    });
    const before = r.stack.cloud.calls.length;
    await r.runUntil(async () => {
      watchWeights();
      return (await r.phase(`${GROUP}:v3`)) === 'RolledBack';
    });
    watchWeights();

    expect(weightsSeen).toEqual(['v2=100', 'v2=100,v3=0', 'v2=90,v3=10', 'v2=100,v3=0', 'v2=100']);
    // the weight change went out before the endpoint update that removes the candidate
    const prodWrites = r.stack.cloud.calls
      .slice(before)
      .filter((c) => c.operation === 'UpdateEndpointWeightsAndCapacities' || c.operation === 'UpdateEndpoint')
      .map((c) => c.operation);
    expect(prodWrites).toEqual(['UpdateEndpointWeightsAndCapacities', 'UpdateEndpoint']);

    const state = await r.state(GROUP);
    expect(state.prod?.version).toBe(2);
    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
    expect(ep.configName).toBe(state.prod?.configName);
    expect(ep.variants.map((v) => [v.name, v.currentWeight])).toEqual([['v2', 100]]);

    const d = state.deployments.find((x) => x.id === `${GROUP}:v3`)!;
    expect(d.reason).toMatch(/gate failed at step 1\/2 \(10%\)/);
    // the evidence in words: rates, counts, odds against the candidate and the limit they crossed
    expect(d.reason).toMatch(/candidate 5XX \d+\.\d+ % \([\d,]+ of [\d,]+\)/);
    expect(d.reason).toMatch(/evidence [\d,.>]+:1(,| against the candidate,) limit [\d,]+:1/);

    const rolledBack = r
      .events('Deployment Rolled Back')
      .filter((e) => e.detail.deploymentId === `${GROUP}:v3`);
    expect(rolledBack).toHaveLength(1);
    expect(rolledBack[0]!.detail.reason).toBe(d.reason);
    const readings = rolledBack[0]!.detail.readings as { candidate: { errorRate: number } };
    expect(readings.candidate.errorRate).toBeGreaterThan(0.02);

    expect(await r.lifecycle(v3)).toMatchObject({
      stage: 'Production',
      status: 'RolledBack',
      approval: 'Rejected',
    });
    expect(await r.lifecycle(v2)).toMatchObject({ stage: 'Production', status: 'Deployed' });
    expect(r.stack.cloud.sagemaker.models.has('churn-model-v2')).toBe(true);
    expect([...r.stack.cloud.sagemaker.configs.keys()].filter((n) => n.startsWith(`${PROD}-`))).toEqual([
      ep.configName,
    ]);
  });
});

describe('canary gates on one stack each', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('an alarm in ALARM during the bake rolls back even with healthy metrics', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary');
    await r.stack.run(3 * MINUTE);
    expect(await r.phase(`${GROUP}:v2`)).toBe('Canary');
    r.stack.cloud.setAlarmState(ALARM, 'ALARM');
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack', 30 * MINUTE);
    const d = (await r.state(GROUP)).deployments.find((x) => x.id === `${GROUP}:v2`)!;
    expect(d.reason).toContain(`alarm in ALARM: ${ALARM}`);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    expect((await r.state(GROUP)).prod?.version).toBe(1);
  });

  it('no traffic: the bake is extended twice, then the gate fails and the canary rolls back', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    r.stack.cloud.setTraffic(PROD, 0);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary');
    const canaryAt = r.stack.now;
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack', 2 * 60 * MINUTE);
    const history = await r.history(`${GROUP}:v2`);
    const extended = history.filter((h) => h.reason.startsWith('bake extended'));
    expect(extended.map((h) => h.reason.slice(0, 'bake extended (1/2)'.length))).toEqual([
      'bake extended (1/2)',
      'bake extended (2/2)',
    ]);
    const failed = history.find((h) => h.to === 'RollingBack')!;
    expect(failed.reason).toMatch(/no verdict at step 1\/2 \(10%\) after 2 extensions/);
    // three bakes of 10 minutes (the first and two extensions), each judged once its last minute
    // is settled in CloudWatch (ingestion lag 3 minutes)
    expect(failed.at - canaryAt).toBeGreaterThanOrEqual(39 * MINUTE);
    expect(failed.at - canaryAt).toBeLessThan(42 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    expect(r.events('Canary Step Passed').filter((e) => e.detail.deploymentId === `${GROUP}:v2`)).toEqual([]);
  });

  it('maxDurationMinutes: a canary still baking past its limit rolls back', async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/canary-limits.yml' });
    await withV1InProd(r, 'slow-model', 'slow-model-prod');
    await r.registerAndApprove('slow-model', { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase('slow-model:v2')) === 'Canary');
    const canaryAt = r.stack.now;
    await r.runUntil(async () => (await r.phase('slow-model:v2')) === 'RolledBack', 60 * MINUTE);
    const history = await r.history('slow-model:v2');
    const failed = history.find((h) => h.to === 'RollingBack')!;
    expect(failed.reason).toContain('canary exceeded its maximum duration of 15 min');
    expect(failed.at - canaryAt).toBeGreaterThan(15 * MINUTE);
    expect(failed.at - canaryAt).toBeLessThanOrEqual(17 * MINUTE);
    expect(r.weights('slow-model-prod')).toEqual({ v1: 100 });
  });
});

describe('reconciliation by the tick', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('weights changed by hand mid-canary: paused, Drift Detected, the hand-set weights are left alone', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary');
    await r.stack.run(3 * MINUTE);
    await r.sm.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: PROD,
        DesiredWeightsAndCapacities: [
          { VariantName: 'v1', DesiredWeight: 30 },
          { VariantName: 'v2', DesiredWeight: 70 },
        ],
      }),
    );
    await r.runUntil(
      async () => (await r.state(GROUP)).deployments.some((d) => d.canary?.paused),
      5 * MINUTE,
    );
    const drift = r.events('Drift Detected');
    expect(drift).toHaveLength(1);
    expect(drift[0]!.detail).toMatchObject({ deploymentId: `${GROUP}:v2` });
    expect(String(drift[0]!.detail.drift)).toContain('"v2":70');
    expect(r.events('Deployment Paused').map((e) => e.detail.deploymentId)).toEqual([`${GROUP}:v2`]);
    // well past the bake: nothing steps while paused
    await r.stack.run(15 * MINUTE);
    expect(await r.phase(`${GROUP}:v2`)).toBe('Canary');
    expect(r.weights(PROD)).toEqual({ v1: 30, v2: 70 });
    expect(r.events('Drift Detected')).toHaveLength(1);
    expect((await r.history(`${GROUP}:v2`)).some((h) => h.reason.startsWith('paused: drift detected'))).toBe(
      true,
    );
  });

  it('endpoint state change events lost: the tick alone carries v2 from QA to promotion', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    await r.setDelivery('endpointStateChange', false);
    const from = r.stack.records.length;
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Succeeded');
    const invoked = r.stack.records
      .slice(from)
      .filter((x) => x.kind === 'invoke')
      .map((x) => x.functionName);
    expect(invoked).not.toContain('endpointStateChange');
    const endpointEvents = r.stack.cloud.events.published.filter(
      (e) => e['detail-type'] === 'SageMaker Endpoint State Change',
    );
    expect(endpointEvents.length).toBeGreaterThan(0);
    expect((await r.history(`${GROUP}:v2`)).map((h) => h.to)).toEqual(
      expect.arrayContaining([
        'QaDeploying',
        'ReadyForProd',
        'ProdDeploying',
        'Canary',
        'Promoting',
        'Succeeded',
      ]),
    );
    expect(r.weights(PROD)).toEqual({ v2: 100 });
  });

  it('a manual promotion not granted within its approval timeout expires', async () => {
    r = await startRollouts();
    await r.createGroup('fraud-detector');
    await r.registerAndApprove('fraud-detector');
    await r.runUntil(async () => (await r.phase('fraud-detector:v1')) === 'AwaitingApproval');
    const waitingAt = r.stack.now;
    await r.runUntil(async () => (await r.phase('fraud-detector:v1')) === 'Failed', 3 * 60 * MINUTE);
    const d = (await r.state('fraud-detector')).deployments[0]!;
    expect(d.reason).toContain('approval timeout of 120 min');
    expect(r.stack.now - waitingAt).toBeGreaterThanOrEqual(120 * MINUTE);
    expect(r.stack.now - waitingAt).toBeLessThanOrEqual(122 * MINUTE);
    expect(r.events('Deployment Failed').map((e) => e.detail.deploymentId)).toEqual(['fraud-detector:v1']);
    expect(r.stack.cloud.sagemaker.endpoints.has('fraud-detector-prod')).toBe(false);
  });
});
