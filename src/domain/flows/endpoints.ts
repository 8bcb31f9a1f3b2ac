import type { StageName } from '../../config/schema';
import { active, type Draft, history, move, note, publish } from '../draft';
import { sameTrafficSplit } from '../judge';
import type { Deployment, EndpointObservation } from '../model';
import { modelName } from '../naming';
import { canaryConfigLive, promoted } from './prod';
import { qaPassed } from './qa';
import { finish, onCommandFailed, stageFailed } from './rollback';
import { restoreBaseline } from './scaling';
import { shadowConfigLive, shadowPending } from './shadow';

/** An endpoint that is not InService on what we asked for after this long has failed. */
export const ENDPOINT_WAIT_LIMIT_MS = 3 * 60 * 60 * 1000;
/** SageMaker's upper bound of MaximumExecutionTimeoutInSeconds, assumed when none is configured. */
export const NATIVE_MAX_EXECUTION_SECONDS = 28_800;
export const NATIVE_WAIT_MARGIN_MS = 30 * 60 * 1000;

/** What endpoint observations mean for the deployments waiting on them: arrival, failure, drift, the executor's reports. */

export function onEndpointObserved(t: Draft, stage: StageName, endpoint: EndpointObservation | null): void {
  for (const d of active(t)) {
    if (d.awaiting?.stage === stage) observeAwaited(t, d, endpoint);
    else if (stage === 'prod' && d.phase === 'Canary') watchForDrift(t, d, endpoint);
  }
}

export function observeAwaited(t: Draft, d: Deployment, endpoint: EndpointObservation | null): void {
  const awaiting = d.awaiting!;
  const waited = t.now - awaiting.requestedAt;
  const limit = endpointWaitLimit(t, d);
  const onTarget = endpoint?.configName === awaiting.configName;
  if (endpoint && onTarget && endpoint.status === 'InService') return arrived(t, d, endpoint);
  // strictly after: a failure stamped with the request's own millisecond was there when it was
  // decided (a retry decided at once on the failure it answers). SageMaker never fails a change
  // within the millisecond it was asked for: it goes Creating or Updating first, and a change it
  // refuses outright is an API error, not a Failed status.
  const changedSinceRequest = endpoint !== null && endpoint.lastModifiedTime > awaiting.requestedAt;
  if (endpoint && (endpoint.status === 'Failed' || endpoint.status === 'UpdateRollbackFailed')) {
    // a failure from before this request (a retry on the same config) is not this request's:
    // the executor deletes that endpoint and creates it anew
    if (changedSinceRequest) {
      return stageFailed(
        t,
        d,
        `endpoint ${endpoint.endpointName} ${endpoint.status}: ${endpoint.failureReason ?? 'no reason given'}`,
      );
    }
  }
  // a FailureReason from a change at or before the request was there when it was decided (the
  // failure a rollback answers): only a later change is this request's
  if (
    endpoint &&
    !onTarget &&
    endpoint.status === 'InService' &&
    endpoint.lastModifiedTime > awaiting.requestedAt &&
    endpoint.failureReason
  ) {
    return stageFailed(
      t,
      d,
      `SageMaker rolled ${endpoint.endpointName} back to ${endpoint.configName}: ${endpoint.failureReason}`,
    );
  }
  if (waited > limit) {
    const why = `endpoint ${awaiting.endpointName} not InService on ${awaiting.configName} after ${Math.round(waited / 60_000)} min (${endpoint?.status ?? 'missing'})`;
    // waiting longer than SageMaker's own limit says nothing against the model: Failed, not RolledBack
    if (d.phase === 'NativeShifting') return finish(t, d, 'Failed', `prod deployment failed: ${why}`);
    return stageFailed(t, d, why);
  }
}

/** How long a deployment waits for its endpoint: a blue/green update as long as it may take. */
export function endpointWaitLimit(t: Draft, d: Deployment): number {
  const strategy = t.ctx.group.stages.prod.strategy;
  if (d.phase !== 'NativeShifting' || strategy.type !== 'native') return ENDPOINT_WAIT_LIMIT_MS;
  const execution = strategy.maximumExecutionTimeoutSeconds ?? NATIVE_MAX_EXECUTION_SECONDS;
  const mayTake = (execution + strategy.terminationWaitSeconds) * 1000 + NATIVE_WAIT_MARGIN_MS;
  return Math.max(ENDPOINT_WAIT_LIMIT_MS, mayTake);
}

