import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'pt-model';
const PROD = 'pt-model-prod';
/** the prod smoke test and the two requests of the set */
const CHECK_REQUESTS = 3;

/** Every invocation CloudWatch holds for one variant of the prod endpoint. */
const invocations = (r: Rollouts, variant: string): number =>
  r.stack.cloud.cloudwatch
    .query(
      'AWS/SageMaker',
      'Invocations',
      [
        { Name: 'EndpointName', Value: PROD },
        { Name: 'VariantName', Value: variant },
      ],
      60,
      'Sum',
      0,
      r.stack.cloud.clock.now() + MINUTE,
    )
    .reduce((n, p) => n + p.value, 0);

describe('pre-traffic check in prod: the candidate at weight 0, invoked with TargetVariant', () => {
  let r: Rollouts;
  const maxWeight: Record<string, number> = {};
  const watch = () => {
    for (const v of r.stack.cloud.sagemaker.endpoints.get(PROD)?.variants ?? []) {
      maxWeight[v.name] = Math.max(maxWeight[v.name] ?? 0, v.currentWeight);
    }
  };

  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/pre-traffic.yml' });
    await withV1InProd(r, GROUP, PROD);
  });
  afterAll(() => r.close());

  it('a candidate answering as expected (and as the baseline does) gets step 1 after its check', async () => {
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => {
      watch();
      return (await r.phase(`${GROUP}:v2`)) === 'Succeeded';
    });
    const history = await r.history(`${GROUP}:v2`);
    const phases = history.map((h) => h.to);
    expect(phases).toEqual(expect.arrayContaining(['ProdDeploying', 'ProdVerifying', 'Canary', 'Succeeded']));
    expect(phases.indexOf('ProdVerifying')).toBeLessThan(phases.indexOf('Canary'));
    const canary = history.find((h) => h.to === 'Canary')!;
    expect(canary.reason).toContain('pre-traffic check passed');
    expect(canary.reason).toContain('2 request(s) answered as expected and as v1 did');
    expect(canary.weights).toEqual({ v1: 80, v2: 20 });
    expect(maxWeight.v2).toBe(100);
  });

  it('a candidate answering wrongly is Failed with zero user traffic: its weight never above 0', async () => {
    const v3 = await r.registerAndApprove(GROUP, {
      'sim.errorRate': '0',
      'sim.responseBase64': Buffer.from('{"predictions":[7.5]}').toString('base64'),
    });
    for (const key of Object.keys(maxWeight)) delete maxWeight[key];
    await r.runUntil(async () => {
      watch();
      return (await r.phase(`${GROUP}:v3`)) === 'Failed';
    });
    // CloudWatch ingestion lag: let every request of the meantime arrive
    await r.stack.run(5 * MINUTE, () => false);
    watch();

    expect(maxWeight.v3).toBe(0);
    expect(invocations(r, 'v3')).toBe(CHECK_REQUESTS);
    expect(invocations(r, 'v2')).toBeGreaterThan(100);

    const state = await r.state(GROUP);
    const d = state.deployments.find((x) => x.id === `${GROUP}:v3`)!;
    expect(d.reason).toContain('pre-traffic check failed in prod');
    expect(d.reason).toMatch(/request #1 "typical-customer" \(body 29 bytes, sha256 [0-9a-f]{12}\)/);
    expect(d.reason).toContain('/predictions/0 is a number, expected a number in 0..1');
    expect(state.prod?.version).toBe(2);
    expect(state.blocked.map((b) => b.version)).toContain(3);

    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
    expect(ep.variants.map((v) => [v.name, v.currentWeight])).toEqual([['v2', 100]]);
    // the canary config is retired (v3's model stays: QA runs it)
    const prodConfigs = [...r.stack.cloud.sagemaker.configs.keys()].filter((n) => n.startsWith(`${PROD}-`));
    expect(prodConfigs).toEqual([ep.configName]);
    expect(await r.lifecycle(v3)).toMatchObject({
      stage: 'Production',
      status: 'Failed',
      approval: 'Rejected',
    });
    const failed = r.events('Deployment Failed').map((e) => e.detail.deploymentId);
    expect(failed).toContain(`${GROUP}:v3`);
  });

  it('a check that cannot complete (SageMaker unavailable) ends Failed after 60 min without maxDurationMinutes, weight 0, not rejected', async () => {
    // QA runs no smoke test here: every InvokeEndpoint is the prod check's
    const removeFault = r.stack.cloud.faults.add({
      service: 'sagemaker-runtime',
      operation: 'InvokeEndpoint',
      error: 'ServiceUnavailable',
    });
    for (const key of Object.keys(maxWeight)) delete maxWeight[key];
    let v4 = '';
    try {
      v4 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
      await r.runUntil(async () => {
        watch();
        return (await r.phase(`${GROUP}:v4`)) === 'Failed';
      });
    } finally {
      removeFault();
    }
    const history = await r.history(`${GROUP}:v4`);
    const verifying = history.find((h) => h.to === 'ProdVerifying')!;
    const failed = history.find((h) => h.to === 'RollingBack' || h.to === 'Failed')!;
    expect(failed.at - verifying.at).toBeGreaterThan(60 * MINUTE);
    expect(failed.reason).toContain('the pre-traffic check did not complete within 60 min');
    expect(maxWeight.v4).toBe(0);
    const state = await r.state(GROUP);
    const d = state.deployments.find((x) => x.id === `${GROUP}:v4`)!;
    expect(d.reason).toContain('the pre-traffic check did not complete within 60 min');
    expect(state.prod?.version).toBe(2);
    expect(state.blocked.map((b) => b.version)).not.toContain(4);
    expect((await r.lifecycle(v4)).approval).toBe('Approved');
  });
});
