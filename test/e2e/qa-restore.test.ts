import { UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rollouts, startRollouts } from './rollout-harness';

const GROUP = 'graph-model';

describe('a rejection in the registry takes QA back to the version prod serves, on the local cloud', () => {
  let r: Rollouts;
  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/explicit-stages.yml' });
    await r.createGroup(GROUP);
  });
  afterAll(() => r.close());

  it('v2 awaiting approval is rejected: QA runs v1 again, and v1 stays Production in the registry', async () => {
    const v1 = await r.registerAndApprove(GROUP);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'AwaitingApproval');
    await r.command('promote', `${GROUP}:v1`);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded');
    const v2 = await r.registerAndApprove(GROUP);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'AwaitingApproval');
    const qa = () => r.stack.cloud.sagemaker.endpoints.get(`${GROUP}-qa`)!.variants.map((v) => v.name);
    expect(qa()).toEqual(['v2']);

    await r.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: v2, ModelApprovalStatus: 'Rejected' }));
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1#2`)) === 'Succeeded');
    expect(await r.phase(`${GROUP}:v2`)).toBe('Aborted');
    expect(qa()).toEqual(['v1']);
    expect((await r.state(GROUP)).deployments.find((d) => d.id === `${GROUP}:v1#2`)).toMatchObject({
      trigger: 'restore',
      targetStage: 'qa',
    });
    expect(await r.lifecycle(v1)).toMatchObject({ stage: 'Production', status: 'Deployed' });
    expect(r.events('Deployment Started').at(-1)?.detail).toMatchObject({ trigger: 'restore' });
  });
});
