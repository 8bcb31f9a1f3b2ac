import { active, type Draft, find, history, latestFor, move, publish } from '../draft';
import { isTerminal, type OperatorCommand, type PackageInfo } from '../model';
import { canarySteps, promote, setStep, tryStartProd } from './prod';
import { QA_PHASES, requestDeployment } from './qa';
import { approvedSinceBlocked, whyNotApprovedAnew } from './registry';
import { block, rollbackProd, stop } from './rollback';
import { rollbackQa, stageRefusal } from './stage-commands';

/** Operator commands: promote, pause, resume, abort, rollback, retry. */

export function onOperator(t: Draft, command: OperatorCommand, pkg: PackageInfo | undefined): void {
  const d = find(t, command.deploymentId);
  const refuse = (why: string): void => {
    t.rejection = why;
    publish(t, 'Command Rejected', d, {
      command: command.verb,
      ...(command.stage !== undefined ? { stage: command.stage } : {}),
      reason: why,
      requestId: command.requestId,
      actor: command.actor,
    });
    if (d)
      history(t, d, d.phase, d.phase, `${command.verb} refused: ${why}`, {
        actor: command.actor,
        requestId: command.requestId,
      });
  };
  if (!d) return refuse(`unknown deployment ${command.deploymentId}`);
  if (command.denied) return refuse(command.denied);
  const wrongStage = stageRefusal(t, command);
  if (wrongStage) return refuse(wrongStage);
  const inStage = command.stage === undefined ? '' : ` --in ${command.stage}`;
  const by = `${command.verb}${inStage} by ${command.actor}: ${command.reason}`;
  const who = { actor: command.actor, requestId: command.requestId };
  switch (command.verb) {
    case 'promote':
      if (d.phase === 'AwaitingApproval') {
        d.approvalDeadline = undefined;
        // `full` grants the approval and ends a bake still running, in one command
        const bakeEnds = command.full && d.bakeUntil !== undefined && t.now < d.bakeUntil;
        const until = bakeEnds ? `; bake ended before ${new Date(d.bakeUntil!).toISOString()}` : '';
        if (bakeEnds) d.bakeUntil = undefined;
        move(t, d, 'ReadyForProd', `${by}${until}`, who);
        return tryStartProd(t, d);
      }
      if (d.phase === 'Canary' && d.canary) {
        const steps = canarySteps(t);
        const next = Math.min(d.canary.stepIndex, steps.length - 1) + 1;
        // Argo Rollouts' promote: the next step; `full` (or no step left) skips to the candidate alone
        if (command.full || next >= steps.length) return promote(t, d, by, who);
        history(t, d, 'Canary', 'Canary', `promoted to the next step (${by})`, who);
        return setStep(t, d, next, who);
      }
      if (d.phase === 'ReadyForProd' && d.bakeUntil !== undefined && t.now < d.bakeUntil) {
        const until = new Date(d.bakeUntil).toISOString();
        if (!command.full)
          return refuse(`${d.id} bakes in QA until ${until}; promote --full ends the bake now`);
        d.bakeUntil = undefined;
        history(t, d, 'ReadyForProd', 'ReadyForProd', `bake ended before ${until} (${by})`, who);
        return tryStartProd(t, d);
      }
      return refuse(`${d.id} is ${d.phase}; promote applies while awaiting approval, baking or in canary`);
    case 'pause':
      if (d.phase !== 'Canary' || !d.canary)
        return refuse(`${d.id} is ${d.phase}; only a canary can be paused`);
      if (d.canary.paused) return refuse(`${d.id} is already paused`);
      d.canary.paused = true;
      history(t, d, 'Canary', 'Canary', `paused (${by})`, who);
      publish(t, 'Deployment Paused', d, { reason: command.reason, actor: command.actor });
      return;
    case 'resume':
      if (d.phase !== 'Canary' || !d.canary?.paused) return refuse(`${d.id} is not paused`);
      d.canary.paused = false;
      history(t, d, 'Canary', 'Canary', `resumed (${by})`, who);
      publish(t, 'Deployment Resumed', d, { reason: command.reason, actor: command.actor });
      return;
    case 'abort':
      if (isTerminal(d.phase) || d.phase === 'RollingBack') return refuse(`${d.id} already ended ${d.phase}`);
      return stop(t, d, 'Aborted', by, undefined, who);
    case 'rollback': {
      // this version runs qa, then prod: a rollback in qa takes QA back to the version prod serves
      if (command.stage === 'qa') {
        const why = rollbackQa(t, d, by, who);
        return why ? refuse(why) : undefined;
      }
      if (d.phase === 'RollingBack') return refuse(`${d.id} is already rolling back`);
      if (QA_PHASES.has(d.phase)) {
        return refuse(`${d.id} is ${d.phase}: nothing of it serves prod; abort stops it`);
      }
      if (!isTerminal(d.phase)) {
        return stop(t, d, 'RolledBack', by, undefined, who);
      }
      if (d.phase !== 'Succeeded' || t.state.prod?.version !== d.version) {
        return refuse(`${d.id} is ${d.phase} and does not serve prod`);
      }
      const why = rollbackProd(t, d.version, by, command.actor, command.requestId);
      // blocked only once the rollback happens: a refusal must leave an earlier block in place
      if (why) return refuse(why);
      block(t, d.version, `rolled back (${by})`);
      return;
    }
    case 'retry': {
      if (!isTerminal(d.phase) || d.phase === 'Succeeded' || d.phase === 'Superseded')
        return refuse(
          `${d.id} is ${d.phase}; only a failed, aborted or rolled back deployment can be retried`,
        );
      const latest = latestFor(t, d.version);
      if (latest && latest !== d) return refuse(`${latest.id} is the latest attempt of v${d.version}`);
      if (pkg?.approvalStatus !== 'Approved') {
        return refuse(
          `v${d.version} is ${pkg?.approvalStatus ?? 'unknown'} in the registry; approve it first`,
        );
      }
      const blocked = t.state.blocked.find((b) => b.version === d.version);
      if (blocked && !approvedSinceBlocked(pkg, blocked)) {
        return refuse(`v${d.version} was ${blocked.reason}; ${whyNotApprovedAnew(blocked)} before retrying`);
      }
      const others = active(t);
      if (others.length > 0) return refuse(`${others.map((o) => o.id).join(', ')} in progress`);
      t.state.blocked = t.state.blocked.filter((b) => b.version !== d.version);
      const next = requestDeployment(t, pkg, 'operator', d.targetStage, undefined);
      history(t, next, next.phase, next.phase, `retry of ${d.id} (${by})`, who);
      return;
    }
  }
}
