import type { StageName } from '../../config/schema';
import { judgeCanary } from '../judge';
import {
  type CallbackWait,
  type Deployment,
  type GateReadings,
  type PackageInfo,
  type Phase,
  PROD_PHASES,
  type ServingVersion,
  type Trigger,
  type VariantSpec,
} from '../model';
import { deploymentId, endpointConfigName, modelName, NATIVE_VARIANT_NAME, variantName } from '../naming';
import { preTrafficChecks } from '../pre-traffic';
import { scaleCandidate, scalePromoted } from '../scaling-flow';
import { type HistoryExtra, KEPT_KNOWN_GOOD, TransitionBase } from './base';

/** The variant a version already serving runs as, at the given weight. */
export const servingVariant = (serving: ServingVersion, weight: number): VariantSpec => ({
  variantName: serving.variantName,
  modelName: serving.modelName,
  packageArn: serving.packageArn,
  version: serving.version,
  weight,
});

/**
 * The way forward: a deployment requested, QA, the smoke test, prod (candidate alone, canary
 * config or SageMaker blue/green), canary steps judged on their gates, and promotion.
 */
export abstract class StageTransition extends TransitionBase {
  /** Ends a deployment that has not finished, rolling prod back first if it touched it. */
  protected abstract stop(
    d: Deployment,
    outcome: 'RolledBack' | 'Aborted' | 'Superseded' | 'Failed',
    reason: string,
    readings?: GateReadings,
  ): void;

  /**
   * A new deployment of `pkg`, subject to the group's concurrency policy. Versions older than one
   * already started are superseded at once, so the outcome does not depend on event order.
   */
  protected requestDeployment(
    pkg: PackageInfo,
    trigger: Trigger,
    targetStage: StageName,
    callback: CallbackWait | undefined,
  ): Deployment {
    const attempt = Math.max(0, ...this.deploymentsFor(pkg.version).map((d) => d.attempt)) + 1;
    const d: Deployment = {
      id: deploymentId(pkg.group, pkg.version, attempt),
      group: pkg.group,
      version: pkg.version,
      packageArn: pkg.arn,
      attempt,
      trigger,
      targetStage,
      phase: 'Queued',
      createdAt: this.now,
      phaseSince: this.now,
      callbacks: callback ? [callback] : [],
      seq: 0,
    };
    this.state.deployments.push(d);
    this.history(d, null, 'Queued', `requested by ${trigger}`);
    this.publish('Deployment Started', d, { trigger, targetStage, packageArn: pkg.arn });

    if (pkg.version < this.state.highestVersion && trigger === 'approval') {
      this.move(d, 'Superseded', `v${this.state.highestVersion} is newer`);
      return d;
    }
    this.state.highestVersion = Math.max(this.state.highestVersion, pkg.version);
    const others = this.active().filter((o) => o !== d && o.phase !== 'RollingBack');
    if (others.length === 0) {
      this.startQa(d);
      return d;
    }
    switch (this.ctx.group.concurrency) {
      case 'reject': {
        const names = others.map((o) => o.id).join(', ');
        this.move(d, 'Failed', `refused by the concurrency policy: ${names} in progress`);
        return d;
      }
      case 'queue': {
        for (const o of others) {
          if (o.phase === 'Queued' && o.version < d.version) {
            this.move(o, 'Superseded', `v${d.version} is newer`);
          }
        }
        if (this.active().some((o) => o !== d && o.phase !== 'Queued')) {
          d.reason = `queued behind ${others.map((o) => o.id).join(', ')}`;
        } else {
          this.startQa(d);
        }
        return d;
      }
      case 'supersede': {
        for (const o of others) {
          if (o.phase === 'Promoting') continue;
          this.stop(o, 'Superseded', `superseded by v${d.version}`);
        }
        this.startQa(d);
        return d;
      }
    }
  }

  protected startQa(d: Deployment): void {
    if (d.phase !== 'Queued') return;
    const stage = this.ctx.group.stages.qa;
    const variants = [this.variantFor(d, 100)];
    this.deploy(d, 'qa', stage.endpointName, variants, 'QaDeploying', `deploying v${d.version} to QA`);
  }

