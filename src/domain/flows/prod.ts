import type { StageName } from '../../config/schema';
import {
  answerStage,
  type Draft,
  desire,
  desireWeights,
  find,
  type HistoryExtra,
  history,
  KEPT_KNOWN_GOOD,
  markInRegistry,
  move,
  publish,
} from '../draft';
import { judgeCanary, phaseAlphaShare } from '../judge';
import {
  type CanaryState,
  type Deployment,
  type GateReadings,
  type Phase,
  PROD_PHASES,
  type ServingVersion,
  type VariantSpec,
} from '../model';
import { endpointConfigName, modelName, NATIVE_VARIANT_NAME, variantName } from '../naming';
import { preTrafficChecks } from './pre-traffic';
import { startNextQueued } from './qa';
import { stop } from './rollback';
import { scaleCandidate, scalePromoted } from './scaling';
import { onShadowObserved, startShadowConfig } from './shadow';

/**
 * How a rollback that no statistical test decided begins its reason (no data after the extensions,
 * the maximum duration, an alarm): alpha, the judge's false-rollback rate, does not cover it.
 */
export const NOT_STATISTICAL = 'not a statistical verdict:';

/** How long a pre-traffic check may keep failing to complete when the canary sets no `maxDurationMinutes`. */
export const PRE_TRAFFIC_LIMIT_MINUTES = 60;

/** The variant a version already serving runs as, at the given weight. */
export const servingVariant = (serving: ServingVersion, weight: number): VariantSpec => ({
  variantName: serving.variantName,
  modelName: serving.modelName,
  packageArn: serving.packageArn,
  version: serving.version,
  weight,
});

/** Prod and the canary: candidate alone, canary config or SageMaker blue/green, steps judged on their gates, promotion. */

export function deploy(
  t: Draft,
  d: Deployment,
  stage: StageName,
  endpointName: string,
  variants: VariantSpec[],
  phase: Phase,
  reason: string,
  options: { native?: boolean; drainFirst?: boolean; extra?: HistoryExtra } = {},
): string {
  // the capacity is part of the content: a changed instance type or count is a new config
  const capacity = t.ctx.group.stages[stage];
  const configName = endpointConfigName(
    endpointName,
    variants,
    JSON.stringify([capacity.instanceType, capacity.instanceCount, capacity.serverless]),
  );
  d.awaiting = { stage, endpointName, configName, variants, requestedAt: t.now };
  desire(t, {
    stage,
    endpointName,
    configName,
    variants,
    // a shadow variant has no traffic weight: its own weight is its sampling percentage
    weights: Object.fromEntries(variants.filter((v) => !v.shadow).map((v) => [v.variantName, v.weight])),
    deploymentId: d.id,
    native: options.native || undefined,
    drainFirst: options.drainFirst || undefined,
  });
  move(t, d, phase, reason, options.extra);
  return configName;
}

export function variantFor(
  _t: Draft,
  d: Deployment,
  weight: number,
  name = variantName(d.version),
): VariantSpec {
  return {
    variantName: name,
    modelName: modelName(d.group, d.version),
    packageArn: d.packageArn,
    version: d.version,
    weight,
  };
}

/** When a version that passed QA may enter prod (the bake between the two stages). */
export const bakeWords = (bakeUntil: number): string =>
  `baking in QA: enters prod no sooner than ${new Date(bakeUntil).toISOString()} (promotion.bakeMinutes)`;

export function tryStartProd(t: Draft, d: Deployment): void {
  if (d.bakeUntil !== undefined && t.now < d.bakeUntil) {
    d.reason = bakeWords(d.bakeUntil);
    return;
  }
  const holder = t.state.deployments.find((o) => o !== d && PROD_PHASES.has(o.phase));
  if (holder) {
    // the concurrency policy, in the prod stage: a promotion or a rollback under way always finishes
    const settling = holder.phase === 'Promoting' || holder.phase === 'RollingBack';
    const policy = t.ctx.group.concurrency;
    if (!settling && policy === 'reject') {
      move(t, d, 'Failed', `refused by the concurrency policy: ${holder.id} in prod (${holder.phase})`);
      return;
    }
    if (!settling && policy === 'supersede') stop(t, holder, 'Superseded', `superseded by v${d.version}`);
    const stillHolding = PROD_PHASES.has(holder.phase);
    if (stillHolding) {
      d.reason = `waiting for ${holder.id} (${holder.phase}) to release prod`;
      return;
    }
  }
  enterProd(t, d);
  // d left QA for prod (or ended): the next queued version may take QA
  startNextQueued(t);
}

