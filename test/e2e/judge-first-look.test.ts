import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localConfigVariant } from './helpers';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';

describe('judge first look, on the local cloud (stochastic traffic, CloudWatch ingestion lag)', () => {
  let r: Rollouts;

  beforeAll(async () => {
    // churn-model's ceiling at 1 %: a first look rolls back at a 5XX rate of 10 % or more
    const configPath = localConfigVariant((config) => {
      config.modelPackageGroups[GROUP].stages.prod.strategy.gates.maxErrorRate = 0.01;
    });
    r = await startRollouts({ configPath });
    await withV1InProd(r, GROUP, PROD);
  });
  afterAll(() => r.close());

  it('a gross regression rolls back on the newest minute as read, before the 3-minute lag settles it', async () => {
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0.25' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack');

    const calls = r.stack.cloud.calls;
    const firstWeight = calls.find((c) => c.operation === 'UpdateEndpointWeightsAndCapacities' && c.at > 0);
    const readsAfter = calls.filter((c) => c.operation === 'GetMetricData' && c.at > firstWeight!.at);
    expect(readsAfter.length).toBeGreaterThan(0);
    const removed = calls.filter((c) => c.operation === 'UpdateEndpoint').at(-1)!;

    const state = await r.state(GROUP);
    const d = state.deployments.find((x) => x.id === `${GROUP}:v2`)!;
    expect(d.reason).toMatch(
      /candidate 5XX \d+\.\d+ % \([\d,]+ of [\d,]+\) vs baseline \d+\.\d+ % \([\d,]+ of [\d,]+\) in minute [12] of the canary as read before it settled, evidence [\d,>]+:1 against the candidate, limit [\d,]+:1/,
    );
    // the rollback went out within the canary's first minutes, not after the lag
    const canaryWeights = calls.filter((c) => c.operation === 'UpdateEndpointWeightsAndCapacities');
    expect(canaryWeights.length).toBeGreaterThanOrEqual(2);
    expect(canaryWeights.at(-1)!.at - canaryWeights.at(-2)!.at).toBeLessThanOrEqual(3 * MINUTE);
    expect(removed.at).toBeGreaterThan(canaryWeights.at(-1)!.at);
  });
});