  protected deploy(
    d: Deployment,
    stage: StageName,
    endpointName: string,
    variants: VariantSpec[],
    phase: Phase,
    reason: string,
    options: { native?: boolean; drainFirst?: boolean; extra?: HistoryExtra } = {},
  ): string {
    // the capacity is part of the content: a changed instance type or count is a new config
    const capacity = this.ctx.group.stages[stage];
    const configName = endpointConfigName(
      endpointName,
      variants,
      JSON.stringify([capacity.instanceType, capacity.instanceCount, capacity.serverless]),
    );
    d.awaiting = { stage, endpointName, configName, variants, requestedAt: this.now };
    this.desire({
      stage,
      endpointName,
      configName,
      variants,
      weights: Object.fromEntries(variants.map((v) => [v.variantName, v.weight])),
      deploymentId: d.id,
      native: options.native || undefined,
      drainFirst: options.drainFirst || undefined,
    });
    this.move(d, phase, reason, options.extra);
    return configName;
  }

  protected variantFor(d: Deployment, weight: number, name = variantName(d.version)): VariantSpec {
    return {
      variantName: name,
      modelName: modelName(d.group, d.version),
      packageArn: d.packageArn,
      version: d.version,
      weight,
    };
  }

  protected onSmokeTested(id: string, ok: boolean, detail: string): void {
    const d = this.find(id);
    if (d?.phase !== 'QaVerifying') return;
    if (!ok) {
      this.registry(d, 'QA', 'Failed', `smoke test failed: ${detail}`);
      this.move(d, 'Failed', `QA smoke test failed: ${detail}`);
      return;
    }
    this.qaPassed(d, `smoke test passed: ${detail}`);
  }

  protected qaPassed(d: Deployment, reason: string): void {
    const qa = this.ctx.group.stages.qa;
    const awaiting = d.awaiting;
    const previous = this.state.qa;
    if (previous && awaiting && previous.configName && previous.configName !== awaiting.configName) {
      // QA now runs the new config: the old one (and its model, unless prod still runs it) goes
      const inProd = this.state.prod?.version === previous.version;
      this.commands.push({
        type: 'RetireResources',
        group: d.group,
        stage: 'qa',
        modelNames: inProd || previous.version === d.version ? [] : [previous.modelName],
        configNames: [previous.configName],
      });
    }
    this.state.qa = {
      version: d.version,
      packageArn: d.packageArn,
      modelName: modelName(d.group, d.version),
      variantName: variantName(d.version),
      configName: awaiting?.configName ?? '',
    };
    d.awaiting = undefined;
    this.registry(d, 'QA', 'Deployed', reason);
    this.publish('Stage Deployed', d, { stage: 'qa', endpointName: qa.endpointName, reason });
    this.answerStage(d, 'qa');
    if (d.targetStage === 'qa') {
      this.move(d, 'Succeeded', `live in QA (${reason})`);
      return;
    }
    if (this.ctx.group.promotion.mode === 'manual') {
      d.approvalDeadline = this.now + this.ctx.group.promotion.approvalTimeoutMinutes * 60_000;
      this.move(d, 'AwaitingApproval', `QA verified (${reason}); waiting for promote`);
      this.publish('Awaiting Approval', d, { approvalDeadline: new Date(d.approvalDeadline).toISOString() });
      return;
    }
    this.move(d, 'ReadyForProd', `QA verified (${reason})`);
    this.tryStartProd(d);
  }

  protected tryStartProd(d: Deployment): void {
    const holder = this.state.deployments.find((o) => o !== d && PROD_PHASES.has(o.phase));
    if (holder) {
      d.reason = `waiting for ${holder.id} (${holder.phase}) to release prod`;
      return;
    }
    const prodStage = this.ctx.group.stages.prod;
    const serving = this.state.prod;
    if (serving?.version === d.version) {
      this.answerStage(d, 'prod');
      this.move(d, 'Succeeded', `v${d.version} already serves prod`);
      return;
    }
    if (prodStage.strategy.type === 'native') {
      d.prodPlan = 'native';
      const variants = [this.variantFor(d, 100, NATIVE_VARIANT_NAME)];
      this.deploy(
        d,
        'prod',
        prodStage.endpointName,
        variants,
        'NativeShifting',
        `SageMaker blue/green ${prodStage.strategy.trafficRouting.type} to v${d.version}`,
        { native: true },
      );
      return;
    }
    if (!serving) {
      d.prodPlan = 'replace';
      this.deploy(
        d,
        'prod',
        prodStage.endpointName,
        [this.variantFor(d, 100)],
        'ProdDeploying',
        `first prod deployment: v${d.version} alone`,
      );
      return;
    }
    // the candidate joins at weight 0: no user reaches it before its pre-traffic check and step 1
    const baseline = servingVariant(serving, 100);
    const candidate = this.variantFor(d, 0);
    d.prodPlan = 'canary';
    const configName = this.deploy(
      d,
      'prod',
      prodStage.endpointName,
      [baseline, candidate],
      'ProdDeploying',
      `canary config: v${serving.version} 100% / v${d.version} 0%`,
    );
    d.canary = {
      configName,
      baselineVersion: serving.version,
      baselineVariant: baseline.variantName,
      candidateVariant: candidate.variantName,
      stepIndex: 0,
      stepStartedAt: this.now,
      bakeUntil: this.now,
      extensions: 0,
      startedAt: this.now,
      paused: false,
      weights: { [baseline.variantName]: baseline.weight, [candidate.variantName]: candidate.weight },
    };
  }

