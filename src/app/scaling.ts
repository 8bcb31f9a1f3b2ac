import type { Input } from '../domain/decide';
import type { GroupState } from '../domain/model';
import { PermanentError, TransientError } from '../errors';
import { type Deps, groupConfig, stageAutoscaling } from './deps';

/**
 * The baseline variant's autoscaling of every canary that has not read it yet (once per canary,
 * before the candidate takes traffic), as inputs. A read that fails now is tried again on the
 * next run; one that can never succeed (no permission) carries nothing over.
 */
export const baselineScalingInputs = async (deps: Deps, state: GroupState): Promise<Input[]> => {
  const unread = state.deployments.filter(
    (d) =>
      d.canary &&
      d.canary.baselineScaling === undefined &&
      (d.phase === 'ProdDeploying' ||
        d.phase === 'ProdVerifying' ||
        d.phase === 'Shadow' ||
        d.phase === 'Canary'),
  );
  const config = groupConfig(deps, state.group);
  if (unread.length === 0 || !config) return [];
  const inputs: Input[] = [];
  for (const d of unread) {
    try {
      const scaling = await stageAutoscaling(deps, d.group, 'prod').read(
        config.stages.prod.endpointName,
        d.canary!.baselineVariant,
      );
      inputs.push({ type: 'ScalingRead', deploymentId: d.id, scaling: scaling ?? null });
    } catch (error) {
      if (error instanceof TransientError) {
        deps.log.warn('autoscaling read will be retried', { deploymentId: d.id, error: error.message });
      } else if (error instanceof PermanentError) {
        // e.g. a cross-account role without Application Auto Scaling rights: nothing is carried over
        deps.log.warn('autoscaling cannot be read; none carried over', {
          deploymentId: d.id,
          error: error.message,
        });
        inputs.push({ type: 'ScalingRead', deploymentId: d.id, scaling: null });
      } else throw error;
    }
  }
  return inputs;
};
