import { describe, expect, it } from 'vitest';
import type { Deps } from '../../src/app/deps';
import { silentLog } from '../../src/app/deps';
import { baselineScalingInputs } from '../../src/app/scaling';
import type { GroupState } from '../../src/domain/model';
import { PermanentError, TransientError } from '../../src/errors';
import type { VariantAutoscaling } from '../../src/ports/autoscaling';
import { GROUP, groupConfig, World } from '../domain/world';

/** A group whose v2 canary config was just decided (ProdDeploying), its baseline scaling unread. */
const canaryState = (): GroupState => {
  const w = new World();
  w.approve(1);
  w.settle('qa');
  w.settle('prod');
  w.approve(2);
  w.settle('qa');
  expect(w.state.deployments.find((d) => d.version === 2)?.phase).toBe('ProdDeploying');
  return w.state;
};

const depsWith = (read: VariantAutoscaling['read']): Deps =>
  ({
    config: { tickConcurrency: 1, modelPackageGroups: { [GROUP]: groupConfig() } },
    autoscaling: { forStage: () => ({ read, apply: async () => {}, remove: async () => {} }) },
    log: silentLog,
  }) as unknown as Deps;

describe("reading the baseline's autoscaling for a new canary", () => {
  it('reads the baseline variant once and hands it to the decision', async () => {
    const scaling = { minCapacity: 2, maxCapacity: 4, policies: [] };
    const asked: string[] = [];
    const inputs = await baselineScalingInputs(
      depsWith(async (endpoint, variant) => {
        asked.push(`${endpoint}/${variant}`);
        return scaling;
      }),
      canaryState(),
    );
    expect(asked).toEqual(['churn-prod/v1']);
    expect(inputs).toEqual([{ type: 'ScalingRead', deploymentId: `${GROUP}:v2`, scaling }]);
  });

  it('a throttled read is left for the next run; a refused one carries nothing over', async () => {
    const throttled = await baselineScalingInputs(
      depsWith(async () => {
        throw new TransientError('ThrottlingException');
      }),
      canaryState(),
    );
    expect(throttled).toEqual([]);
    const refused = await baselineScalingInputs(
      depsWith(async () => {
        throw new PermanentError('AccessDeniedException');
      }),
      canaryState(),
    );
    expect(refused).toEqual([{ type: 'ScalingRead', deploymentId: `${GROUP}:v2`, scaling: null }]);
  });
});
