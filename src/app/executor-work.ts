import type { Input } from '../domain/decide';
import type { GroupState } from '../domain/model';
import { isBusy } from '../domain/reconcile';
import { unsettled } from './converge';
import { isExecutorEffect } from './decision-run';
import { scalingUnread } from './scaling';

/** Deployments that wait on what only the executor does right after a convergence (follow-ups). */
export const awaitingFollowUp = (state: Pick<GroupState, 'deployments'>): boolean =>
  state.deployments.some((d) => d.phase === 'QaVerifying' || d.phase === 'ProdVerifying') ||
  scalingUnread(state).length > 0;

/**
 * Whether the executor has something to do for the group: an endpoint not on its desired spec, a
 * SageMaker or autoscaling effect waiting in the outbox, or a follow-up (smoke test, pre-traffic
 * check, baseline autoscaling read) that comes with convergence.
 */
export const needsExecutor = (state: GroupState): boolean =>
  Object.values(state.desired ?? {}).some(unsettled) ||
  state.outbox.some((entry) => isExecutorEffect(entry.command)) ||
  awaitingFollowUp(state);

/**
 * Whether the executor, asked now, could only wait: endpoint changes are all it has to do, and
 * every endpoint to change was seen busy (Creating, Updating, ...) in `observed`, this minute's
 * DescribeEndpoint. It sends nothing to an endpoint that is not InService; the endpoint's state
 * change event, or the first tick that sees it InService, asks it then.
 */
export const onlyBusyEndpointsWait = (state: GroupState, observed: readonly Input[]): boolean => {
  if (state.outbox.some((entry) => isExecutorEffect(entry.command)) || awaitingFollowUp(state)) return false;
  const pending = Object.values(state.desired ?? {}).filter(unsettled);
  return (
    pending.length > 0 &&
    pending.every((desired) =>
      observed.some(
        (input) =>
          input.type === 'EndpointObserved' &&
          input.stage === desired.stage &&
          input.endpoint?.endpointName === desired.endpointName &&
          isBusy(input.endpoint),
      ),
    )
  );
};