  /** The canary config is live with the candidate at weight 0: check it there first, if anything is configured. */
  protected canaryConfigLive(d: Deployment): void {
    d.awaiting = undefined;
    const checks = preTrafficChecks(this.ctx.group.stages.prod);
    if (checks.length === 0) return this.startCanary(d, 'no pre-traffic check configured');
    this.move(
      d,
      'ProdVerifying',
      `v${d.version} in prod at weight 0; invoking it with TargetVariant: ${checks.join(', ')}`,
      { weights: { ...d.canary!.weights } },
    );
  }

  /** Step 1 gets its weight. */
  protected startCanary(d: Deployment, why: string): void {
    const c = d.canary!;
    const step = this.canarySteps()[0]!;
    c.stepIndex = 0;
    c.stepStartedAt = this.now;
    c.startedAt = this.now;
    c.bakeUntil = this.now + step.bakeMinutes * 60_000;
    c.extensions = 0;
    c.weights = { [c.baselineVariant]: 100 - step.weight, [c.candidateVariant]: step.weight };
    this.scaleCandidateFor(d, step.weight);
    this.setWeights(c.weights);
    d.awaiting = undefined;
    this.move(d, 'Canary', `${why}; step 1/${this.canarySteps().length}: ${step.weight}% to v${d.version}`, {
      weights: { ...c.weights },
    });
  }

  protected canarySteps() {
    const strategy = this.ctx.group.stages.prod.strategy;
    return strategy.type === 'canary' ? strategy.steps : [];
  }

  protected onCanaryObserved(id: string, readings: GateReadings): void {
    const d = this.find(id);
    const strategy = this.ctx.group.stages.prod.strategy;
    if (d?.phase !== 'Canary' || !d.canary || strategy.type !== 'canary') return;
    const c = d.canary;
    const verdict = judgeCanary(readings, strategy.gates, c, this.now);
    readings = verdict.readings;
    c.lastReadings = readings;
    const steps = strategy.steps;
    // the configuration may have lost steps since this one started: the last one left stands in
    c.stepIndex = Math.min(c.stepIndex, steps.length - 1);
    const step = steps[c.stepIndex]!;
    const where = `step ${c.stepIndex + 1}/${steps.length} (${step.weight}%)`;
    if (verdict.status === 'rollback') {
      this.stop(d, 'RolledBack', `gate failed at ${where}: ${verdict.reasons.join('; ')}`, readings);
      return;
    }
    if (this.stopIfOverdue(d)) return;
    // the bake's last minutes must be settled in CloudWatch before they can pass it
    if (
      c.paused ||
      this.now < c.bakeUntil ||
      (readings.settledUntil ?? this.now) < Math.floor(c.bakeUntil / 60_000) * 60_000
    )
      return;
    if (verdict.status === 'insufficient') {
      const noData = strategy.gates.noData;
      if (noData.action === 'fail') {
        this.stop(d, 'RolledBack', `no verdict at ${where}: ${verdict.reasons.join('; ')}`, readings);
        return;
      }
      if (noData.action === 'extend') {
        if (c.extensions >= noData.maxExtensions) {
          this.stop(
            d,
            'RolledBack',
            `no verdict at ${where} after ${c.extensions} extensions: ${verdict.reasons.join('; ')}`,
            readings,
          );
          return;
        }
        c.extensions += 1;
        c.bakeUntil = this.now + step.bakeMinutes * 60_000;
        this.history(
          d,
          'Canary',
          'Canary',
          `bake extended (${c.extensions}/${noData.maxExtensions}) at ${where}: ${verdict.reasons.join('; ')}`,
          { readings },
        );
        return;
      }
    }
    this.publish('Canary Step Passed', d, {
      step: c.stepIndex + 1,
      steps: steps.length,
      weight: step.weight,
      readings,
      summary: verdict.reasons.join('; '),
    });
    this.history(d, 'Canary', 'Canary', `${where} passed: ${verdict.reasons.join('; ')}`, {
      readings,
      weights: { ...c.weights },
    });
    if (c.stepIndex + 1 >= steps.length) {
      this.promote(d, `all ${steps.length} steps passed`);
      return;
    }
    this.setStep(d, c.stepIndex + 1);
  }

