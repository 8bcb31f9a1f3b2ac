import type { StageName } from '../../config/schema';
import {
  active,
  answerStage,
  type Draft,
  deploymentsFor,
  find,
  type HistoryExtra,
  history,
  markInRegistry,
  move,
  note,
  publish,
} from '../draft';
import {
  type CallbackWait,
  type Deployment,
  type PackageInfo,
  type Phase,
  PROD_PHASES,
  type Trigger,
} from '../model';
import { deploymentId, modelName, variantName } from '../naming';
import { bakeWords, deploy, tryStartProd, variantFor } from './prod';
import { stop } from './rollback';

export const QA_PHASES: ReadonlySet<Phase> = new Set([
  'Queued',
  'QaDeploying',
  'QaVerifying',
  'AwaitingApproval',
  'ReadyForProd',
]);

/** Requests and the QA stage: a deployment requested (concurrency policy), QA, the smoke test, the queue. */

/**
 * A new deployment of `pkg`, subject to the group's concurrency policy. Versions older than one
 * already started are superseded at once, so the outcome does not depend on event order.
 */
export function requestDeployment(
  t: Draft,
  pkg: PackageInfo,
  trigger: Trigger,
  targetStage: StageName,
  callback: CallbackWait | undefined,
  /** why it was requested, when the trigger alone does not say (a restore), and who asked */
  requested: { why?: string; who?: HistoryExtra } = {},
): Deployment {
  const { why, who } = requested;
  const attempt = Math.max(0, ...deploymentsFor(t, pkg.version).map((d) => d.attempt)) + 1;
  const d: Deployment = {
    id: deploymentId(pkg.group, pkg.version, attempt),
    group: pkg.group,
    version: pkg.version,
    packageArn: pkg.arn,
    attempt,
    trigger,
    targetStage,
    phase: 'Queued',
    createdAt: t.now,
    phaseSince: t.now,
    callbacks: callback ? [callback] : [],
    seq: 0,
  };
  t.state.deployments.push(d);
  history(t, d, null, 'Queued', `requested by ${trigger}${why ? `: ${why}` : ''}`, who);
  publish(t, 'Deployment Started', d, {
    trigger,
    targetStage,
    packageArn: pkg.arn,
    ...(why ? { reason: why } : {}),
  });

  if (pkg.version < t.state.highestVersion && trigger === 'approval') {
    move(t, d, 'Superseded', `v${t.state.highestVersion} is newer`);
    return d;
  }
  t.state.highestVersion = Math.max(t.state.highestVersion, pkg.version);
  // the policy holds per stage: a version in prod is the prod stage's business (tryStartProd)
  const others = active(t).filter((o) => o !== d && holdsQa(o));
  if (others.length === 0) {
    startQa(t, d);
    return d;
  }
  switch (t.ctx.group.concurrency) {
    case 'reject': {
      const names = others.map((o) => o.id).join(', ');
      move(t, d, 'Failed', `refused by the concurrency policy: ${names} in progress`);
      return d;
    }
    case 'queue': {
      for (const o of others) {
        if (o.phase === 'Queued' && o.version < d.version) {
          move(t, o, 'Superseded', `v${d.version} is newer`);
        }
      }
      const ahead = active(t).filter((o) => o !== d && holdsQa(o));
      if (ahead.some((o) => o.phase !== 'Queued')) {
        d.reason = `queued behind ${ahead.map((o) => o.id).join(', ')}`;
      } else {
        startQa(t, d);
      }
      return d;
    }
    case 'supersede': {
      for (const o of others) stop(t, o, 'Superseded', `superseded by v${d.version}`);
      startQa(t, d);
      return d;
    }
  }
}

/**
 * Phases in which a deployment holds the QA stage: waiting to enter it, in it, or passed and not
 * yet in prod (QA serves it, and a manual approver may still be looking at it there).
 */
export const holdsQa = (d: Deployment): boolean => QA_PHASES.has(d.phase);

export function startQa(t: Draft, d: Deployment): void {
  if (d.phase !== 'Queued') return;
  const stage = t.ctx.group.stages.qa;
  const variants = [variantFor(t, d, 100)];
  deploy(t, d, 'qa', stage.endpointName, variants, 'QaDeploying', `deploying v${d.version} to QA`);
}

