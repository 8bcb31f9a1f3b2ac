import { type Deps, findEndpoint } from './deps';
import { runGroup } from './group-runner';
import type { UseCaseOutcome } from './model-package-changed';
import { observeStages, watchedStages } from './observe';

/**
 * Flow 2 (and every later endpoint wait): an endpoint event only says "look now"; DescribeEndpoint
 * is the truth, so duplicated, reordered or stale events all lead to the same decision.
 */
export const onEndpointChanged = async (
  deps: Deps,
  endpointName: string,
  now: number,
): Promise<UseCaseOutcome> => {
  const where = findEndpoint(deps.config, endpointName);
  if (!where)
    return { outcome: 'ignored', reason: `endpoint ${endpointName} is not managed by this service` };
  const run = await runGroup(deps, where.group, now, (state) =>
    watchedStages(state).includes(where.stage) ? observeStages(deps, where.group, [where.stage]) : [],
  );
  if (!run.decision) return { outcome: 'ignored', reason: `no deployment waits on ${endpointName}` };
  return { outcome: 'applied', reason: run.decision.notes.join('; ') };
};
