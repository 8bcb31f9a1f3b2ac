import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rollouts, startRollouts } from './rollout-harness';

const GROUP = 'graph-model';

describe('stages written as a graph: the functions run them as qa, then prod', () => {
  let r: Rollouts;
  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/explicit-stages.yml' });
    await r.createGroup(GROUP);
  });
  afterAll(() => r.close());

  it("waits for promote into prod, by prod's own promotion, then promotes", async () => {
    await r.registerAndApprove(GROUP);
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'AwaitingApproval');
    expect(r.stack.cloud.sagemaker.endpoints.has('graph-model-qa')).toBe(true);
    expect(r.stack.cloud.sagemaker.endpoints.has('graph-model-prod')).toBe(false);
    expect(await r.command('promote', `${GROUP}:v1`)).toMatchObject({ outcome: 'applied' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded');
    expect((await r.state(GROUP)).prod?.version).toBe(1);
  });
});
