import { afterEach, describe, expect, it } from 'vitest';
import { APPROVAL_SWEEP_MINUTES } from '../../src/app/tick';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

const GROUP = 'churn-model';

describe('a lost approval is found again (finding 6)', () => {
  let r: Rollouts;
  afterEach(() => r.close());

  it('with the approval event never delivered, the tick finds the Approved version and deploys it', async () => {
    r = await startRollouts();
    await r.createGroup(GROUP);
    await r.setDelivery('modelPackageStateChange', false);
    await r.registerAndApprove(GROUP);
    await r.stack.run(2 * MINUTE);
    expect(await r.phase(`${GROUP}:v1`)).toBeUndefined();
    await r.runUntil(
      async () => (await r.phase(`${GROUP}:v1`)) === 'Succeeded',
      (APPROVAL_SWEEP_MINUTES + 60) * MINUTE,
    );
    const lists = r.stack.cloud.calls.filter((c) => c.operation === 'ListModelPackages');
    expect(lists.length).toBeGreaterThan(0);
    // found once: later sweeps see it started and start nothing more
    await r.stack.run(2 * APPROVAL_SWEEP_MINUTES * MINUTE);
    const state = await r.state(GROUP);
    expect(state.deployments.filter((d) => d.version === 1)).toHaveLength(1);
    expect(state.prod?.version).toBe(1);
  });
});
