import { afterEach, describe, expect, it } from 'vitest';
import { localConfigVariant } from './helpers';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

const GROUP = 'fraud-detector';
const PROD = 'fraud-detector-prod';

/** Manual promotion: v1 promoted and live; v2 approved, through QA, promotion granted, 600 rpm on prod. */
const v1LiveAndV2Granted = async (r: Rollouts) => {
  await r.createGroup(GROUP);
  await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
  await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'AwaitingApproval');
  await r.command('promote', `${GROUP}:v1`);
  await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded');
  r.stack.cloud.setTraffic(PROD, 600);
  await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
  await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'AwaitingApproval');
  await r.command('promote', `${GROUP}:v2`);
};

describe('cross-account canaries judge the endpoint’s own account (finding 3)', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('GetMetricData for a cross-account canary runs on the stage’s assumed role, and the healthy canary is promoted', async () => {
    r = await startRollouts();
    await v1LiveAndV2Granted(r);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary', 30 * MINUTE);
    const before = r.stack.cloud.calls.length;
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Succeeded', 60 * MINUTE);

    const assumedKeys = new Set(r.stack.cloud.sts.calls.map((c) => c.accessKeyId));
    const reads = r.stack.cloud.calls.slice(before).filter((c) => c.operation === 'GetMetricData');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((c) => assumedKeys.has(c.callerAccessKeyId ?? ''))).toBe(true);
    const d = (await r.state(GROUP)).deployments.find((x) => x.id === `${GROUP}:v2`)!;
    expect(d.reason).toMatch(/serves all production traffic/);
    const passed = (await r.history(`${GROUP}:v2`)).find((h) => h.reason.includes('passed'));
    expect(passed?.readings?.candidate.invocations).toBeGreaterThan(0);
  });

  const DEPLOYER = 'arn:aws:iam::444455556666:role/sagemaker-rollouts-deployer';
  const OBSERVER = 'arn:aws:iam::444455556666:role/sagemaker-rollouts-observer';
  /** the alarm lives in the production account (444455556666), next to the endpoint */
  const PROD_ALARM = 'fraud-detector-prod-business-kpi';
  const withObserverAndAlarm = () =>
    localConfigVariant((config) => {
      const prod = config.modelPackageGroups[GROUP].stages.prod;
      prod.crossAccount.observerRoleArn = OBSERVER;
      prod.strategy.alarms = [PROD_ALARM];
    });
  const sessionsOf = (roleArn: string) =>
    new Set(r.stack.cloud.sts.calls.filter((c) => c.roleArn === roleArn).map((c) => c.accessKeyId));
  const callsOf = (operation: string) =>
    r.stack.cloud.calls.filter((c) => c.operation === operation && c.region && c.callerAccessKeyId);

  it('with an observer role, the deciding functions read through it and only the executor assumes the deployer role', async () => {
    r = await startRollouts({ configPath: withObserverAndAlarm() });
    await v1LiveAndV2Granted(r);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Succeeded', 90 * MINUTE);

    const observer = sessionsOf(OBSERVER);
    const deployer = sessionsOf(DEPLOYER);
    expect(observer.size).toBeGreaterThan(0);
    const by = callsOf;
    // reads in the production account: the observer role's sessions only
    expect(by('GetMetricData').length).toBeGreaterThan(0);
    expect(by('GetMetricData').every((c) => observer.has(c.callerAccessKeyId!))).toBe(true);
    // the canary's alarms are read there too, never with the service's own credentials
    expect(by('DescribeAlarms').length).toBeGreaterThan(0);
    expect(by('DescribeAlarms').every((c) => observer.has(c.callerAccessKeyId!))).toBe(true);
    // changes in the production account: the deployer role's sessions only, and some were made
    const writes = [...by('UpdateEndpointWeightsAndCapacities'), ...by('UpdateEndpoint')].filter(
      (c) => observer.has(c.callerAccessKeyId!) || deployer.has(c.callerAccessKeyId!),
    );
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((c) => deployer.has(c.callerAccessKeyId!))).toBe(true);
  });

  it('an alarm in ALARM in the production account, read through the observer, rolls the canary back', async () => {
    r = await startRollouts({ configPath: withObserverAndAlarm() });
    await v1LiveAndV2Granted(r);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary', 30 * MINUTE);
    r.stack.cloud.setAlarmState(PROD_ALARM, 'ALARM');
    const before = r.stack.cloud.calls.length;
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack', 30 * MINUTE);

    const d = (await r.state(GROUP)).deployments.find((x) => x.id === `${GROUP}:v2`)!;
    expect(d.reason).toContain(`alarm in ALARM: ${PROD_ALARM}`);
    const observer = sessionsOf(OBSERVER);
    const reads = callsOf('DescribeAlarms').filter((c) => r.stack.cloud.calls.indexOf(c) >= before);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((c) => observer.has(c.callerAccessKeyId!))).toBe(true);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
  });
});
