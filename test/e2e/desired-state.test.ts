import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';
const ALARM = 'churn-model-prod-business-kpi';

/** The prod endpoint's weights (current and desired) every virtual minute, deduplicated. */
const weightLog = (r: Rollouts) => {
  const seen: string[] = [];
  return {
    seen,
    watch: () => {
      const ep = r.stack.cloud.sagemaker.endpoints.get(PROD);
      if (!ep) return;
      const split = ep.variants.map((v) => `${v.name}=${v.currentWeight}/${v.desiredWeight}`).join(',');
      if (seen.at(-1) !== split) seen.push(split);
    },
  };
};

const candidateWeights = (seen: string[], variant: string): number[] =>
  seen.flatMap((split) =>
    split
      .split(',')
      .filter((part) => part.startsWith(`${variant}=`))
      .flatMap((part) =>
        part
          .slice(variant.length + 1)
          .split('/')
          .map(Number),
      ),
  );

describe('desired state: a later decision replaces an endpoint change not yet sent', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('a throttled step change is never sent after the alarm rollback was decided (finding 1)', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    const log = weightLog(r);
    await r.runUntil(async () => {
      log.watch();
      return (await r.phase(`${GROUP}:v2`)) === 'Canary';
    });
    // every weight change is throttled from now on: step 2 (50 %) is decided but cannot go out
    r.stack.cloud.faults.add({
      operation: 'UpdateEndpointWeightsAndCapacities',
      error: 'ThrottlingException',
    });
    await r.runUntil(async () => {
      log.watch();
      const state = await r.state(GROUP);
      return state.deployments.find((d) => d.id === `${GROUP}:v2`)?.canary?.stepIndex === 1;
    }, 30 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 90, v2: 10 });
    r.stack.cloud.setAlarmState(ALARM, 'ALARM');
    await r.runUntil(async () => {
      log.watch();
      return (await r.phase(`${GROUP}:v2`)) === 'RollingBack';
    }, 10 * MINUTE);
    // throttling ends: only the newest desired spec (the baseline alone) may reach the endpoint
    r.stack.cloud.faults.clear();
    const before = r.stack.cloud.calls.length;
    await r.runUntil(async () => {
      log.watch();
      return (await r.phase(`${GROUP}:v2`)) === 'RolledBack';
    }, 30 * MINUTE);
    log.watch();
    expect(Math.max(...candidateWeights(log.seen, 'v2'))).toBe(10);
    expect(log.seen.at(-1)).toBe('v1=100/100');
    const writes = r.stack.cloud.calls
      .slice(before)
      .filter((c) => !c.error && /^UpdateEndpoint/.test(c.operation))
      .map((c) => c.operation);
    expect(writes).toEqual(['UpdateEndpointWeightsAndCapacities', 'UpdateEndpoint']);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
  });

  it('promote then abort before the promotion could be sent: the candidate never serves alone (finding 1)', async () => {
    r = await startRollouts();
    await withV1InProd(r, GROUP, PROD);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    const log = weightLog(r);
    await r.runUntil(async () => {
      log.watch();
      return (await r.phase(`${GROUP}:v2`)) === 'Canary';
    });
    // the promotion cannot reach prod (throttled) before the abort arrives
    r.stack.cloud.faults.add({ operation: 'UpdateEndpoint', error: 'ThrottlingException' });
    expect((await r.command('promote', `${GROUP}:v2`, 'ship it', { full: true })).outcome).toBe('applied');
    expect(await r.phase(`${GROUP}:v2`)).toBe('Promoting');
    expect((await r.command('abort', `${GROUP}:v2`)).outcome).toBe('applied');
    r.stack.cloud.faults.clear();
    await r.runUntil(async () => {
      log.watch();
      return (await r.phase(`${GROUP}:v2`)) === 'Aborted';
    }, 30 * MINUTE);
    log.watch();
    expect(log.seen.some((split) => split.startsWith('v2=100'))).toBe(false);
    expect(log.seen.at(-1)).toBe('v1=100/100');
    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
    expect(r.stack.cloud.sagemaker.configs.get(ep.configName)?.variants.map((v) => v.VariantName)).toEqual([
      'v1',
    ]);
    // neither the canary config nor the abandoned promotion config is left behind (finding 10)
    await r.stack.run(5 * MINUTE);
    const prodConfigs = [...r.stack.cloud.sagemaker.configs.keys()].filter((n) => n.startsWith(`${PROD}-`));
    expect(prodConfigs).toEqual([ep.configName]);
  });

  it('CreateEndpoint refused for a config SageMaker cannot see yet is retried, not a failed deployment', async () => {
    r = await startRollouts({ timings: { configVisibleMs: 90_000 } });
    await r.createGroup(GROUP);
    await r.registerAndApprove(GROUP);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded', 60 * MINUTE);
    const refused = r.stack.cloud.calls.filter(
      (c) => c.operation === 'CreateEndpoint' && c.error === 'ValidationException',
    );
    expect(refused.length).toBeGreaterThan(0);
    expect((await r.state(GROUP)).prod?.version).toBe(1);
  });
});
