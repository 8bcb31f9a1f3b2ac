import { resolve } from 'node:path';
import { loadConfigFile } from '../config/load';
import type { GateReadings, GroupState, HistoryEntry, JudgeEvidence, Phase } from '../domain/model';
import type { StateStore } from '../ports/state-store';
import type { CloudEvent } from './cloud';
import type { AppliedChange } from './cloud/change-log';
import { laneStages, type StageLane, stageLanes } from './report-lanes';

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
    /** the judge's evidence as each tick left it, while the candidate was judged */
    judgments: Judgment[];
  }>;
  /** each alarm's time in ALARM: from, to (undefined: still in ALARM at the end) */
  alarms: Array<{ name: string; from: number; to?: number | undefined }>;
  /** one per stage of the groups the scenario ran, in run order: what its endpoint served */
  lanes: StageLane[];
  /** per prod endpoint: the canary's gate thresholds and steps */
  gates: Record<
    string,
    {
      maxErrorRate: number;
      maxLatencyRatio: number;
      latencyStatistic: string;
      alarms: string[];
      shadowBakeMinutes?: number | undefined;
      steps: Array<{ weight: number; bakeMinutes: number }>;
    }
  >;
}

/** The judge's evidence after one tick, in the phase it judged (each phase restarts the tests). */
export interface Judgment {
  at: number;
  phase: 'Shadow' | 'Canary';
  evidence: JudgeEvidence;
  alarms: string[];
}

/** What the scenario runner records at each sampled minute: a deployment's last readings. */
export interface JudgeTrailEntry {
  /** ms since the scenario started */
  at: number;
  deploymentId: string;
  phase: 'Shadow' | 'Canary';
  settledUntil: number | undefined;
  readings: GateReadings;
}

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
  /** what the local cloud applied to endpoints, in every region */
  changes: readonly AppliedChange[];
  serviceRegion: string;
  alarmChanges: Array<{ at: number; name: string; state: string }>;
  judgeTrail: JudgeTrailEntry[];
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
        judgments: judgmentsOf(d.id, history, input.judgeTrail, startMs),
      });
    }
  }

  const gates: ReportStory['gates'] = {};
  for (const group of Object.values(config.modelPackageGroups)) {
    const strategy = group.stages.prod.strategy;
    if (strategy.type !== 'canary') continue;
    gates[group.stages.prod.endpointName] = {
      maxErrorRate: strategy.gates.maxErrorRate,
      maxLatencyRatio: strategy.gates.maxLatencyRatio,
      latencyStatistic: strategy.gates.latencyStatistic,
      alarms: strategy.alarms,
      shadowBakeMinutes: strategy.shadow?.bakeMinutes,
      steps: strategy.steps.map((s) => ({ weight: s.weight, bakeMinutes: s.bakeMinutes })),
    };
  }
  const lanes = stageLanes({
    stages: laneStages(
      config.modelPackageGroups,
      input.states.map((s) => s.group),
      input.serviceRegion,
    ),
    changes: input.changes,
    published: input.published,
    startMs,
  });
  return { endpointStatus, deployments, lanes, gates, alarms: alarmSpans(input.alarmChanges) };
};

/**
 * The judge's evidence over time: what each sampled tick left, and each judged transition (the
 * exact moment a step passed, a bake was extended or the candidate was rolled back).
 */
export const judgmentsOf = (
  deploymentId: string,
  history: HistoryEntry[],
  trail: JudgeTrailEntry[],
  startMs: number,
): Judgment[] => {
  const judged: Array<Judgment & { settledUntil: number | undefined }> = [];
  // the phase each judged tick belonged to, by the history: a sample taken just after a phase
  // changed still holds the previous phase's readings
  const phaseOf = new Map<number | undefined, Phase>();
  for (const h of history)
    if (h.readings?.evidence && (h.from === 'Shadow' || h.from === 'Canary'))
      phaseOf.set(h.readings.settledUntil, h.from);
  for (const j of trail) {
    if (j.deploymentId !== deploymentId || !j.readings.evidence) continue;
    const judgedIn = phaseOf.get(j.readings.settledUntil);
    if (judgedIn !== undefined && judgedIn !== j.phase) continue;
    judged.push({
      at: j.at,
      phase: j.phase,
      evidence: j.readings.evidence,
      alarms: j.readings.alarmsInAlarm,
      settledUntil: j.readings.settledUntil,
    });
  }
  for (const h of history) {
    const phase = h.from === 'Shadow' || h.from === 'Canary' ? h.from : undefined;
    if (!phase || !h.readings?.evidence) continue;
    const at = h.at - startMs;
    const same = judged.findIndex(
      (j) => j.phase === phase && j.settledUntil === h.readings!.settledUntil && j.at >= at,
    );
    // the transition is when the judge said it; a later sample of the same tick adds nothing
    if (same >= 0) judged.splice(same, 1);
    judged.push({
      at,
      phase,
      evidence: h.readings.evidence,
      alarms: h.readings.alarmsInAlarm,
      settledUntil: h.readings.settledUntil,
    });
  }
  return judged.sort((a, b) => a.at - b.at).map(({ settledUntil: _, ...j }) => j);
};

/** Alarm state changes as spans in ALARM. */
export const alarmSpans = (
  changes: Array<{ at: number; name: string; state: string }>,
): ReportStory['alarms'] => {
  const spans: ReportStory['alarms'] = [];
  const open = new Map<string, number>();
  for (const c of [...changes].sort((a, b) => a.at - b.at)) {
    const since = open.get(c.name);
    if (c.state === 'ALARM' && since === undefined) open.set(c.name, c.at);
    if (c.state !== 'ALARM' && since !== undefined) {
      spans.push({ name: c.name, from: since, to: c.at });
      open.delete(c.name);
    }
  }
  for (const [name, from] of open) spans.push({ name, from });
  return spans.sort((a, b) => a.from - b.from);
};
