import { afterEach, describe, expect, it } from 'vitest';
import { localConfigVariant } from './helpers';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

/** The example's canary with a 40-minute limit instead of 240: the limit is what is tested, not its length. */
const shortLimit = () =>
  localConfigVariant((config) => {
    config.modelPackageGroups['churn-model'].stages.prod.strategy.maxDurationMinutes = 40;
  });

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';
const ALARM = 'churn-model-prod-business-kpi';

describe('a canary whose metrics cannot be read (finding 4)', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  const deniedCanary = async (configPath?: string) => {
    r = await startRollouts({ configPath });
    await withV1InProd(r, GROUP, PROD);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary');
    r.stack.cloud.faults.add({
      operation: 'GetMetricData',
      error: 'AccessDeniedException',
      message: 'User is not authorized to perform: cloudwatch:GetMetricData',
    });
  };

  it('an alarm in ALARM still rolls it back when GetMetricData is denied', async () => {
    await deniedCanary();
    r.stack.cloud.setAlarmState(ALARM, 'ALARM');
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack', 15 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    const d = (await r.state(GROUP)).deployments.find((x) => x.id === `${GROUP}:v2`)!;
    expect(d.reason).toContain(ALARM);
  });

  it('maxDurationMinutes still ends it from the clock alone, without a single reading', async () => {
    await deniedCanary(shortLimit());
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack', 60 * MINUTE);
    const d = (await r.state(GROUP)).deployments.find((x) => x.id === `${GROUP}:v2`)!;
    expect(d.reason).toMatch(/maximum duration of 40 min/);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
  });
});
