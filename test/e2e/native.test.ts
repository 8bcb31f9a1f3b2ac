import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

const GROUP = 'native-model';
const PROD = 'native-model-prod';
const ALARM = 'native-model-prod-5xx';

describe('native strategy: SageMaker blue/green with auto-rollback alarms', () => {
  let r: Rollouts;
  let v1 = '';
  let v2 = '';
  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/native.yml' });
    await r.createGroup(GROUP);
    v1 = await r.registerAndApprove(GROUP);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded');
    r.stack.cloud.setTraffic(PROD, 600);
  });
  afterAll(() => r.close());

  it('v2: one UpdateEndpoint with the CANARY policy and the alarms; followed to the end by endpoint events', async () => {
    const from = r.stack.cloud.calls.length;
    v2 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'NativeShifting');
    const shiftingAt = r.stack.now;
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Succeeded');
    // the CANARY wait interval (10 min) and the termination wait pass before SageMaker finishes
    expect(r.stack.now - shiftingAt).toBeGreaterThanOrEqual(10 * MINUTE);
    const finishedBy = r.stack.records.find(
      (x) => x.kind === 'result' && x.detail?.includes(`${GROUP}:v2: NativeShifting -> Succeeded`),
    );
    expect(finishedBy).toMatchObject({ functionName: 'endpointStateChange', outcome: 'applied' });

    const calls = r.stack.cloud.calls.slice(from).map((c) => c.operation);
    expect(calls.filter((op) => op === 'UpdateEndpointWeightsAndCapacities')).toEqual([]);
    expect(calls.filter((op) => op === 'GetMetricData')).toEqual([]);
    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
    expect(ep.lastDeploymentConfig).toMatchObject({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: {
          Type: 'CANARY',
          CanarySize: { Type: 'CAPACITY_PERCENT', Value: 25 },
          WaitIntervalInSeconds: 600,
        },
        TerminationWaitInSeconds: 120,
      },
      AutoRollbackConfiguration: { Alarms: [{ AlarmName: ALARM }] },
    });
    const state = await r.state(GROUP);
    expect(state.prod?.version).toBe(2);
    expect(ep.configName).toBe(state.prod?.configName);
    expect(r.stack.cloud.sagemaker.configs.get(ep.configName)?.variants.map((v) => v.ModelName)).toEqual([
      'native-model-v2',
    ]);
    expect(r.stack.cloud.sagemaker.models.has('native-model-v1')).toBe(false);
    expect(r.events('Deployment Promoted').map((e) => e.detail.deploymentId)).toContain(`${GROUP}:v2`);
    expect(await r.lifecycle(v2)).toMatchObject({ stage: 'Production', status: 'Deployed' });
    expect(await r.lifecycle(v1)).toMatchObject({ stage: 'Production', status: 'Superseded' });
  });

  it('v3: the alarm goes off while SageMaker shifts; SageMaker rolls back and the deployment is RolledBack', async () => {
    const v3 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v3`)) === 'NativeShifting');
    await r.runUntil(() => r.stack.cloud.sagemaker.endpoints.get(PROD)?.blueGreen !== undefined, 30 * MINUTE);
    await r.stack.run(2 * MINUTE);
    r.stack.cloud.setAlarmState(ALARM, 'ALARM');
    await r.runUntil(async () => (await r.phase(`${GROUP}:v3`)) === 'RolledBack', 30 * MINUTE);

    const state = await r.state(GROUP);
    expect(state.prod?.version).toBe(2);
    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
    expect(ep.status).toBe('InService');
    expect(ep.configName).toBe(state.prod?.configName);
    const d = state.deployments.find((x) => x.id === `${GROUP}:v3`)!;
    expect(d.reason).toContain(ALARM);
    const event = r.events('Deployment Rolled Back').find((e) => e.detail.deploymentId === `${GROUP}:v3`);
    expect(event?.detail.reason).toBe(d.reason);
    expect(await r.lifecycle(v3)).toMatchObject({ approval: 'Rejected' });
    expect(state.blocked.map((b) => b.version)).toEqual([3]);
  });

  it('v4: SageMaker refuses the blue/green UpdateEndpoint; the deployment fails with its reason and prod keeps v2', async () => {
    const refusal = 'CanarySize must be less than or equal to 50% of the instance count of the variant';
    const prodBefore = r.stack.cloud.sagemaker.endpoints.get(PROD)!.configName;
    const refuse = r.stack.cloud.faults.add({
      service: 'sagemaker',
      operation: 'UpdateEndpoint',
      resource: PROD,
      error: 'ValidationException',
      message: refusal,
    });
    const from = r.stack.cloud.calls.length;
    const v4 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v4`)) === 'Failed', 60 * MINUTE);
    refuse();

    const refused = r.stack.cloud.calls
      .slice(from)
      .filter((c) => c.operation === 'UpdateEndpoint' && c.names?.EndpointName === PROD);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((c) => c.error === 'ValidationException')).toBe(true);
    const state = await r.state(GROUP);
    const d = state.deployments.find((x) => x.id === `${GROUP}:v4`)!;
    expect(d.reason).toMatch(/prod deployment refused/);
    expect(d.reason).toContain(refusal);
    // prod never moved: v2 serves all traffic on its own config
    expect(state.prod?.version).toBe(2);
    const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
    expect(ep.status).toBe('InService');
    expect(ep.configName).toBe(prodBefore);
    expect(r.stack.cloud.sagemaker.configs.get(ep.configName)?.variants.map((v) => v.ModelName)).toEqual([
      'native-model-v2',
    ]);
    // the model is not to blame: not rolled back, not rejected, not blocked
    expect(r.events('Deployment Rolled Back').map((e) => e.detail.deploymentId)).not.toContain(`${GROUP}:v4`);
    expect(r.events('Deployment Failed').map((e) => e.detail.deploymentId)).toContain(`${GROUP}:v4`);
    expect((await r.lifecycle(v4)).approval).toBe('Approved');
    expect(state.blocked.map((b) => b.version)).toEqual([3]);
  });
});
