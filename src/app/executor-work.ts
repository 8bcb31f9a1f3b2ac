import type { Input } from '../domain/decide';
import type { DesiredEndpoint, GroupState } from '../domain/model';
import { isBusy } from '../domain/reconcile';
import { unsettled } from './converge';
import { isExecutorEffect } from './decision-run';
import { scalingUnread } from './scaling';

/** Deployments that wait on what only the executor does right after a convergence (follow-ups). */
export const awaitingFollowUp = (state: Pick<GroupState, 'deployments'>): boolean =>
  state.deployments.some((d) => d.phase === 'QaVerifying' || d.phase === 'ProdVerifying') ||
  scalingUnread(state).length > 0;

/** Whether `observed` (this minute's DescribeEndpoint) saw the spec's endpoint busy: Creating, Updating, ... */
const seenBusy = (desired: DesiredEndpoint, observed: readonly Input[]): boolean =>
  observed.some(
    (input) =>
      input.type === 'EndpointObserved' &&
      input.stage === desired.stage &&
      input.endpoint?.endpointName === desired.endpointName &&
      isBusy(input.endpoint),
  );

/**
 * Whether the executor has something to do for the group: an endpoint not on its desired spec, a
 * SageMaker or autoscaling effect waiting in the outbox, or a follow-up (smoke test, pre-traffic
 * check, baseline autoscaling read) that comes with convergence. An endpoint seen busy in
 * `observed` is not one: the executor sends nothing to an endpoint that is not InService, and the
 * endpoint's state change event, or the first tick that sees it InService, asks it then.
 */
export const needsExecutor = (state: GroupState, observed: readonly Input[] = []): boolean =>
  state.outbox.some((entry) => isExecutorEffect(entry.command)) ||
  awaitingFollowUp(state) ||
  Object.values(state.desired ?? {}).some((desired) => unsettled(desired) && !seenBusy(desired, observed));
