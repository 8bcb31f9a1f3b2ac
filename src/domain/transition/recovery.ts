import type { StageName } from '../../config/schema';
import { sameTrafficSplit } from '../gates';
import {
  type Deployment,
  type EndpointObservation,
  type GateReadings,
  isTerminal,
  PROD_PHASES,
} from '../model';
import { deploymentId, modelName } from '../naming';
import { StageTransition, servingVariant } from './stages';

/** An endpoint that is not InService on what we asked for after this long has failed. */
export const ENDPOINT_WAIT_LIMIT_MS = 3 * 60 * 60 * 1000;
/** SageMaker's upper bound of MaximumExecutionTimeoutInSeconds, assumed when none is configured. */
export const NATIVE_MAX_EXECUTION_SECONDS = 28_800;
export const NATIVE_WAIT_MARGIN_MS = 30 * 60 * 1000;

/**
 * The way back and the ground truth: stopping and rolling back, what each endpoint observation
 * means for the deployment waiting on it, failures, drift, and the queue.
 */
export abstract class RecoveryTransition extends StageTransition {
  /**
   * Ends a deployment that has not finished: anything that touched prod is rolled back first
   * (baseline to 100 % at once, then prod back to the baseline alone).
   */
  protected stop(
    d: Deployment,
    outcome: 'RolledBack' | 'Aborted' | 'Superseded' | 'Failed',
    reason: string,
    readings?: GateReadings,
  ): void {
    if (isTerminal(d.phase) || d.phase === 'RollingBack') return;
    if (outcome === 'RolledBack') this.block(d.version, `rolled back (${reason})`);
    const serving = this.state.prod;
    const touchesProd = PROD_PHASES.has(d.phase);
    if (!touchesProd || !serving || serving.version === d.version) {
      if (touchesProd && !serving) reason += '; prod has no earlier version to return to';
      this.finish(d, outcome, reason, readings);
      return;
    }
    // the baseline takes all traffic at once, before the endpoint moves to the baseline-alone config
    const drainFirst = d.phase === 'Canary' || d.phase === 'Promoting' || d.phase === 'ProdDeploying';
    if (d.canary) d.canary.weights = { [d.canary.baselineVariant]: 100, [d.canary.candidateVariant]: 0 };
    d.rollbackOutcome = outcome;
    // the config the deployment was moving prod to (canary or promotion) goes once the baseline is back
    const abandoned = d.awaiting?.configName;
    this.deploy(
      d,
      'prod',
      this.ctx.group.stages.prod.endpointName,
      [servingVariant(serving, 100)],
      'RollingBack',
      `rolling back to v${serving.version}: ${reason}`,
      { drainFirst, extra: { readings, weights: d.canary ? { ...d.canary.weights } : undefined } },
    );
    if (abandoned && abandoned !== d.awaiting?.configName) {
      d.retireOnSuccess = { modelNames: [], configNames: [abandoned] };
    }
  }

  protected finish(
    d: Deployment,
    outcome: 'RolledBack' | 'Aborted' | 'Superseded' | 'Failed',
    reason: string,
    readings?: GateReadings,
  ): void {
    d.awaiting = undefined;
    if (outcome === 'RolledBack') this.rejectInRegistry(d, reason);
    this.move(d, outcome, reason, { readings });
  }

  protected rejectInRegistry(d: Deployment, reason: string): void {
    this.commands.push({
      type: 'UpdateRegistry',
      packageArn: d.packageArn,
      lifecycle: { stage: 'Production', status: 'RolledBack', description: reason.slice(0, 1024) },
      reject: { description: `rolled back by sagemaker-rollouts: ${reason}`.slice(0, 1024) },
    });
  }

