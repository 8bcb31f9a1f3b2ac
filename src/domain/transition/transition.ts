import type { Input } from '../decide';
import { type CallbackWait, isTerminal, type OperatorCommand, type PackageInfo, type Phase } from '../model';
import { RecoveryTransition } from './recovery';

const QA_PHASES: ReadonlySet<Phase> = new Set([
  'Queued',
  'QaDeploying',
  'QaVerifying',
  'AwaitingApproval',
  'ReadyForProd',
]);

/** Applies inputs from outside: registry changes, operator commands, pipeline callbacks, ticks. */
export class Transition extends RecoveryTransition {
  apply(input: Input): void {
    switch (input.type) {
      case 'Approved':
        return this.onApproved(input.pkg);
      case 'Rejected':
        return this.onRejected(input.pkg);
      case 'EndpointObserved':
        return this.onEndpointObserved(input.stage, input.endpoint);
      case 'SmokeTested':
        return this.onSmokeTested(input.deploymentId, input.ok, input.detail);
      case 'PreTrafficChecked':
        return this.onPreTrafficChecked(input.deploymentId, input.ok, input.detail);
      case 'ScalingRead':
        return this.onScalingRead(input.deploymentId, input.scaling);
      case 'CanaryObserved':
        return this.onCanaryObserved(input.deploymentId, input.readings);
      case 'Operator':
        return this.onOperator(input.command, input.pkg);
      case 'CallbackRequested':
        return this.onCallbackRequested(input.callback, input.pkg);
      case 'CallbackStopping':
        return this.onCallbackStopping(input.token);
      case 'CommandFailed':
        return this.onCommandFailed(input.deploymentId, input.command, input.reason);
      case 'EndpointConverged':
        return this.onEndpointSettled(input.stage, input.generation, 'converged');
      case 'EndpointRefused':
        return this.onEndpointSettled(input.stage, input.generation, 'failed', input.reason);
      case 'Tick':
        return this.onTick();
    }
  }

  protected onApproved(pkg: PackageInfo): void {
    if (pkg.approvalStatus !== 'Approved') return this.note(`v${pkg.version} is not approved: ignored`);
    const existing = this.latestFor(pkg.version);
    if (existing && !isTerminal(existing.phase)) {
      if (existing.targetStage === 'qa') {
        existing.targetStage = 'prod';
        return this.note(`${existing.id} now continues to prod (approved)`);
      }
      return this.note(`${existing.id} is already in progress (${existing.phase}): duplicate ignored`);
    }
    const wasBlocked = this.state.blocked.some((b) => b.version === pkg.version);
    if (!this.clearBlockIfApprovedAnew(pkg)) return;
    // a pipeline took it to QA only: its first approval continues to prod (not a redelivered one)
    const onlyReachedQa =
      existing?.phase === 'Succeeded' &&
      existing.targetStage === 'qa' &&
      !this.deploymentsFor(pkg.version).some((d) => d.trigger === 'approval');
    if (existing && !onlyReachedQa && !wasBlocked) {
      // a duplicate or late approval never restarts a deployment; `retry` or a new approval does
      return this.note(`${existing.id} already ended ${existing.phase}: use retry to run it again`);
    }
    this.requestDeployment(pkg, 'approval', 'prod', undefined);
  }

  protected onRejected(pkg: PackageInfo): void {
    const reason = `v${pkg.version} rejected in the model registry`;
    const active = this.activeFor(pkg.version);
    // the registry's own time: an approval read before this rejection must not lift the block
    this.block(pkg.version, reason, Math.max(this.now, pkg.lastModifiedTime));
    if (active) {
      this.stop(active, 'Aborted', reason);
      return;
    }
    if (this.state.prod?.version === pkg.version) {
      const refused = this.rollbackProd(pkg.version, reason, 'registry');
      if (refused) this.note(`${reason} but it stays in prod: ${refused}`);
      return;
    }
    this.note(`${reason}: not in flight and not serving prod; kept out until approved anew`);
  }

  /** Returns false (and notes why) when the version is blocked and was not approved since. */
  protected clearBlockIfApprovedAnew(pkg: PackageInfo): boolean {
    const blocked = this.state.blocked.find((b) => b.version === pkg.version);
    if (!blocked) return true;
    if (!this.approvedAfter(pkg, blocked.at)) {
      this.note(`v${pkg.version} was ${blocked.reason}; it needs a new approval`);
      return false;
    }
    this.state.blocked = this.state.blocked.filter((b) => b.version !== pkg.version);
    return true;
  }

  protected approvedAfter(pkg: PackageInfo, at: number): boolean {
    return pkg.approvalStatus === 'Approved' && pkg.lastModifiedTime > at;
  }

