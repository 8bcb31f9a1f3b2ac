import {
  active,
  type Draft,
  find,
  type HistoryExtra,
  history,
  latestFor,
  markInRegistry,
  move,
  nextAttempt,
  publish,
} from '../draft';
import {
  type Deployment,
  type GateReadings,
  isTerminal,
  PROD_PHASES,
  type RegistryStageStatus,
} from '../model';
import { deploymentId } from '../naming';
import { earlierStagesAfterProdRollback } from './earlier-stages';
import { deploy, servingVariant } from './prod';

/** The way back: stopping and rolling back a deployment, restoring the last known good version, failures. */

/**
 * Ends a deployment that has not finished: anything that touched prod is rolled back first
 * (baseline to 100 % at once, then prod back to the baseline alone).
 */
export function stop(
  t: Draft,
  d: Deployment,
  outcome: 'RolledBack' | 'Aborted' | 'Superseded' | 'Failed',
  reason: string,
  readings?: GateReadings,
  who: HistoryExtra = {},
): void {
  if (isTerminal(d.phase) || d.phase === 'RollingBack') return;
  if (outcome === 'RolledBack') block(t, d.version, `rolled back (${reason})`);
  const serving = t.state.prod;
  const touchesProd = PROD_PHASES.has(d.phase);
  // prod goes back from d's version, for any reason but a newer version taking its place (that
  // one passed QA, so QA has moved on)
  const prodGoesBack = touchesProd && serving?.version !== d.version && outcome !== 'Superseded';
  if (!touchesProd || !serving || serving.version === d.version) {
    if (touchesProd && !serving) reason += '; prod has no earlier version to return to';
    finish(t, d, outcome, reason, readings, who);
    if (prodGoesBack) earlierStagesAfterProdRollback(t, d.version, reason);
    return;
  }
  // the baseline takes all traffic at once, before the endpoint moves to the baseline-alone config
  const drainFirst =
    d.phase === 'Canary' ||
    d.phase === 'Promoting' ||
    d.phase === 'ProdDeploying' ||
    d.phase === 'ProdVerifying';
  if (d.canary) d.canary.weights = { [d.canary.baselineVariant]: 100, [d.canary.candidateVariant]: 0 };
  d.rollbackOutcome = outcome;
  // the config the deployment was moving prod to (canary or promotion) goes once the baseline is back
  const abandoned = d.awaiting?.configName;
  deploy(
    t,
    d,
    'prod',
    t.ctx.group.stages.prod.endpointName,
    [servingVariant(serving, 100)],
    'RollingBack',
    `rolling back to v${serving.version}: ${reason}`,
    { drainFirst, extra: { readings, weights: d.canary ? { ...d.canary.weights } : undefined, ...who } },
  );
  if (abandoned && abandoned !== d.awaiting?.configName) {
    const earlier = d.retireOnSuccess?.configNames ?? [];
    d.retireOnSuccess = {
      modelNames: d.retireOnSuccess?.modelNames ?? [],
      configNames: [...earlier, abandoned],
    };
  }
  if (prodGoesBack) earlierStagesAfterProdRollback(t, d.version, reason);
}

export function finish(
  t: Draft,
  d: Deployment,
  outcome: 'RolledBack' | 'Aborted' | 'Superseded' | 'Failed',
  reason: string,
  readings?: GateReadings,
  who: HistoryExtra = {},
): void {
  d.awaiting = undefined;
  if (outcome === 'RolledBack') rejectInRegistry(t, d, reason);
  move(t, d, outcome, reason, { readings, ...who });
}

export function rejectInRegistry(t: Draft, d: Deployment, reason: string): void {
  rejectVersion(t, d, {
    status: 'RolledBack',
    reason,
    rejectDescription: `rolled back by sagemaker-rollouts: ${reason}`,
    blockReason: `rolled back (${reason})`,
  });
}

/**
 * Asks the registry to reject a version the service stopped, and keeps it blocked (from now on)
 * until the registry has said Rejected: a view of the package from before that is no approval.
 */
export function rejectVersion(
  t: Draft,
  version: { version: number; packageArn: string },
  why: { status: RegistryStageStatus; reason: string; rejectDescription: string; blockReason: string },
): void {
  t.commands.push({
    type: 'UpdateRegistry',
    packageArn: version.packageArn,
    lifecycle: { stage: 'Production', status: why.status, description: why.reason.slice(0, 1024) },
    reject: { description: why.rejectDescription.slice(0, 1024) },
  });
  block(t, version.version, why.blockReason);
  t.state.blocked.find((b) => b.version === version.version)!.rejectPending = true;
}

