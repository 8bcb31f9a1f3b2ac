import { UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

const GROUP = 'churn-model';
const QA = 'churn-model-qa';

describe('retry after an endpoint failed on creation (finding 7)', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('the failed endpoint is deleted and created anew; the retry succeeds instead of failing with the old reason', async () => {
    r = await startRollouts();
    await r.createGroup(GROUP);
    const v1 = await r.registerAndApprove(GROUP, { 'sim.failDeploy': 'true' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Failed', 60 * MINUTE);
    expect(r.stack.cloud.sagemaker.endpoints.get(QA)?.status).toBe('Failed');
    // the cause is fixed (the model no longer fails to start); later, the operator retries
    await r.stack.run(5 * MINUTE);
    await r.sm.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: v1,
        CustomerMetadataPropertiesToRemove: ['sim.failDeploy'],
      }),
    );
    expect((await r.command('retry', `${GROUP}:v1`)).outcome).toBe('applied');
    await r.runUntil(async () => {
      const phase = await r.phase(`${GROUP}:v1#2`);
      return phase === 'Succeeded' || phase === 'Failed';
    }, 120 * MINUTE);
    const state = await r.state(GROUP);
    const retry = state.deployments.find((d) => d.id === `${GROUP}:v1#2`)!;
    expect(retry.phase, retry.reason).toBe('Succeeded');
    const calls = r.stack.cloud.calls.map((c) => c.operation);
    expect(calls.filter((op) => op === 'DeleteEndpoint').length).toBeGreaterThanOrEqual(1);
    expect(r.stack.cloud.sagemaker.endpoints.get(QA)?.status).toBe('InService');
    expect(state.prod?.version).toBe(1);
  });

  it('a retry decided in the very millisecond the endpoint failed is not failed by that old failure', async () => {
    r = await startRollouts();
    await r.createGroup(GROUP);
    const v1 = await r.registerAndApprove(GROUP, { 'sim.failDeploy': 'true' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Failed', 60 * MINUTE);
    const failed = r.stack.cloud.sagemaker.endpoints.get(QA)!;
    expect(failed.status).toBe('Failed');
    // no virtual time passes: the retry's decision time is the failure's LastModifiedTime
    expect(r.stack.now).toBe(failed.lastModifiedTime);
    const oldReason = failed.failureReason;
    await r.sm.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: v1,
        CustomerMetadataPropertiesToRemove: ['sim.failDeploy'],
      }),
    );
    expect((await r.command('retry', `${GROUP}:v1`)).outcome).toBe('applied');
    expect(r.stack.now).toBe(failed.lastModifiedTime);
    const retried = (await r.state(GROUP)).deployments.find((d) => d.id === `${GROUP}:v1#2`)!;
    expect(retried.phase, retried.reason).toBe('QaDeploying');
    await r.runUntil(async () => {
      const phase = await r.phase(`${GROUP}:v1#2`);
      return phase === 'Succeeded' || phase === 'Failed';
    }, 120 * MINUTE);
    const retry = (await r.state(GROUP)).deployments.find((d) => d.id === `${GROUP}:v1#2`)!;
    expect(retry.phase, retry.reason).toBe('Succeeded');
    expect(retry.reason ?? '').not.toContain(oldReason ?? 'no old reason');
    expect(r.stack.cloud.sagemaker.endpoints.get(QA)?.status).toBe('InService');
  });
});