  /** Prod serves `version`, which must go: back to the last known good version before it. */
  protected rollbackProd(
    version: number,
    reason: string,
    actor: string,
    requestId?: string,
  ): string | undefined {
    const target = [...this.state.knownGood]
      .reverse()
      .find((k) => k.version !== version && !this.state.blocked.some((b) => b.version === k.version));
    const current = this.latestFor(version);
    if (!target) {
      return `no earlier known good version to roll v${version} back to`;
    }
    // prod is replaced wholesale, so whatever was in flight just ends
    for (const o of this.active())
      this.finish(o, 'Aborted', `prod rolls back to v${target.version}: ${reason}`);
    if (current && current.phase === 'Succeeded') {
      this.history(current, 'Succeeded', 'RolledBack', reason, { actor, requestId });
      current.phase = 'RolledBack';
      current.phaseSince = this.now;
      current.reason = reason;
      this.publish('Deployment Rolled Back', current, { reason, to: target.version });
    }
    this.commands.push({
      type: 'UpdateRegistry',
      packageArn: this.state.prod!.packageArn,
      lifecycle: { stage: 'Production', status: 'RolledBack', description: reason.slice(0, 1024) },
      reject: { description: `rolled back by sagemaker-rollouts: ${reason}`.slice(0, 1024) },
    });
    const rolledBack = this.state.prod!;
    // from now on the target is what prod serves: stopping the restore must not bring `version` back,
    // and the next canary must not use it as its baseline
    this.state.prod = target;
    const d: Deployment = {
      id: deploymentId(this.state.group, target.version, this.nextAttempt(target.version)),
      group: this.state.group,
      version: target.version,
      packageArn: target.packageArn,
      attempt: this.nextAttempt(target.version),
      trigger: 'operator',
      targetStage: 'prod',
      phase: 'Queued',
      createdAt: this.now,
      phaseSince: this.now,
      callbacks: [],
      seq: 0,
      prodPlan: 'replace',
    };
    this.state.deployments.push(d);
    this.history(d, null, 'Queued', `rollback of v${version} to v${target.version}`, { actor, requestId });
    this.publish('Deployment Started', d, { trigger: 'rollback', from: version });
    const prodStage = this.ctx.group.stages.prod;
    const configName = this.deploy(
      d,
      'prod',
      prodStage.endpointName,
      [servingVariant(target, 100)],
      'ProdDeploying',
      `rolling prod back to v${target.version}: ${reason}`,
    );
    d.retireOnSuccess = {
      modelNames: this.state.qa?.version === rolledBack.version ? [] : [rolledBack.modelName],
      configNames:
        rolledBack.configName && rolledBack.configName !== configName ? [rolledBack.configName] : [],
    };
    return undefined;
  }

  /** `at`: approvals modified after it lift the block; a later rollback or rejection moves it on. */
  protected block(version: number, reason: string, at = this.now): void {
    const existing = this.state.blocked.find((b) => b.version === version);
    if (existing) {
      existing.at = Math.max(existing.at, at);
      return;
    }
    this.state.blocked.push({ version, at, reason: reason.slice(0, 256) });
  }

  protected onEndpointObserved(stage: StageName, endpoint: EndpointObservation | null): void {
    for (const d of this.active()) {
      if (d.awaiting?.stage === stage) this.observeAwaited(d, endpoint);
      else if (stage === 'prod' && d.phase === 'Canary') this.watchForDrift(d, endpoint);
    }
  }

  protected observeAwaited(d: Deployment, endpoint: EndpointObservation | null): void {
    const awaiting = d.awaiting!;
    const waited = this.now - awaiting.requestedAt;
    const limit = this.endpointWaitLimit(d);
    const onTarget = endpoint?.configName === awaiting.configName;
    if (endpoint && onTarget && endpoint.status === 'InService') return this.arrived(d, endpoint);
    const changedSinceRequest = endpoint !== null && endpoint.lastModifiedTime >= awaiting.requestedAt;
    if (endpoint && (endpoint.status === 'Failed' || endpoint.status === 'UpdateRollbackFailed')) {
      // a failure from before this request (a retry on the same config) is not this request's:
      // the executor deletes that endpoint and creates it anew
      if (changedSinceRequest) {
        return this.stageFailed(
          d,
          `endpoint ${endpoint.endpointName} ${endpoint.status}: ${endpoint.failureReason ?? 'no reason given'}`,
        );
      }
    }
    if (
      endpoint &&
      !onTarget &&
      endpoint.status === 'InService' &&
      changedSinceRequest &&
      endpoint.failureReason
    ) {
      return this.stageFailed(
        d,
        `SageMaker rolled ${endpoint.endpointName} back to ${endpoint.configName}: ${endpoint.failureReason}`,
      );
    }
    if (waited > limit) {
      const why = `endpoint ${awaiting.endpointName} not InService on ${awaiting.configName} after ${Math.round(waited / 60_000)} min (${endpoint?.status ?? 'missing'})`;
      // waiting longer than SageMaker's own limit says nothing against the model: Failed, not RolledBack
      if (d.phase === 'NativeShifting') return this.finish(d, 'Failed', `prod deployment failed: ${why}`);
      return this.stageFailed(d, why);
    }
  }

  /** How long a deployment waits for its endpoint: a blue/green update as long as it may take. */
  protected endpointWaitLimit(d: Deployment): number {
    const strategy = this.ctx.group.stages.prod.strategy;
    if (d.phase !== 'NativeShifting' || strategy.type !== 'native') return ENDPOINT_WAIT_LIMIT_MS;
    const execution = strategy.maximumExecutionTimeoutSeconds ?? NATIVE_MAX_EXECUTION_SECONDS;
    const mayTake = (execution + strategy.terminationWaitSeconds) * 1000 + NATIVE_WAIT_MARGIN_MS;
    return Math.max(ENDPOINT_WAIT_LIMIT_MS, mayTake);
  }

