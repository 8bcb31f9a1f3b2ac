import type { GroupState } from '../domain/model';
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
