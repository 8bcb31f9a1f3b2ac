import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

/** rollback.earlierStages on the local cloud: a canary's gate rolls v2 back; does QA go back to v1? */

describe('the policy for QA when prod rolls a version back, on the local cloud', () => {
  let r: Rollouts;
  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/earlier-stages.yml' });
    await withV1InProd(r, 'keep-model', 'keep-model-prod');
    await withV1InProd(r, 'back-model', 'back-model-prod');
  });
  afterAll(() => r.close());

  /** The models the stage's endpoint serves, as SageMaker has them: its config's variants. */
  const servedModels = (endpointName: string): string[] => {
    const sm = r.stack.cloud.sagemaker;
    const ep = sm.endpoints.get(endpointName);
    if (!ep) throw new Error(`no endpoint ${endpointName}`);
    return (sm.configs.get(ep.configName)?.variants ?? []).map((v) => v.ModelName ?? '');
  };

  it('a gate rolls v2 back: with rollBack QA serves v1 again, with keep it stays on v2', async () => {
    for (const group of ['keep-model', 'back-model'])
      await r.registerAndApprove(group, { 'sim.errorRate': '0.25' });
    await r.runUntil(async () => (await r.phase('keep-model:v2')) === 'Canary');
    expect(servedModels('keep-model-qa')).toEqual(['keep-model-v2']);
    expect(servedModels('back-model-qa')).toEqual(['back-model-v2']);

    await r.runUntil(
      async () =>
        (await r.phase('keep-model:v2')) === 'RolledBack' &&
        (await r.phase('back-model:v2')) === 'RolledBack',
    );
    expect((await r.state('back-model')).deployments.find((d) => d.id === 'back-model:v2')?.reason).toMatch(
      /gate failed at step 1\/2/,
    );
    await r.runUntil(async () => (await r.phase('back-model:v1#2')) === 'Succeeded');
    // and a while longer, for anything that would still move keep-model's QA
    await r.stack.run(30 * MINUTE, () => false);

    expect(servedModels('back-model-prod')).toEqual(['back-model-v1']);
    expect(servedModels('back-model-qa')).toEqual(['back-model-v1']);
    expect(r.stack.cloud.sagemaker.endpoints.get('back-model-qa')?.status).toBe('InService');
    const back = await r.state('back-model');
    expect(back.qa?.version).toBe(1);
    expect(back.deployments.find((d) => d.id === 'back-model:v1#2')).toMatchObject({
      trigger: 'restore',
      targetStage: 'qa',
    });
    const started = r.events('Deployment Started').find((e) => e.detail.deploymentId === 'back-model:v1#2');
    expect(started?.detail.reason).toMatch(
      /^prod rolled back v2 \(gate failed at step 1\/2.*\): QA back to v1 \(rollback\.earlierStages: rollBack\)$/s,
    );
    const [requested] = await r.history('back-model:v1#2');
    expect(requested?.reason).toBe(`requested by restore: ${started?.detail.reason}`);
    // the service's own reject of v2 came back from the registry: no second restore
    expect(back.deployments.filter((d) => d.trigger === 'restore')).toHaveLength(1);

    // v2's model went once neither stage ran it; keep-model's QA still runs its own
    expect(r.stack.cloud.sagemaker.models.has('back-model-v2')).toBe(false);
    expect(r.stack.cloud.sagemaker.models.has('keep-model-v2')).toBe(true);

    expect(servedModels('keep-model-prod')).toEqual(['keep-model-v1']);
    expect(servedModels('keep-model-qa')).toEqual(['keep-model-v2']);
    const kept = await r.state('keep-model');
    expect(kept.qa?.version).toBe(2);
    expect(kept.deployments.filter((d) => d.trigger === 'restore')).toEqual([]);
  });
});