  protected onOperator(command: OperatorCommand, pkg: PackageInfo | undefined): void {
    const d = this.find(command.deploymentId);
    const refuse = (why: string): void => {
      this.rejection = why;
      this.publish('Command Rejected', d, {
        command: command.verb,
        reason: why,
        requestId: command.requestId,
        actor: command.actor,
      });
      if (d)
        this.history(d, d.phase, d.phase, `${command.verb} refused: ${why}`, {
          actor: command.actor,
          requestId: command.requestId,
        });
    };
    if (!d) return refuse(`unknown deployment ${command.deploymentId}`);
    const by = `${command.verb} by ${command.actor}: ${command.reason}`;
    const who = { actor: command.actor, requestId: command.requestId };
    switch (command.verb) {
      case 'promote':
        if (d.phase === 'AwaitingApproval') {
          d.approvalDeadline = undefined;
          this.move(d, 'ReadyForProd', by, who);
          return this.tryStartProd(d);
        }
        if (d.phase === 'Canary' && d.canary) {
          const steps = this.canarySteps();
          const next = Math.min(d.canary.stepIndex, steps.length - 1) + 1;
          this.actor = who;
          // Argo Rollouts' promote: the next step; `full` (or no step left) skips to the candidate alone
          if (command.full || next >= steps.length) this.promote(d, by);
          else {
            this.history(d, 'Canary', 'Canary', `promoted to the next step (${by})`, who);
            this.setStep(d, next);
          }
          this.actor = undefined;
          return;
        }
        return refuse(`${d.id} is ${d.phase}; promote applies while awaiting approval or in canary`);
      case 'pause':
        if (d.phase !== 'Canary' || !d.canary)
          return refuse(`${d.id} is ${d.phase}; only a canary can be paused`);
        if (d.canary.paused) return refuse(`${d.id} is already paused`);
        d.canary.paused = true;
        this.history(d, 'Canary', 'Canary', `paused (${by})`, who);
        this.publish('Deployment Paused', d, { reason: command.reason, actor: command.actor });
        return;
      case 'resume':
        if (d.phase !== 'Canary' || !d.canary?.paused) return refuse(`${d.id} is not paused`);
        d.canary.paused = false;
        this.history(d, 'Canary', 'Canary', `resumed (${by})`, who);
        this.publish('Deployment Resumed', d, { reason: command.reason, actor: command.actor });
        return;
      case 'abort':
        if (isTerminal(d.phase) || d.phase === 'RollingBack')
          return refuse(`${d.id} already ended ${d.phase}`);
        this.actor = who;
        this.stop(d, 'Aborted', by);
        this.actor = undefined;
        return;
      case 'rollback': {
        if (d.phase === 'RollingBack') return refuse(`${d.id} is already rolling back`);
        if (QA_PHASES.has(d.phase)) {
          return refuse(`${d.id} is ${d.phase}: nothing of it serves prod; abort stops it`);
        }
        if (!isTerminal(d.phase)) {
          this.actor = who;
          this.stop(d, 'RolledBack', by);
          this.actor = undefined;
          return;
        }
        if (d.phase !== 'Succeeded' || this.state.prod?.version !== d.version) {
          return refuse(`${d.id} is ${d.phase} and does not serve prod`);
        }
        const why = this.rollbackProd(d.version, by, command.actor, command.requestId);
        // blocked only once the rollback happens: a refusal must leave an earlier block in place
        if (why) return refuse(why);
        this.block(d.version, `rolled back (${by})`);
        return;
      }
      case 'retry': {
        if (!isTerminal(d.phase) || d.phase === 'Succeeded' || d.phase === 'Superseded')
          return refuse(
            `${d.id} is ${d.phase}; only a failed, aborted or rolled back deployment can be retried`,
          );
        const latest = this.latestFor(d.version);
        if (latest && latest !== d) return refuse(`${latest.id} is the latest attempt of v${d.version}`);
        if (pkg?.approvalStatus !== 'Approved') {
          return refuse(
            `v${d.version} is ${pkg?.approvalStatus ?? 'unknown'} in the registry; approve it first`,
          );
        }
        const blocked = this.state.blocked.find((b) => b.version === d.version);
        if (blocked && !this.approvedAfter(pkg, blocked.at)) {
          return refuse(
            `v${d.version} was ${blocked.reason}; approve it anew in the registry before retrying`,
          );
        }
        const others = this.active();
        if (others.length > 0) return refuse(`${others.map((o) => o.id).join(', ')} in progress`);
        this.state.blocked = this.state.blocked.filter((b) => b.version !== d.version);
        const next = this.requestDeployment(pkg, 'operator', d.targetStage, undefined);
        this.history(next, next.phase, next.phase, `retry of ${d.id} (${by})`, who);
        return;
      }
    }
  }