  protected arrived(d: Deployment, endpoint: EndpointObservation): void {
    const awaiting = d.awaiting!;
    switch (d.phase) {
      case 'QaDeploying':
        if (this.ctx.group.stages.qa.smokeTest) {
          this.move(d, 'QaVerifying', `QA endpoint InService on ${endpoint.configName}; smoke testing`);
        } else {
          this.qaPassed(d, 'no smoke test configured');
        }
        return;
      case 'ProdDeploying':
        if (d.prodPlan === 'canary') return this.startCanary(d);
        return this.promoted(d, awaiting.configName, awaiting.variants[0]!.variantName);
      case 'NativeShifting':
      case 'Promoting':
        return this.promoted(d, awaiting.configName, awaiting.variants[0]!.variantName);
      case 'RollingBack':
        d.awaiting = undefined;
        {
          const configNames = [
            ...new Set([d.canary?.configName, ...(d.retireOnSuccess?.configNames ?? [])]),
          ].filter((name): name is string => !!name && name !== awaiting.configName);
          if (configNames.length > 0) {
            this.commands.push({
              type: 'RetireResources',
              group: d.group,
              stage: 'prod',
              modelNames: this.state.qa?.version === d.version ? [] : [modelName(d.group, d.version)],
              configNames,
            });
          }
          d.retireOnSuccess = undefined;
        }
        this.finish(
          d,
          d.rollbackOutcome ?? 'RolledBack',
          `${d.reason ?? 'rolled back'}; prod back on v${this.state.prod?.version}`,
          d.canary?.lastReadings,
        );
        return;
      default:
        return;
    }
  }

  /** What the executor made of a desired spec; a report on an older generation means nothing now. */
  protected onEndpointSettled(
    stage: StageName,
    generation: number,
    outcome: 'converged' | 'failed',
    reason?: string,
  ): void {
    const desired = this.state.desired?.[stage];
    if (!desired || desired.generation !== generation || desired.settled?.generation === generation) return;
    desired.settled = { generation, outcome, reason, at: this.now };
    if (outcome === 'failed') {
      this.note(`${desired.endpointName}: SageMaker refused generation ${generation}: ${reason}`);
      this.onCommandFailed(desired.deploymentId, 'endpoint change', reason ?? 'refused');
    }
  }

  protected onCommandFailed(id: string, command: string, reason: string): void {
    const d = this.find(id);
    if (!d || isTerminal(d.phase)) return;
    const why = `${command} failed: ${reason}`;
    if (d.phase === 'Canary') return this.stop(d, 'Failed', why);
    // SageMaker refused the blue/green update itself (configuration, permission): prod never moved,
    // and the model is not to blame, so it is neither rolled back nor rejected
    if (d.phase === 'NativeShifting') return this.finish(d, 'Failed', `prod deployment refused: ${why}`);
    if (d.awaiting) return this.stageFailed(d, why);
    this.finish(d, 'Failed', why);
  }

  protected stageFailed(d: Deployment, reason: string): void {
    switch (d.phase) {
      case 'QaDeploying':
        this.registry(d, 'QA', 'Failed', reason);
        return this.finish(d, 'Failed', `QA deployment failed: ${reason}`);
      case 'NativeShifting':
        this.block(d.version, `rolled back (${reason})`);
        return this.finish(d, 'RolledBack', reason);
      case 'ProdDeploying':
      case 'Promoting':
        if (d.prodPlan === 'replace') return this.finish(d, 'Failed', `prod deployment failed: ${reason}`);
        // prod may hold both variants: put it back on the baseline alone
        d.awaiting = undefined;
        return this.stop(d, 'Failed', `prod deployment failed: ${reason}`);
      case 'RollingBack':
        // the version stays out: the registry must say Rejected, or a later update of the package
        // (still Approved) would look like a new approval and lift the block
        if (d.rollbackOutcome === 'RolledBack')
          this.rejectInRegistry(d, `rollback did not complete: ${reason}`);
        return this.finish(d, 'Failed', `rollback did not complete: ${reason}; prod needs an operator`);
      default:
        return this.finish(d, 'Failed', reason);
    }
  }

  protected watchForDrift(d: Deployment, endpoint: EndpointObservation | null): void {
    const c = d.canary!;
    if (c.paused || !endpoint || endpoint.status !== 'InService') return;
    // until the executor has seen the endpoint on the newest spec, a difference is our own change in flight
    const desired = this.state.desired?.prod;
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
    this.history(d, 'Canary', 'Canary', `paused: drift detected: ${drift}`);
    this.publish('Drift Detected', d, { drift });
    this.publish('Deployment Paused', d, { reason: `drift: ${drift}` });
  }

  protected startNextQueued(): void {
    const active = this.active();
    if (active.some((d) => d.phase !== 'Queued')) return;
    const queued = active.filter((d) => d.phase === 'Queued').sort((a, b) => b.version - a.version);
    const [next, ...older] = queued;
    if (!next) return;
    for (const o of older) this.move(o, 'Superseded', `v${next.version} is newer`);
    this.startQa(next);
  }
}
