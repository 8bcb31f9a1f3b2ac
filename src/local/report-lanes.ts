import type { GroupConfig } from '../config/schema';
import { inRunOrder } from '../domain/stage-graph';
import type { CloudEvent } from './cloud';
import type { AppliedChange, EndpointChange, VariantRecord } from './cloud/change-log';

/** A stage of a group, where its endpoint is. */
export interface LaneStage {
  group: string;
  stage: string;
  endpoint: string;
  region: string;
  /** the stage's region is not the service's (the lane names it) */
  elsewhere: boolean;
}

/** What one stage's endpoint served to callers from `from` to `to` (ms since the scenario started). */
export interface LaneSegment {
  from: number;
  /** undefined: until the scenario ended */
  to?: number | undefined;
  /** the variants taking traffic and their share in percent, the largest share first */
  serving: Array<{ variant: string; percent: number }>;
  /** the endpoint's status when the segment began */
  status: string;
}

export type LaneOutcome = 'promoted' | 'rolled back' | 'failed' | 'restored';

/** A deployment's outcome in the stage, as the service's event said it. */
export interface LaneMarker {
  at: number;
  outcome: LaneOutcome;
  deploymentId: string;
  version: string;
  region: string;
  reason: string;
}

export interface StageLane extends LaneStage {
  segments: LaneSegment[];
  markers: LaneMarker[];
}

/** Statuses in which an endpoint answers callers (with the variants it had before an update). */
const SERVING = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack']);
const SERVICE_SOURCE = 'sagemaker-rollouts';

/** The stages of the groups a scenario ran, each group's in run order (qa, then prod). */
export const laneStages = (
  groups: Record<string, GroupConfig>,
  ran: string[],
  serviceRegion: string,
): LaneStage[] =>
  ran.flatMap((name) => {
    const group = groups[name];
    if (!group) return [];
    const endpoints = group.stages as Record<string, { endpointName: string } | undefined>;
    return inRunOrder(group.graph).stages.flatMap((stage) => {
      const endpoint = endpoints[stage.name]?.endpointName;
      if (!endpoint) return [];
      const region = stage.region ?? serviceRegion;
      return [{ group: name, stage: stage.name, endpoint, region, elsewhere: region !== serviceRegion }];
    });
  });

/**
 * What each variant serves, in percent: the current weights (what SageMaker applied, not what was
 * asked), and during a blue/green update the new fleet's share of them.
 */
export const servingOf = (change: EndpointChange): LaneSegment['serving'] => {
  if (!SERVING.has(change.status)) return [];
  const shares = new Map<string, number>();
  const add = (variants: VariantRecord[], share: number) => {
    const total = variants.reduce((sum, v) => sum + Math.max(0, v.currentWeight), 0);
    if (total <= 0 || share <= 0) return;
    for (const v of variants)
      if (v.currentWeight > 0)
        shares.set(v.name, (shares.get(v.name) ?? 0) + (v.currentWeight / total) * share * 100);
  };
  const share = change.blueGreenShare !== undefined && change.pending ? change.blueGreenShare : 0;
  add(change.variants, 1 - share);
  if (change.pending) add(change.pending.variants, share);
  return [...shares]
    .map(([variant, percent]) => ({ variant, percent: Math.round(percent * 10) / 10 }))
    .sort((a, b) => b.percent - a.percent || versionOrder(a.variant, b.variant));
};

const versionOrder = (a: string, b: string): number =>
  Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')) || a.localeCompare(b);

const sameServing = (a: LaneSegment['serving'], b: LaneSegment['serving']): boolean =>
  a.length === b.length && a.every((s, i) => s.variant === b[i]!.variant && s.percent === b[i]!.percent);

/** The segments of one endpoint, from the changes SageMaker applied to it; nothing serving: no segment. */
export const laneSegments = (
  stage: Pick<LaneStage, 'endpoint' | 'region'>,
  changes: readonly AppliedChange[],
  startMs: number,
): LaneSegment[] => {
  const segments: LaneSegment[] = [];
  let open: LaneSegment | undefined;
  for (const change of changes) {
    if (change.kind !== 'endpoint' || change.endpoint !== stage.endpoint || change.region !== stage.region)
      continue;
    const at = Math.max(0, change.at - startMs);
    const serving = servingOf(change);
    if (open && sameServing(open.serving, serving)) continue;
    if (open) open.to = at;
    open = serving.length > 0 ? { from: at, serving, status: change.status } : undefined;
    if (open) segments.push(open);
  }
  // a change that took no time ends its segment where it began
  return segments.filter((s) => s.to === undefined || s.to > s.from);
};

const OUTCOME_OF: Record<string, LaneOutcome> = {
  'Stage Deployed': 'promoted',
  'Deployment Promoted': 'promoted',
  'Deployment Rolled Back': 'rolled back',
  'Deployment Failed': 'failed',
};
/** Deployments that put back a version a stage served before (not a version entering it). */
const RESTORING_TRIGGERS = new Set(['restore', 'rollback']);

/** The service's outcome events by the stage they name, once each (EventBridge may deliver twice). */
export const laneMarkers = (
  stage: Pick<LaneStage, 'group' | 'stage'>,
  published: readonly CloudEvent[],
  startMs: number,
): LaneMarker[] => {
  const service = published.filter((e) => e.source === SERVICE_SOURCE);
  const restoring = new Set(
    service
      .filter(
        (e) => e['detail-type'] === 'Deployment Started' && RESTORING_TRIGGERS.has(String(e.detail.trigger)),
      )
      .map((e) => String(e.detail.deploymentId)),
  );
  const seen = new Set<string>();
  const markers: LaneMarker[] = [];
  for (const event of service) {
    const detail = event.detail;
    let outcome = OUTCOME_OF[event['detail-type']];
    if (!outcome || detail.group !== stage.group || detail.stage !== stage.stage || seen.has(event.id))
      continue;
    seen.add(event.id);
    const deploymentId = String(detail.deploymentId);
    if (outcome === 'promoted' && restoring.has(deploymentId)) outcome = 'restored';
    const at = typeof detail.at === 'string' ? Date.parse(detail.at) : Date.parse(event.time);
    markers.push({
      at: Math.max(0, at - startMs),
      outcome,
      deploymentId,
      version: typeof detail.version === 'number' ? `v${detail.version}` : '',
      region: String(detail.region ?? event.region),
      reason: typeof detail.reason === 'string' ? detail.reason : '',
    });
  }
  return markers.sort((a, b) => a.at - b.at);
};

/** One lane per stage: what its endpoint served over time and the outcomes there. */
export const stageLanes = (input: {
  stages: LaneStage[];
  changes: readonly AppliedChange[];
  published: readonly CloudEvent[];
  startMs: number;
}): StageLane[] =>
  input.stages.map((stage) => ({
    ...stage,
    segments: laneSegments(stage, input.changes, input.startMs),
    markers: laneMarkers(stage, input.published, input.startMs),
  }));
