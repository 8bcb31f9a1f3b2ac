import { activeFor, answer, type Draft, history, note, outputs } from '../draft';
import { type CallbackWait, isTerminal, type PackageInfo } from '../model';
import { callbackRef } from '../naming';
import { QA_PHASES, requestDeployment } from './qa';
import { approvedSinceBlocked, whyNotApprovedAnew } from './registry';
import { stop } from './rollback';

/** Pipeline callback steps: deploy tasks attached to deployments, Stopping. */

export function onCallbackRequested(
  t: Draft,
  request: Omit<CallbackWait, 'deadline'>,
  pkg: PackageInfo,
): void {
  const callback: CallbackWait = {
    ...request,
    deadline: t.now + t.ctx.group.callback.taskTimeoutMinutes * 60_000,
  };
  if (t.state.deployments.some((d) => d.callbacks.some((c) => c.token === callback.token))) {
    return note(t, `callback ${callbackRef(callback.token)} already attached`);
  }
  const fail = (reason: string): void => {
    answer(t, callback, 'failure', undefined, reason);
  };
  if (pkg.approvalStatus === 'Rejected') return fail(`v${pkg.version} is Rejected in the model registry`);
  if (callback.stage === 'prod' && pkg.approvalStatus !== 'Approved') {
    return fail(`v${pkg.version} is ${pkg.approvalStatus}: deploying to prod needs an approved version`);
  }
  const blocked = t.state.blocked.find((b) => b.version === pkg.version);
  if (blocked && !approvedSinceBlocked(pkg, blocked)) {
    return fail(`v${pkg.version} was ${blocked.reason}; ${whyNotApprovedAnew(blocked)}`);
  }
  const live = callback.stage === 'qa' ? t.state.qa : t.state.prod;
  const existing = activeFor(t, pkg.version);
  if (existing) {
    if (callback.stage === 'prod' && existing.targetStage === 'qa') existing.targetStage = 'prod';
    if (callback.stage === 'qa' && !QA_PHASES.has(existing.phase) && t.state.qa?.version !== pkg.version) {
      return fail(`${existing.id} is ${existing.phase} and QA serves v${t.state.qa?.version ?? 'nothing'}`);
    }
    if (callback.stage === 'qa' && !QA_PHASES.has(existing.phase)) {
      return answer(t, callback, 'success', outputs(t, 'qa', t.state.qa!));
    }
    if (
      callback.stage === 'qa' &&
      (existing.phase === 'AwaitingApproval' || existing.phase === 'ReadyForProd')
    ) {
      return answer(t, callback, 'success', outputs(t, 'qa', t.state.qa!));
    }
    existing.callbacks.push(callback);
    history(
      t,
      existing,
      existing.phase,
      existing.phase,
      `pipeline callback ${callbackRef(callback.token)} of ${callback.pipelineExecutionArn} waits for ${callback.stage}`,
    );
    return;
  }
  if (live?.version === pkg.version) {
    return answer(t, callback, 'success', outputs(t, callback.stage, live));
  }
  // versions only move forward: an older one would supersede newer work, whatever the stage
  if (pkg.version < t.state.highestVersion) {
    return fail(`v${pkg.version} is older than v${t.state.highestVersion}, already deployed or in progress`);
  }
  if (blocked) t.state.blocked = t.state.blocked.filter((b) => b.version !== pkg.version);
  requestDeployment(t, pkg, 'callback', callback.stage, callback);
}

export function onCallbackStopping(t: Draft, token: string): void {
  const d = t.state.deployments.find((o) => o.callbacks.some((c) => c.token === token));
  if (!d) return;
  const callback = d.callbacks.find((c) => c.token === token)!;
  d.callbacks = d.callbacks.filter((c) => c.token !== token);
  answer(t, callback, 'failure', undefined, 'stopped by the pipeline');
  // the work tied to the token stops with it (unless another pipeline still waits on it), whichever
  // of the approval and the callback message started it: the outcome must not depend on event order
  if (!isTerminal(d.phase) && d.callbacks.length === 0) {
    stop(t, d, 'Aborted', `pipeline ${callback.pipelineExecutionArn} was stopped`);
  }
}