export function arrived(t: Draft, d: Deployment, endpoint: EndpointObservation): void {
  const awaiting = d.awaiting!;
  switch (d.phase) {
    case 'QaDeploying':
      if (t.ctx.group.stages.qa.smokeTest) {
        move(t, d, 'QaVerifying', `QA endpoint InService on ${endpoint.configName}; smoke testing`);
      } else {
        qaPassed(t, d, 'no smoke test configured');
      }
      return;
    case 'ProdDeploying':
      if (d.prodPlan === 'canary' && shadowPending(d)) return shadowConfigLive(t, d);
      if (d.prodPlan === 'canary') return canaryConfigLive(t, d);
      return promoted(t, d, awaiting.configName, awaiting.variants[0]!.variantName);
    case 'NativeShifting':
    case 'Promoting':
      return promoted(t, d, awaiting.configName, awaiting.variants[0]!.variantName);
    case 'RollingBack':
      d.awaiting = undefined;
      {
        const scaling = restoreBaseline(d, t.ctx.group.stages.prod.endpointName);
        if (scaling) t.commands.push(scaling);
        const configNames = [
          ...new Set([d.canary?.configName, ...(d.retireOnSuccess?.configNames ?? [])]),
        ].filter((name): name is string => !!name && name !== awaiting.configName);
        if (configNames.length > 0) {
          t.commands.push({
            type: 'RetireResources',
            group: d.group,
            stage: 'prod',
            modelNames: t.state.qa?.version === d.version ? [] : [modelName(d.group, d.version)],
            configNames,
          });
        }
        d.retireOnSuccess = undefined;
      }
      finish(
        t,
        d,
        d.rollbackOutcome ?? 'RolledBack',
        `${d.reason ?? 'rolled back'}; prod back on v${t.state.prod?.version}`,
        d.canary?.lastReadings,
      );
      return;
    default:
      return;
  }
}

/** What the executor made of a desired spec; a report on an older generation means nothing now. */
export function onEndpointSettled(
  t: Draft,
  stage: StageName,
  generation: number,
  outcome: 'converged' | 'failed',
  reason?: string,
): void {
  const desired = t.state.desired?.[stage];
  if (!desired || desired.generation !== generation || desired.settled?.generation === generation) return;
  desired.settled = { generation, outcome, reason, at: t.now };
  if (outcome === 'failed') {
    note(t, `${desired.endpointName}: SageMaker refused generation ${generation}: ${reason}`);
    onCommandFailed(t, desired.deploymentId, 'endpoint change', reason ?? 'refused');
  }
}

export function watchForDrift(t: Draft, d: Deployment, endpoint: EndpointObservation | null): void {
  const c = d.canary!;
  if (c.paused || !endpoint || endpoint.status !== 'InService') return;
  // until the executor has seen the endpoint on the newest spec, a difference is our own change in flight
  const desired = t.state.desired?.prod;
  if (desired && desired.settled?.generation !== desired.generation) return;
  const settled = endpoint.variants.every((v) => Math.abs(v.currentWeight - v.desiredWeight) < 1e-6);
  if (!settled) return;
  let drift: string | undefined;
  if (endpoint.configName !== c.configName) {
    drift = `prod runs config ${endpoint.configName}, expected ${c.configName}`;
  } else {
    const observed = Object.fromEntries(endpoint.variants.map((v) => [v.variantName, v.currentWeight]));
    if (!sameTrafficSplit(observed, c.weights)) {
      drift = `prod weights ${JSON.stringify(observed)} differ from the expected ${JSON.stringify(c.weights)}`;
    }
  }
  if (!drift) return;
  c.paused = true;
  history(t, d, 'Canary', 'Canary', `paused: drift detected: ${drift}`);
  publish(t, 'Drift Detected', d, { drift });
  publish(t, 'Deployment Paused', d, { reason: `drift: ${drift}` });
}
