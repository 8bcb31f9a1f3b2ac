import type { ShadowConfig } from '../../config/schema';
import { type Draft, history, move } from '../draft';
import { judgeCanary, phaseAlphaShare } from '../judge';
import type { Deployment, GateReadings, ServingVersion } from '../model';
import { deploy, deployCanaryConfig, NOT_STATISTICAL, newCanary, servingVariant, variantFor } from './prod';
import { stop } from './rollback';

/**
 * The shadow phase, before the canary config: prod runs the baseline as its one production
 * variant and the candidate as a SageMaker shadow variant that gets a copy of `samplingPercent` of
 * the requests and answers nobody. The canary's judge compares the two for `bakeMinutes`; a
 * regression ends the deployment before any user request reached the candidate, a pass moves prod
 * to the canary config.
 */
export function startShadowConfig(
  t: Draft,
  d: Deployment,
  serving: ServingVersion,
  shadow: ShadowConfig,
): void {
  const baseline = servingVariant(serving, 100);
  const candidate = { ...variantFor(t, d, shadow.samplingPercent), shadow: true };
  d.prodPlan = 'canary';
  const configName = deploy(
    t,
    d,
    'prod',
    t.ctx.group.stages.prod.endpointName,
    [baseline, candidate],
    'ProdDeploying',
    `shadow config: v${serving.version} serves, v${d.version} gets a copy of ${shadow.samplingPercent}% of its requests`,
  );
  d.canary = {
    ...newCanary(t, configName, serving.version, baseline, candidate, { [baseline.variantName]: 100 }),
    shadow: { configName },
  };
}

/** Whether the config that just became live is the shadow config (the phase not run yet). */
export const shadowPending = (d: Deployment): boolean =>
  !!d.canary?.shadow &&
  d.canary.shadow.until === undefined &&
  d.awaiting?.configName === d.canary.shadow.configName;

/** The shadow config is InService: the judge starts counting. */
export function shadowConfigLive(t: Draft, d: Deployment): void {
  const c = d.canary!;
  const strategy = t.ctx.group.stages.prod.strategy;
  const bakeMinutes = strategy.type === 'canary' ? (strategy.shadow?.bakeMinutes ?? 0) : 0;
  c.startedAt = t.now;
  c.stepStartedAt = t.now;
  c.extensions = 0;
  c.bakeUntil = t.now + bakeMinutes * 60_000;
  c.shadow = { configName: c.shadow!.configName, until: c.bakeUntil };
  d.awaiting = undefined;
  move(
    t,
    d,
    'Shadow',
    `v${d.version} runs as a shadow variant on copies of production requests for ${bakeMinutes} min`,
  );
}

/** The judge's verdict on the shadow's copies against what the baseline served. */
export function onShadowObserved(t: Draft, d: Deployment, observed: GateReadings): void {
  const strategy = t.ctx.group.stages.prod.strategy;
  const c = d.canary;
  if (!c || strategy.type !== 'canary') return;
  const verdict = judgeCanary(
    observed,
    strategy.gates,
    { ...c, alphaShare: phaseAlphaShare('shadow', true) },
    t.now,
  );
  const readings = verdict.readings;
  c.lastReadings = readings;
  if (verdict.status === 'rollback') {
    const reason = `shadow phase caught a regression before any user traffic: ${verdict.reasons.join('; ')}`;
    return stop(t, d, 'RolledBack', reason, readings);
  }
  const settled = (readings.settledUntil ?? t.now) >= Math.floor(c.bakeUntil / 60_000) * 60_000;
  if (t.now < c.bakeUntil || !settled) return;
  if (verdict.status === 'insufficient') {
    const noData = strategy.gates.noData;
    const why = verdict.reasons.join('; ');
    if (noData.action === 'fail')
      return stop(t, d, 'RolledBack', `${NOT_STATISTICAL} no verdict in the shadow phase: ${why}`, readings);
    if (noData.action === 'extend') {
      if (c.extensions >= noData.maxExtensions) {
        const reason = `${NOT_STATISTICAL} no verdict in the shadow phase after ${c.extensions} extensions: ${why}`;
        return stop(t, d, 'RolledBack', reason, readings);
      }
      c.extensions += 1;
      c.bakeUntil = t.now + (strategy.shadow?.bakeMinutes ?? 0) * 60_000;
      history(
        t,
        d,
        'Shadow',
        'Shadow',
        `shadow phase extended (${c.extensions}/${noData.maxExtensions}): ${why}`,
        {
          readings,
        },
      );
      return;
    }
  }
  history(t, d, 'Shadow', 'Shadow', `shadow phase passed: ${verdict.reasons.join('; ')}`, { readings });
  const serving = t.state.prod;
  if (!serving) return stop(t, d, 'Failed', 'prod has no baseline to run the canary against');
  // the shadow config goes once the candidate is promoted or rolled back
  d.retireOnSuccess = { modelNames: [], configNames: [c.configName] };
  deployCanaryConfig(
    t,
    d,
    serving,
    `shadow phase passed; canary config: v${serving.version} 100% / v${d.version} 0%`,
  );
}