/** Prod serves `version`, which must go: back to the last known good version before it. */
export function rollbackProd(
  t: Draft,
  version: number,
  reason: string,
  actor: string,
  requestId?: string,
): string | undefined {
  const target = [...t.state.knownGood]
    .reverse()
    .find((k) => k.version !== version && !t.state.blocked.some((b) => b.version === k.version));
  const current = latestFor(t, version);
  if (!target) {
    return `no earlier known good version to roll v${version} back to`;
  }
  // prod is replaced wholesale, so whatever was in flight just ends
  const inFlight = active(t);
  const stoppedInProd = inFlight.filter((o) => PROD_PHASES.has(o.phase)).map((o) => o.version);
  for (const o of inFlight) finish(t, o, 'Aborted', `prod rolls back to v${target.version}: ${reason}`);
  if (current && current.phase === 'Succeeded') {
    const place = history(t, current, 'Succeeded', 'RolledBack', reason, { actor, requestId });
    current.phase = 'RolledBack';
    current.phaseSince = t.now;
    current.reason = reason;
    publish(t, 'Deployment Rolled Back', current, { reason, to: target.version }, place);
  }
  const rolledBack = t.state.prod!;
  rejectVersion(t, rolledBack, {
    status: 'RolledBack',
    reason,
    rejectDescription: `rolled back by sagemaker-rollouts: ${reason}`,
    blockReason: `rolled back (${reason})`,
  });
  // from now on the target is what prod serves: stopping the restore must not bring `version` back,
  // and the next canary must not use it as its baseline
  t.state.prod = target;
  const d: Deployment = {
    id: deploymentId(t.state.group, target.version, nextAttempt(t, target.version)),
    group: t.state.group,
    version: target.version,
    packageArn: target.packageArn,
    attempt: nextAttempt(t, target.version),
    trigger: 'operator',
    targetStage: 'prod',
    phase: 'Queued',
    createdAt: t.now,
    phaseSince: t.now,
    callbacks: [],
    seq: 0,
    prodPlan: 'replace',
  };
  t.state.deployments.push(d);
  history(t, d, null, 'Queued', `rollback of v${version} to v${target.version}`, { actor, requestId });
  publish(t, 'Deployment Started', d, { trigger: 'rollback', from: version });
  const prodStage = t.ctx.group.stages.prod;
  const configName = deploy(
    t,
    d,
    'prod',
    prodStage.endpointName,
    [servingVariant(target, 100)],
    'ProdDeploying',
    `rolling prod back to v${target.version}: ${reason}`,
  );
  d.retireOnSuccess = {
    modelNames: t.state.qa?.version === rolledBack.version ? [] : [rolledBack.modelName],
    configNames: rolledBack.configName && rolledBack.configName !== configName ? [rolledBack.configName] : [],
  };
  // prod went back from the version it served and from any it was moving to (which QA may serve)
  const left = [rolledBack.version, ...stoppedInProd];
  earlierStagesAfterProdRollback(
    t,
    left.find((v) => v === t.state.qa?.version) ?? rolledBack.version,
    reason,
  );
  return undefined;
}

/** `at`: approvals modified after it lift the block; a later rollback or rejection moves it on. */
export function block(t: Draft, version: number, reason: string, at = t.now): void {
  const existing = t.state.blocked.find((b) => b.version === version);
  if (existing) {
    existing.at = Math.max(existing.at, at);
    return;
  }
  t.state.blocked.push({ version, at, reason: reason.slice(0, 256) });
}

export function stageFailed(t: Draft, d: Deployment, reason: string): void {
  switch (d.phase) {
    case 'QaDeploying':
      markInRegistry(t, d, 'QA', 'Failed', reason);
      return finish(t, d, 'Failed', `QA deployment failed: ${reason}`);
    case 'NativeShifting':
      // SageMaker rolled the endpoint back to the version prod serves
      block(t, d.version, `rolled back (${reason})`);
      finish(t, d, 'RolledBack', reason);
      return earlierStagesAfterProdRollback(t, d.version, reason);
    case 'ProdDeploying':
    case 'Promoting':
      if (d.prodPlan === 'replace') return finish(t, d, 'Failed', `prod deployment failed: ${reason}`);
      // prod may hold both variants: put it back on the baseline alone
      d.awaiting = undefined;
      return stop(t, d, 'Failed', `prod deployment failed: ${reason}`);
    case 'RollingBack':
      // the version stays out: the registry must say Rejected, or a later update of the package
      // (still Approved) would look like a new approval and lift the block
      if (d.rollbackOutcome === 'RolledBack') rejectInRegistry(t, d, `rollback did not complete: ${reason}`);
      return finish(t, d, 'Failed', `rollback did not complete: ${reason}; prod needs an operator`);
    default:
      return finish(t, d, 'Failed', reason);
  }
}

export function onCommandFailed(t: Draft, id: string, command: string, reason: string): void {
  const d = find(t, id);
  if (!d || isTerminal(d.phase)) return;
  const why = `${command} failed: ${reason}`;
  if (d.phase === 'Canary') return stop(t, d, 'Failed', why);
  // SageMaker refused the blue/green update itself (configuration, permission): prod never moved,
  // and the model is not to blame, so it is neither rolled back nor rejected
  if (d.phase === 'NativeShifting') return finish(t, d, 'Failed', `prod deployment refused: ${why}`);
  if (d.awaiting) return stageFailed(t, d, why);
  finish(t, d, 'Failed', why);
}