  protected onCallbackRequested(request: Omit<CallbackWait, 'deadline'>, pkg: PackageInfo): void {
    const callback: CallbackWait = {
      ...request,
      deadline: this.now + this.ctx.group.callback.taskTimeoutMinutes * 60_000,
    };
    if (this.state.deployments.some((d) => d.callbacks.some((c) => c.token === callback.token))) {
      return this.note(`callback ${callback.token} already attached`);
    }
    const fail = (reason: string): void => {
      this.answer(callback, 'failure', undefined, reason);
    };
    if (pkg.approvalStatus === 'Rejected') return fail(`v${pkg.version} is Rejected in the model registry`);
    if (callback.stage === 'prod' && pkg.approvalStatus !== 'Approved') {
      return fail(`v${pkg.version} is ${pkg.approvalStatus}: deploying to prod needs an approved version`);
    }
    const blocked = this.state.blocked.find((b) => b.version === pkg.version);
    if (blocked && !this.approvedAfter(pkg, blocked.at)) {
      return fail(`v${pkg.version} was ${blocked.reason}; approve it anew first`);
    }
    const live = callback.stage === 'qa' ? this.state.qa : this.state.prod;
    const existing = this.activeFor(pkg.version);
    if (existing) {
      if (callback.stage === 'prod' && existing.targetStage === 'qa') existing.targetStage = 'prod';
      if (
        callback.stage === 'qa' &&
        !QA_PHASES.has(existing.phase) &&
        this.state.qa?.version !== pkg.version
      ) {
        return fail(
          `${existing.id} is ${existing.phase} and QA serves v${this.state.qa?.version ?? 'nothing'}`,
        );
      }
      if (callback.stage === 'qa' && !QA_PHASES.has(existing.phase)) {
        return this.answer(callback, 'success', this.outputs('qa', this.state.qa!));
      }
      if (
        callback.stage === 'qa' &&
        (existing.phase === 'AwaitingApproval' || existing.phase === 'ReadyForProd')
      ) {
        return this.answer(callback, 'success', this.outputs('qa', this.state.qa!));
      }
      existing.callbacks.push(callback);
      this.history(
        existing,
        existing.phase,
        existing.phase,
        `pipeline callback ${callback.token} waits for ${callback.stage}`,
      );
      return;
    }
    if (live?.version === pkg.version) {
      return this.answer(callback, 'success', this.outputs(callback.stage, live));
    }
    // versions only move forward: an older one would supersede newer work, whatever the stage
    if (pkg.version < this.state.highestVersion) {
      return fail(
        `v${pkg.version} is older than v${this.state.highestVersion}, already deployed or in progress`,
      );
    }
    if (blocked) this.state.blocked = this.state.blocked.filter((b) => b.version !== pkg.version);
    this.requestDeployment(pkg, 'callback', callback.stage, callback);
  }

  protected onCallbackStopping(token: string): void {
    const d = this.state.deployments.find((o) => o.callbacks.some((c) => c.token === token));
    if (!d) return;
    const callback = d.callbacks.find((c) => c.token === token)!;
    d.callbacks = d.callbacks.filter((c) => c.token !== token);
    this.answer(callback, 'failure', undefined, 'stopped by the pipeline');
    // the work tied to the token stops with it (unless another pipeline still waits on it), whichever
    // of the approval and the callback message started it: the outcome must not depend on event order
    if (!isTerminal(d.phase) && d.callbacks.length === 0) {
      this.stop(d, 'Aborted', `pipeline ${callback.pipelineExecutionArn} was stopped`);
    }
  }

  protected onTick(): void {
    for (const d of this.active()) {
      for (const c of [...d.callbacks]) {
        if (this.now < c.deadline) continue;
        d.callbacks = d.callbacks.filter((x) => x.token !== c.token);
        const minutes = this.ctx.group.callback.taskTimeoutMinutes;
        this.answer(c, 'failure', undefined, `task timed out after ${minutes} min (${d.id} is ${d.phase})`);
        if (d.callbacks.length === 0) {
          this.stop(d, 'Aborted', `pipeline callback task timed out after ${minutes} min`);
        }
      }
      if (
        d.phase === 'AwaitingApproval' &&
        d.approvalDeadline !== undefined &&
        this.now >= d.approvalDeadline
      ) {
        const minutes = this.ctx.group.promotion.approvalTimeoutMinutes;
        this.finish(d, 'Failed', `not promoted within the approval timeout of ${minutes} min`);
      }
    }
    for (const d of this.active()) this.stopIfOverdue(d);
    for (const d of this.active()) {
      if (d.phase === 'ReadyForProd') this.tryStartProd(d);
    }
    this.startNextQueued();
  }
}
