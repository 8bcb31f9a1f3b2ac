import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'shadow-model';
const PROD = 'shadow-model-prod';

describe('shadow phase before the canary (local scenarios config: shadow 100 % for 15 min)', () => {
  let r: Rollouts;
  beforeAll(async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
  }, 120_000);
  afterAll(() => r.close());

  it('the candidate first runs as a shadow variant with no weight, then the canary promotes it', async () => {
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0.002' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Shadow');
    const during = await r.sm.send(new DescribeEndpointCommand({ EndpointName: PROD }));
    expect(during.ProductionVariants?.map((v) => [v.VariantName, v.CurrentWeight])).toEqual([['v1', 100]]);
    expect(during.ShadowProductionVariants?.map((v) => v.VariantName)).toEqual(['v2']);

    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Succeeded');
    const phases = (await r.history(`${GROUP}:v2`)).map((h) => h.to);
    const shadow = phases.indexOf('Shadow');
    expect(shadow).toBeGreaterThan(0);
    // the shadow phase passed, then the canary config, step 1, promotion
    expect(phases.slice(shadow)).toEqual(
      expect.arrayContaining(['Shadow', 'ProdDeploying', 'Canary', 'Promoting', 'Succeeded']),
    );
    expect(phases.lastIndexOf('ProdDeploying')).toBeGreaterThan(shadow);
    const passed = (await r.history(`${GROUP}:v2`)).find((h) => h.reason.startsWith('shadow phase passed'));
    expect(passed?.readings?.candidate.invocations).toBeGreaterThan(1000);
    // no config of the shadow phase or the canary is left behind
    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
    const prodConfigs = [...r.stack.cloud.sagemaker.configs.keys()].filter((n) => n.startsWith(`${PROD}-`));
    expect(prodConfigs).toEqual([ep.configName]);
    expect(ep.shadowVariants ?? []).toEqual([]);
  });

  it('a regression caught in the shadow phase ends the deployment before any user traffic', async () => {
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0.05' });
    let peak = 0;
    await r.runUntil(async () => {
      peak = Math.max(peak, r.weights(PROD).v3 ?? 0);
      return (await r.phase(`${GROUP}:v3`)) === 'RolledBack';
    });
    expect(peak).toBe(0);
    const state = await r.state(GROUP);
    expect(state.deployments.find((d) => d.id === `${GROUP}:v3`)?.reason).toContain(
      'shadow phase caught a regression before any user traffic',
    );
    expect(state.prod?.version).toBe(2);
    expect(r.weights(PROD)).toEqual({ v2: 100 });
    expect(r.stack.cloud.sagemaker.endpoints.get(PROD)!.shadowVariants ?? []).toEqual([]);
  });
});
