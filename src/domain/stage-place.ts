import type { GroupConfig } from '../config/schema';
import { type Deployment, isTerminal, type Phase, PROD_PHASES, type StageName } from './model';

/** A stage and the region its endpoint is in, as history entries and service events name them. */
export interface StagePlace {
  stage: StageName;
  region: string;
}

const QA_STAGE_PHASES: ReadonlySet<Phase> = new Set([
  'QaDeploying',
  'QaVerifying',
  'AwaitingApproval',
  'ReadyForProd',
]);

/**
 * The stage a deployment in `phase` is in. A queued deployment is in none yet; of the endings only
 * `Succeeded` says where (the target stage): the others belong to the phase they left.
 */
export const stageOfPhase = (d: Pick<Deployment, 'targetStage'>, phase: Phase): StageName | undefined => {
  if (PROD_PHASES.has(phase)) return 'prod';
  if (QA_STAGE_PHASES.has(phase)) return 'qa';
  if (phase === 'Succeeded') return d.targetStage;
  return undefined;
};

/** The stage of a transition: an ending happens in the stage of the phase it leaves. */
export const stageOfMove = (
  d: Pick<Deployment, 'targetStage'>,
  from: Phase | null,
  to: Phase,
): StageName | undefined => stageOfPhase(d, isTerminal(to) && from !== null ? from : to);

/** The stage's own region when it names one, else the service's. */
export const placeOf = (
  group: GroupConfig,
  serviceRegion: string,
  stage: StageName | undefined,
): StagePlace | undefined =>
  stage === undefined ? undefined : { stage, region: group.stages[stage].region ?? serviceRegion };
