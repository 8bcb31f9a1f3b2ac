import type { Input } from '../domain/decide';
import type { GroupState } from '../domain/model';
import { decideAndSave, type GroupRun } from './decision-run';
import type { Deps } from './deps';
import { needsExecutor } from './executor-work';

export { type GroupRun, OUTBOX_LEASE_MS } from './decision-run';

/**
 * What every deciding trigger runs: decide and save, carry out the effects it may (registry,
 * events, callback answers, history), then ask the executor for the rest (endpoint changes,
 * autoscaling, retired resources, and the checks that follow a convergence). A failed request is
 * thrown, so the trigger is retried; the tick asks again every minute while work is left.
 */
export const runGroup = async (
  deps: Deps,
  group: string,
  now: number,
  inputsFor: (state: GroupState) => Input[] | Promise<Input[]>,
  /** the group's endpoints as DescribeEndpoint showed them just before (the tick's observations) */
  observed: readonly Input[] = [],
): Promise<GroupRun> => {
  const run = await decideAndSave(deps, group, now, inputsFor);
  if (needsExecutor(run.state, observed)) await deps.convergence.request(group);
  return run;
};