  /** Max duration is judged from the clock alone: no metrics, no endpoint observation needed. */
  protected stopIfOverdue(d: Deployment): boolean {
    const strategy = this.ctx.group.stages.prod.strategy;
    if (d.phase !== 'Canary' || !d.canary) return false;
    if (strategy.type !== 'canary') {
      this.stop(d, 'Aborted', `the prod strategy changed to ${strategy.type} during the canary`);
      return true;
    }
    const limit = strategy.maxDurationMinutes;
    if (limit === undefined || this.now - d.canary.startedAt <= limit * 60_000) return false;
    this.stop(d, 'RolledBack', `canary exceeded its maximum duration of ${limit} min`);
    return true;
  }

  protected setStep(d: Deployment, index: number): void {
    const c = d.canary!;
    const step = this.canarySteps()[index]!;
    c.stepIndex = index;
    c.stepStartedAt = this.now;
    c.bakeUntil = this.now + step.bakeMinutes * 60_000;
    c.extensions = 0;
    c.weights = { [c.baselineVariant]: 100 - step.weight, [c.candidateVariant]: step.weight };
    this.scaleCandidateFor(d, step.weight);
    this.setWeights(c.weights);
    this.history(
      d,
      'Canary',
      'Canary',
      `step ${index + 1}/${this.canarySteps().length}: ${step.weight}% to v${d.version}`,
      {
        weights: { ...c.weights },
      },
    );
  }

  /** Before the candidate's weight rises: its scaling sized for that weight (when the baseline has any). */
  protected scaleCandidateFor(d: Deployment, weight: number): void {
    const command = scaleCandidate(d, this.ctx.group.stages.prod.endpointName, weight);
    if (command) this.commands.push(command);
  }

  protected setWeights(weights: Record<string, number>): void {
    this.desireWeights('prod', weights);
  }

  protected promote(d: Deployment, reason: string): void {
    const prodStage = this.ctx.group.stages.prod;
    this.deploy(
      d,
      'prod',
      prodStage.endpointName,
      [this.variantFor(d, 100)],
      'Promoting',
      `promoting: ${reason}`,
    );
  }

  /** d is live on prod alone. */
  protected promoted(d: Deployment, configName: string, variant: string): void {
    const previous = this.state.prod;
    const serving: ServingVersion = {
      version: d.version,
      packageArn: d.packageArn,
      modelName: modelName(d.group, d.version),
      variantName: variant,
      configName,
    };
    this.state.prod = serving;
    this.state.knownGood = [...this.state.knownGood.filter((k) => k.version !== d.version), serving].slice(
      -KEPT_KNOWN_GOOD,
    );
    d.awaiting = undefined;
    const scaling = scalePromoted(d, this.ctx.group.stages.prod.endpointName);
    if (scaling) this.commands.push(scaling);
    this.registry(d, 'Production', 'Deployed', `serving all production traffic`);
    if (previous && previous.version !== d.version) {
      this.commands.push({
        type: 'UpdateRegistry',
        packageArn: previous.packageArn,
        lifecycle: { stage: 'Production', status: 'Superseded', description: `superseded by v${d.version}` },
      });
      const configNames = [previous.configName, d.canary?.configName].filter(
        (n): n is string => !!n && n !== configName,
      );
      const modelNames = this.state.qa?.version === previous.version ? [] : [previous.modelName];
      this.commands.push({ type: 'RetireResources', group: d.group, stage: 'prod', modelNames, configNames });
    }
    if (d.retireOnSuccess) {
      this.commands.push({ type: 'RetireResources', group: d.group, stage: 'prod', ...d.retireOnSuccess });
      d.retireOnSuccess = undefined;
    }
    this.publish('Deployment Promoted', d, {
      endpointName: this.ctx.group.stages.prod.endpointName,
      previousVersion: previous?.version,
    });
    this.answerStage(d, 'prod');
    this.move(d, 'Succeeded', `v${d.version} serves all production traffic`);
  }
}
