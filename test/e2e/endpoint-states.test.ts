import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal, type Phase } from '../../src/domain/model';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

/** The endpoint states SageMaker puts an endpoint in on its own, as the core meets them in the local cloud. */

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';

let r: Rollouts;
afterEach(async () => {
  await r?.close();
});

/** SageMaker calls to prod of one operation from `since` on: [succeeded, refused]. */
const prodCalls = (operation: string, since: number, until = Number.POSITIVE_INFINITY) => {
  const calls = r.stack.cloud.calls.filter(
    (c) => c.operation === operation && c.names?.EndpointName === PROD && c.at >= since && c.at < until,
  );
  return [calls.filter((c) => !c.error).length, calls.filter((c) => c.error).length];
};

describe('endpoint states the core meets', () => {
  it('SystemUpdating: the deployment waits, sends nothing to prod meanwhile, and goes on once maintenance ends', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    const start = r.stack.cloud.clock.now();
    const maintenance = 40 * MINUTE;
    r.stack.cloud.sagemaker.systemUpdate(PROD, maintenance);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.stack.run(maintenance - MINUTE);

    const waiting = (await r.state(GROUP)).deployments.find((d) => d.id === `${GROUP}:v2`)!;
    expect(waiting.phase).toBe('ProdDeploying');
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    // an endpoint that is SystemUpdating "cannot be updated": nothing is even tried
    expect(prodCalls('UpdateEndpoint', start)).toEqual([0, 0]);
    expect(prodCalls('UpdateEndpointWeightsAndCapacities', start)).toEqual([0, 0]);

    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Succeeded', 3 * 60 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v2: 100 });
    const [updates] = prodCalls('UpdateEndpoint', start + maintenance);
    expect(updates).toBeGreaterThan(0);
  }, 120_000);

  it('RollingBack: a canary weight change SageMaker rolls back fails the deployment with its reason; the candidate never takes traffic', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    const reason = 'Insufficient capacity to scale variant v2.';
    // the candidate joins at weight 0; the first step's weight change on prod is the one that fails
    r.stack.cloud.sagemaker.failNextWeightChange(PROD, reason);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(
      async () => {
        const phase = await r.phase(`${GROUP}:v2`);
        return phase !== undefined && isTerminal(phase as Phase);
      },
      3 * 60 * MINUTE,
    );

    const prodStatuses = r.stack.cloud.events.published
      .filter((e) => e['detail-type'] === 'SageMaker Endpoint State Change' && e.detail.EndpointName === PROD)
      .map((e) => e.detail.EndpointStatus);
    expect(prodStatuses).toContain('ROLLING_BACK');
    const d = (await r.state(GROUP)).deployments.find((x) => x.id === `${GROUP}:v2`)!;
    expect(['Failed', 'RolledBack']).toContain(d.phase);
    expect(d.reason).toContain(reason);
    expect(d.reason).not.toContain('needs an operator');
    // the candidate never took traffic, and the rollback ends on the baseline alone
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    expect((await r.state(GROUP)).prod?.version).toBe(1);
  }, 120_000);
});
