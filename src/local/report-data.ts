import { resolve } from 'node:path';
import { loadConfigFile } from '../config/load';
import type { GateReadings, GroupState, HistoryEntry, Phase } from '../domain/model';
import type { StateStore } from '../ports/state-store';
import type { CloudEvent } from './cloud';

/** What the report draws besides the sampled weights and rates: the story the service told. */
export interface ReportStory {
  /** endpoint status changes, as SageMaker's state-change events said them */
  endpointStatus: Array<{ at: number; endpoint: string; status: string }>;
  /** per deployment: its candidate variant and every transition */
  deployments: Array<{
    id: string;
    /** the group's QA and prod endpoints: a deployment passes through both */
    endpoints: string[];
    candidateVariant: string;
    transitions: Array<{
      at: number;
      from: Phase | null;
      to: Phase;
      reason: string;
      readings?: GateReadings;
    }>;
  }>;
  /** per prod endpoint: the canary's gate thresholds and steps */
  gates: Record<
    string,
    {
      maxErrorRate: number;
      steps: Array<{ weight: number; bakeMinutes: number }>;
    }
  >;
}

/** The judge's evidence at one judgment: the gate readings a history entry carries. */
export interface GateEvidence {
  at: number;
  candidateErrorRate: number | null;
  baselineErrorRate: number | null;
  candidateInvocations: number;
  alarms: string[];
  /** the judge's evidence against the candidate and the limit that rolls it back, in words */
  evidence?: string | undefined;
}

/** The one place the report reads gate evidence, so a richer judge changes only this function. */
export const gateEvidence = (transition: {
  at: number;
  readings?: GateReadings;
}): GateEvidence | undefined => {
  const r = transition.readings;
  if (!r) return undefined;
  return {
    at: transition.at,
    candidateErrorRate: r.candidate.errorRate,
    baselineErrorRate: r.baseline?.errorRate ?? null,
    candidateInvocations: r.candidate.invocations,
    alarms: r.alarmsInAlarm,
    ...(r.evidence
      ? {
          evidence: `evidence ${formatOdds(r.evidence.errors)}:1 against the candidate (limit ${formatOdds(r.evidence.errorsLimit)}:1)`,
        }
      : {}),
  };
};

const formatOdds = (odds: number): string =>
  odds >= 10 ? Math.round(odds).toLocaleString('en-US') : odds.toFixed(odds >= 1 ? 1 : 2);

const UPPER_SNAKE_TO_STATUS: Record<string, string> = {
  CREATING: 'Creating',
  UPDATING: 'Updating',
  IN_SERVICE: 'InService',
  FAILED: 'Failed',
  DELETING: 'Deleting',
  SYSTEM_UPDATING: 'SystemUpdating',
  ROLLING_BACK: 'RollingBack',
  OUT_OF_SERVICE: 'OutOfService',
};

/** Collected once a scenario has ended; times are ms since `startMs`. */
export const collectStory = async (input: {
  startMs: number;
  configPath: string;
  published: CloudEvent[];
  states: GroupState[];
  store: Pick<StateStore, 'history'>;
}): Promise<ReportStory> => {
  const { startMs } = input;
  const config = loadConfigFile(resolve(input.configPath));
  const endpointStatus: ReportStory['endpointStatus'] = [];
  let last = new Map<string, string>();
  for (const event of input.published) {
    if (event['detail-type'] !== 'SageMaker Endpoint State Change') continue;
    const detail = event.detail as { EndpointName?: string; EndpointStatus?: string };
    if (!detail.EndpointName || !detail.EndpointStatus) continue;
    const status = UPPER_SNAKE_TO_STATUS[detail.EndpointStatus] ?? detail.EndpointStatus;
    // duplicated deliveries repeat a status: one change each
    if (last.get(detail.EndpointName) === status) continue;
    last = new Map(last).set(detail.EndpointName, status);
    endpointStatus.push({ at: Date.parse(event.time) - startMs, endpoint: detail.EndpointName, status });
  }

  const deployments: ReportStory['deployments'] = [];
  for (const state of input.states) {
    const group = config.modelPackageGroups[state.group];
    if (!group) continue;
    for (const d of state.deployments) {
      const history: HistoryEntry[] = await input.store.history(d.id);
      deployments.push({
        id: d.id,
        endpoints: [group.stages.qa.endpointName, group.stages.prod.endpointName],
        candidateVariant: `v${d.version}`,
        transitions: history.map((h) => ({
          at: h.at - startMs,
          from: h.from,
          to: h.to,
          reason: h.reason,
          ...(h.readings ? { readings: h.readings } : {}),
        })),
      });
    }
  }

  const gates: ReportStory['gates'] = {};
  for (const group of Object.values(config.modelPackageGroups)) {
    const strategy = group.stages.prod.strategy;
    if (strategy.type !== 'canary') continue;
    gates[group.stages.prod.endpointName] = {
      maxErrorRate: strategy.gates.maxErrorRate,
      steps: strategy.steps.map((s) => ({ weight: s.weight, bakeMinutes: s.bakeMinutes })),
    };
  }
  return { endpointStatus, deployments, gates };
};