function enterProd(t: Draft, d: Deployment): void {
  const prodStage = t.ctx.group.stages.prod;
  const serving = t.state.prod;
  if (serving?.version === d.version) {
    answerStage(t, d, 'prod');
    move(t, d, 'Succeeded', `v${d.version} already serves prod`);
    return;
  }
  if (prodStage.strategy.type === 'native') {
    d.prodPlan = 'native';
    const variants = [variantFor(t, d, 100, NATIVE_VARIANT_NAME)];
    deploy(
      t,
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
    deploy(
      t,
      d,
      'prod',
      prodStage.endpointName,
      [variantFor(t, d, 100)],
      'ProdDeploying',
      `first prod deployment: v${d.version} alone`,
    );
    return;
  }
  if (prodStage.strategy.shadow) return startShadowConfig(t, d, serving, prodStage.strategy.shadow);
  deployCanaryConfig(t, d, serving, `canary config: v${serving.version} 100% / v${d.version} 0%`);
}

/** Prod moves to baseline 100 + candidate 0 (after the shadow phase, if any). */
export function deployCanaryConfig(t: Draft, d: Deployment, serving: ServingVersion, reason: string): void {
  // the candidate joins at weight 0: no user reaches it before its pre-traffic check and step 1
  const baseline = servingVariant(serving, 100);
  const candidate = variantFor(t, d, 0);
  d.prodPlan = 'canary';
  const configName = deploy(
    t,
    d,
    'prod',
    t.ctx.group.stages.prod.endpointName,
    [baseline, candidate],
    'ProdDeploying',
    reason,
  );
  d.canary = {
    ...d.canary,
    ...newCanary(t, configName, serving.version, baseline, candidate, {
      [baseline.variantName]: baseline.weight,
      [candidate.variantName]: candidate.weight,
    }),
  };
}

/** A canary on a newly requested prod config, before its first step (or its shadow phase). */
export function newCanary(
  t: Draft,
  configName: string,
  baselineVersion: number,
  baseline: VariantSpec,
  candidate: VariantSpec,
  weights: Record<string, number>,
): CanaryState {
  return {
    configName,
    baselineVersion,
    baselineVariant: baseline.variantName,
    candidateVariant: candidate.variantName,
    stepIndex: 0,
    stepStartedAt: t.now,
    bakeUntil: t.now,
    extensions: 0,
    startedAt: t.now,
    paused: false,
    weights,
  };
}

export function canaryConfigLive(t: Draft, d: Deployment): void {
  d.awaiting = undefined;
  const checks = preTrafficChecks(t.ctx.group.stages.prod);
  if (checks.length === 0) return startCanary(t, d, 'no pre-traffic check configured');
  move(
    t,
    d,
    'ProdVerifying',
    `v${d.version} in prod at weight 0; invoking it with TargetVariant: ${checks.join(', ')}`,
    { weights: { ...d.canary!.weights } },
  );
}

/** Step 1 gets its weight. */
export function startCanary(t: Draft, d: Deployment, why: string): void {
  const c = d.canary!;
  const step = canarySteps(t)[0]!;
  c.stepIndex = 0;
  c.stepStartedAt = t.now;
  c.startedAt = t.now;
  c.bakeUntil = t.now + step.bakeMinutes * 60_000;
  c.extensions = 0;
  c.weights = { [c.baselineVariant]: 100 - step.weight, [c.candidateVariant]: step.weight };
  scaleCandidateFor(t, d, step.weight);
  setWeights(t, c.weights);
  d.awaiting = undefined;
  move(t, d, 'Canary', `${why}; step 1/${canarySteps(t).length}: ${step.weight}% to v${d.version}`, {
    weights: { ...c.weights },
  });
}

/** Before the candidate's weight rises: its scaling sized for that weight (when the baseline has any). */
export function scaleCandidateFor(t: Draft, d: Deployment, weight: number): void {
  const command = scaleCandidate(d, t.ctx.group.stages.prod.endpointName, weight);
  if (command) t.commands.push(command);
}

export function canarySteps(t: Draft) {
  const strategy = t.ctx.group.stages.prod.strategy;
  return strategy.type === 'canary' ? strategy.steps : [];
}

export function onCanaryObserved(t: Draft, id: string, readings: GateReadings): void {
  const d = find(t, id);
  if (d?.phase === 'Shadow') return onShadowObserved(t, d, readings);
  const strategy = t.ctx.group.stages.prod.strategy;
  if (d?.phase !== 'Canary' || !d.canary || strategy.type !== 'canary') return;
  const c = d.canary;
  const verdict = judgeCanary(
    readings,
    strategy.gates,
    { ...c, alphaShare: phaseAlphaShare('canary', c.shadow !== undefined) },
    t.now,
  );
  readings = verdict.readings;
  c.lastReadings = readings;
  const steps = strategy.steps;
  // the configuration may have lost steps since this one started: the last one left stands in
  c.stepIndex = Math.min(c.stepIndex, steps.length - 1);
  const step = steps[c.stepIndex]!;
  const where = `step ${c.stepIndex + 1}/${steps.length} (${step.weight}%)`;
  if (verdict.status === 'rollback') {
    stop(t, d, 'RolledBack', `gate failed at ${where}: ${verdict.reasons.join('; ')}`, readings);
    return;
  }
  if (stopIfOverdue(t, d)) return;
  // the bake's last minutes must be settled in CloudWatch before they can pass it
  if (
    c.paused ||
    t.now < c.bakeUntil ||
    (readings.settledUntil ?? t.now) < Math.floor(c.bakeUntil / 60_000) * 60_000
  )
    return;
  if (verdict.status === 'insufficient') {
    const noData = strategy.gates.noData;
    if (noData.action === 'fail') {
      stop(
        t,
        d,
        'RolledBack',
        `${NOT_STATISTICAL} no verdict at ${where}: ${verdict.reasons.join('; ')}`,
        readings,
      );
      return;
    }
    if (noData.action === 'extend') {
      if (c.extensions >= noData.maxExtensions) {
        stop(
          t,
          d,
          'RolledBack',
          `${NOT_STATISTICAL} no verdict at ${where} after ${c.extensions} extensions: ${verdict.reasons.join('; ')}`,
          readings,
        );
        return;
      }
      c.extensions += 1;
      c.bakeUntil = t.now + step.bakeMinutes * 60_000;
      history(
        t,
        d,
        'Canary',
        'Canary',
        `bake extended (${c.extensions}/${noData.maxExtensions}) at ${where}: ${verdict.reasons.join('; ')}`,
        { readings },
      );
      return;
    }
  }
  publish(t, 'Canary Step Passed', d, {
    step: c.stepIndex + 1,
    steps: steps.length,
    weight: step.weight,
    readings,
    summary: verdict.reasons.join('; '),
  });
  history(t, d, 'Canary', 'Canary', `${where} passed: ${verdict.reasons.join('; ')}`, {
    readings,
    weights: { ...c.weights },
  });
  if (c.stepIndex + 1 >= steps.length) {
    promote(t, d, `all ${steps.length} steps passed`);
    return;
  }
  setStep(t, d, c.stepIndex + 1);
}

/** Max duration is judged from the clock alone: no metrics, no endpoint observation needed. */
export function stopIfOverdue(t: Draft, d: Deployment): boolean {
  const strategy = t.ctx.group.stages.prod.strategy;
  if (d.phase === 'ProdVerifying') {
    // a check SageMaker keeps refusing (throttling) is retried every tick, but not forever, with or
    // without a canary cap; the candidate never served users, and the version is not to blame, so
    // it is not rejected
    const limit =
      (strategy.type === 'canary' ? strategy.maxDurationMinutes : undefined) ?? PRE_TRAFFIC_LIMIT_MINUTES;
    if (t.now - d.phaseSince <= limit * 60_000) return false;
    stop(t, d, 'Failed', `the pre-traffic check did not complete within ${limit} min`);
    return true;
  }
  if ((d.phase !== 'Canary' && d.phase !== 'Shadow') || !d.canary) return false;
  if (strategy.type !== 'canary') {
    // the shadow's verdict and the canary's steps are the canary strategy's: without it neither
    // could ever end, and the deployment would hold prod for good
    const during = d.phase === 'Shadow' ? 'the shadow phase' : 'the canary';
    stop(t, d, 'Aborted', `the prod strategy changed to ${strategy.type} during ${during}`);
    return true;
  }
  if (d.phase !== 'Canary') return false;
  const limit = strategy.maxDurationMinutes;
  if (limit === undefined || t.now - d.canary.startedAt <= limit * 60_000) return false;
  stop(t, d, 'RolledBack', `${NOT_STATISTICAL} canary exceeded its maximum duration of ${limit} min`);
  return true;
}

export function setStep(t: Draft, d: Deployment, index: number, who: HistoryExtra = {}): void {
  const c = d.canary!;
  const step = canarySteps(t)[index]!;
  c.stepIndex = index;
  c.stepStartedAt = t.now;
  c.bakeUntil = t.now + step.bakeMinutes * 60_000;
  c.extensions = 0;
  c.weights = { [c.baselineVariant]: 100 - step.weight, [c.candidateVariant]: step.weight };
  scaleCandidateFor(t, d, step.weight);
  setWeights(t, c.weights);
  history(
    t,
    d,
    'Canary',
    'Canary',
    `step ${index + 1}/${canarySteps(t).length}: ${step.weight}% to v${d.version}`,
    {
      weights: { ...c.weights },
      ...who,
    },
  );
}

export function setWeights(t: Draft, weights: Record<string, number>): void {
  desireWeights(t, 'prod', weights);
}

export function promote(t: Draft, d: Deployment, reason: string, who: HistoryExtra = {}): void {
  const prodStage = t.ctx.group.stages.prod;
  deploy(t, d, 'prod', prodStage.endpointName, [variantFor(t, d, 100)], 'Promoting', `promoting: ${reason}`, {
    extra: who,
  });
}

/** d is live on prod alone. */
export function promoted(t: Draft, d: Deployment, configName: string, variant: string): void {
  const previous = t.state.prod;
  const serving: ServingVersion = {
    version: d.version,
    packageArn: d.packageArn,
    modelName: modelName(d.group, d.version),
    variantName: variant,
    configName,
  };
  t.state.prod = serving;
  t.state.knownGood = [...t.state.knownGood.filter((k) => k.version !== d.version), serving].slice(
    -KEPT_KNOWN_GOOD,
  );
  d.awaiting = undefined;
  const scaling = scalePromoted(d, t.ctx.group.stages.prod.endpointName);
  if (scaling) t.commands.push(scaling);
  markInRegistry(t, d, 'Production', 'Deployed', `serving all production traffic`);
  if (previous && previous.version !== d.version) {
    t.commands.push({
      type: 'UpdateRegistry',
      packageArn: previous.packageArn,
      lifecycle: { stage: 'Production', status: 'Superseded', description: `superseded by v${d.version}` },
    });
    const configNames = [previous.configName, d.canary?.configName].filter(
      (n): n is string => !!n && n !== configName,
    );
    const modelNames = t.state.qa?.version === previous.version ? [] : [previous.modelName];
    t.commands.push({ type: 'RetireResources', group: d.group, stage: 'prod', modelNames, configNames });
  }
  if (d.retireOnSuccess) {
    t.commands.push({ type: 'RetireResources', group: d.group, stage: 'prod', ...d.retireOnSuccess });
    d.retireOnSuccess = undefined;
  }
  publish(t, 'Deployment Promoted', d, {
    endpointName: t.ctx.group.stages.prod.endpointName,
    previousVersion: previous?.version,
  });
  answerStage(t, d, 'prod');
  move(t, d, 'Succeeded', `v${d.version} serves all production traffic`);
}
