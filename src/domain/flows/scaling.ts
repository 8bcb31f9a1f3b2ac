import { candidateScaling, type VariantScaling } from '../autoscaling';
import { type Draft, find, note } from '../draft';
import { type CanaryState, type Command, type Deployment, PROD_PHASES } from '../model';
import { scaleCandidateFor } from './prod';

/**
 * Autoscaling in the rollout flow, as commands: the candidate's variant gets the equivalent of the
 * baseline's scaling, its minimum sized for its share, before each step raises its weight; after
 * promotion it gets the baseline's own minimum; a rollback puts the baseline's back as read. (The
 * executor deregisters a variant's target before an UpdateEndpoint that removes the variant,
 * which SageMaker requires.)
 */
type ApplyScaling = Extract<Command, { type: 'ApplyScaling' }>;

const apply = (
  d: Deployment,
  endpointName: string,
  variantName: string,
  scaling: ApplyScaling['scaling'],
): ApplyScaling => ({
  type: 'ApplyScaling',
  group: d.group,
  stage: 'prod',
  endpointName,
  variantName,
  scaling,
});

/** The candidate's scaling for a share of traffic (0..100); nothing when the baseline has none. */
export const scaleCandidate = (
  d: Deployment,
  endpointName: string,
  weight: number,
): ApplyScaling | undefined => {
  const c: CanaryState | undefined = d.canary;
  if (!c?.baselineScaling || weight <= 0) return undefined;
  const scaling = candidateScaling({
    baseline: c.baselineScaling,
    baselineVariant: c.baselineVariant,
    candidateVariant: c.candidateVariant,
    candidateShare: weight / 100,
  });
  return apply(d, endpointName, c.candidateVariant, scaling);
};

/** Promoted: the candidate carries everything, with the baseline's own minimum. */
export const scalePromoted = (d: Deployment, endpointName: string): ApplyScaling | undefined => {
  const c = d.canary;
  if (!c?.baselineScaling) return undefined;
  const scaling = candidateScaling({
    baseline: c.baselineScaling,
    baselineVariant: c.baselineVariant,
    candidateVariant: c.candidateVariant,
    candidateShare: 1,
    baselineInstances: c.baselineScaling.minCapacity,
  });
  return apply(d, endpointName, c.candidateVariant, scaling);
};

/** Rolled back: the baseline's scaling as it was read before the canary. */
export const restoreBaseline = (d: Deployment, endpointName: string): ApplyScaling | undefined => {
  const c = d.canary;
  if (!c?.baselineScaling) return undefined;
  return apply(d, endpointName, c.baselineVariant, c.baselineScaling);
};

/** The baseline's scaling, read once per canary; a canary already running scales its candidate now. */
export function onScalingRead(t: Draft, id: string, scaling: VariantScaling | null): void {
  const d = find(t, id);
  if (!d?.canary || d.canary.baselineScaling !== undefined || !PROD_PHASES.has(d.phase)) return;
  d.canary.baselineScaling = scaling;
  const baseline = `v${d.canary.baselineVersion}`;
  if (!scaling) return note(t, `${d.id}: ${baseline} has no autoscaling to carry over`);
  note(
    t,
    `${d.id}: ${baseline} autoscaling ${scaling.minCapacity}-${scaling.maxCapacity} with ${scaling.policies.length} policy(ies) to carry over`,
  );
  if (d.phase === 'Canary') scaleCandidateFor(t, d, d.canary.weights[d.canary.candidateVariant] ?? 0);
}