export function onSmokeTested(t: Draft, id: string, ok: boolean, detail: string): void {
  const d = find(t, id);
  if (d?.phase !== 'QaVerifying') return;
  if (!ok) {
    markInRegistry(t, d, 'QA', 'Failed', `smoke test failed: ${detail}`);
    move(t, d, 'Failed', `QA smoke test failed: ${detail}`);
    return;
  }
  qaPassed(t, d, `smoke test passed: ${detail}`);
}

export function qaPassed(t: Draft, d: Deployment, reason: string): void {
  const qa = t.ctx.group.stages.qa;
  const awaiting = d.awaiting;
  const previous = t.state.qa;
  if (previous && awaiting && previous.configName && previous.configName !== awaiting.configName) {
    // QA now runs the new config: the old one (and its model, unless prod still runs it or a
    // deployment is taking it there) goes
    const inProd =
      t.state.prod?.version === previous.version ||
      t.state.deployments.some((o) => o.version === previous.version && PROD_PHASES.has(o.phase));
    t.commands.push({
      type: 'RetireResources',
      group: d.group,
      stage: 'qa',
      modelNames: inProd || previous.version === d.version ? [] : [previous.modelName],
      configNames: [previous.configName],
    });
  }
  t.state.qa = {
    version: d.version,
    packageArn: d.packageArn,
    modelName: modelName(d.group, d.version),
    variantName: variantName(d.version),
    configName: awaiting?.configName ?? '',
  };
  d.awaiting = undefined;
  // a restored version keeps its registry stage (Production): QA only went back to it
  if (d.trigger !== 'restore') markInRegistry(t, d, 'QA', 'Deployed', reason);
  publish(t, 'Stage Deployed', d, { endpointName: qa.endpointName, reason });
  answerStage(t, d, 'qa');
  if (d.targetStage === 'qa') {
    move(t, d, 'Succeeded', `live in QA (${reason})`);
    return;
  }
  const promotion = t.ctx.group.promotion;
  const bake = promotion.bakeMinutes;
  if (bake !== undefined) d.bakeUntil = t.now + bake * 60_000;
  const baking = d.bakeUntil === undefined ? '' : `; ${bakeWords(d.bakeUntil)}`;
  if (promotion.mode === 'manual') {
    d.approvalDeadline = t.now + promotion.approvalTimeoutMinutes * 60_000;
    move(t, d, 'AwaitingApproval', `QA verified (${reason}); waiting for promote${baking}`);
    publish(t, 'Awaiting Approval', d, {
      approvalDeadline: new Date(d.approvalDeadline).toISOString(),
      ...(d.bakeUntil === undefined ? {} : { bakeUntil: new Date(d.bakeUntil).toISOString() }),
    });
    return;
  }
  move(t, d, 'ReadyForProd', `QA verified (${reason})${baking}`);
  tryStartProd(t, d);
}

/** QA is free (no deployment holds it): the newest queued version enters it, older queued ones are superseded. */
export function startNextQueued(t: Draft): void {
  const inFlight = active(t);
  if (inFlight.some((d) => holdsQa(d) && d.phase !== 'Queued')) return;
  const queued = inFlight.filter((d) => d.phase === 'Queued').sort((a, b) => b.version - a.version);
  const [next, ...older] = queued;
  if (!next) return;
  for (const o of older) move(t, o, 'Superseded', `v${next.version} is newer`);
  startQa(t, next);
}

/**
 * QA runs (or is being moved to) a version rejected in the registry or rolled back in prod: it
 * returns to the version prod serves, the last good one, unless another version is already on its
 * way into QA (it replaces it anyway). `rule`: the configuration that asks for it, named in the
 * restore's history and event; `who`: the operator.
 */
export function restoreQa(
  t: Draft,
  version: number,
  why: string,
  { rule, who }: { rule?: string; who?: HistoryExtra } = {},
): void {
  const next = active(t).find((o) => holdsQa(o) && o.version !== version);
  if (next) return note(t, `QA leaves v${version} (${why}) for ${next.id}`);
  const good = t.state.prod;
  if (!good || good.version === version)
    return note(t, `QA keeps v${version} (${why}): prod serves no other version to return to`);
  const pkg: PackageInfo = {
    group: t.state.group,
    version: good.version,
    arn: good.packageArn,
    approvalStatus: 'Approved',
    lastModifiedTime: t.now,
  };
  const ruled = rule ? ` (${rule})` : '';
  const d = requestDeployment(t, pkg, 'restore', 'qa', undefined, {
    why: `${why}: QA back to v${good.version}${ruled}`,
    who,
  });
  note(t, `QA goes back from v${version} to v${good.version}, the version prod serves (${why}): ${d.id}`);
}
