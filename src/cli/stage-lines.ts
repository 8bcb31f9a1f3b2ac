import type { GroupConfig } from '../config/schema';
import { odds } from '../domain/judge';
import {
  type Deployment,
  type EndpointObservation,
  type GateReadings,
  type GroupState,
  isTerminal,
  type Phase,
  type StageName,
} from '../domain/model';
import { stageOfPhase } from '../domain/stage-place';
import { type EndpointRead, liveWeights, type ReadEndpoint } from './endpoint-reads';
import { type Colour, formatPercent, formatWeights, renderTable } from './output';

/** What a stage's endpoint is now, as DescribeEndpoint (through the stage's role and region) says. */
export type StageEndpoint =
  | {
      name: string;
      state: 'live';
      status: EndpointObservation['status'];
      /** live weights, by variant (`v<version>`; a native stage's one variant is `primary`) */
      weights: Record<string, number>;
    }
  | { name: string; state: 'missing' }
  | { name: string; state: 'unreadable'; error: string };

/** A deployment in flight in a stage. */
export interface StageDeployment {
  deploymentId: string;
  version: number;
  phase: Phase;
  paused: boolean;
  /** a canary's latest gate readings, and what they say */
  readings?: GateReadings | undefined;
  verdict?: CanaryVerdict | undefined;
}

export interface StageLine {
  stage: StageName;
  /** the stage's region, when the config names one other than the service's */
  region?: string | undefined;
  /** undefined: the endpoint's name is not known (no config, and nothing decided for the stage yet) */
  endpoint?: StageEndpoint | undefined;
  /** the version the group record says serves the stage */
  servingVersion?: number | undefined;
  deployments: StageDeployment[];
}

export interface GroupStages {
  group: string;
  stages: StageLine[];
}

/** The group's stages in its graph's order; qa then prod without the config. */
const stageOrder = (groupConfig: GroupConfig | undefined): StageName[] =>
  groupConfig
    ? groupConfig.graph.stages
        .map((stage) => stage.name)
        .filter((name): name is StageName => name === 'qa' || name === 'prod')
    : ['qa', 'prod'];

/** The stage a deployment in flight is in; none while queued or once it has ended. */
const inStage = (d: Deployment): StageName | undefined =>
  isTerminal(d.phase) ? undefined : (d.awaiting?.stage ?? stageOfPhase(d, d.phase));

const endpointOf = (name: string, read: EndpointRead): StageEndpoint => {
  switch (read.kind) {
    case 'live':
      return {
        name,
        state: 'live',
        status: read.observation.status,
        weights: liveWeights(read.observation),
      };
    case 'missing':
      return { name, state: 'missing' };
    case 'unreadable':
      return { name, state: 'unreadable', error: read.error };
  }
};

/**
 * What a canary's latest readings say: a gate's limit reached or an alarm firing (a rollback
 * follows), the step passing, or neither yet; `words` says it in a few.
 */
export interface CanaryVerdict {
  outcome: 'breach' | 'passing' | 'undecided' | 'no readings';
  words: string;
}

export const canaryVerdict = (readings: GateReadings | undefined): CanaryVerdict => {
  if (!readings) return { outcome: 'no readings', words: 'no readings yet' };
  const { candidate, baseline, alarmsInAlarm, evidence: e } = readings;
  if (alarmsInAlarm.length > 0) return { outcome: 'breach', words: `alarm ${alarmsInAlarm.join(', ')}` };
  const rates = `5XX ${formatPercent(candidate.errorRate)}${baseline ? ` vs ${formatPercent(baseline.errorRate)}` : ''}, n=${candidate.invocations}`;
  if (!e) return { outcome: 'undecided', words: rates };
  const reached = [
    e.errors >= e.errorsLimit ? `5XX ${odds(e.errors)} (limit ${odds(e.errorsLimit)})` : undefined,
    e.ceiling >= e.ceilingLimit ? `ceiling ${odds(e.ceiling)} (limit ${odds(e.ceilingLimit)})` : undefined,
    e.latency >= e.latencyLimit ? `latency ${odds(e.latency)} (limit ${odds(e.latencyLimit)})` : undefined,
  ].filter((text) => text !== undefined);
  if (reached.length > 0) return { outcome: 'breach', words: `limit reached: ${reached.join(', ')}` };
  if (e.pass >= e.passLimit) return { outcome: 'passing', words: `passing: ${rates}` };
  return { outcome: 'undecided', words: `no breach so far: ${rates}` };
};

/**
 * One line per stage of a group: its endpoint now (`readEndpoint`, shared with the deployment
 * rows, so an endpoint they read is not read again), the version the record says it serves, and
 * the deployments in flight in it.
 */
export const collectGroupStages = async (
  state: GroupState,
  groupConfig: GroupConfig | undefined,
  serviceRegion: string,
  readEndpoint: ReadEndpoint,
): Promise<GroupStages> => {
  const stages = await Promise.all(
    stageOrder(groupConfig).map(async (stage): Promise<StageLine> => {
      const inFlight = state.deployments
        .filter((d) => inStage(d) === stage)
        .sort((a, b) => a.createdAt - b.createdAt);
      const endpointName =
        groupConfig?.stages[stage].endpointName ??
        state.desired?.[stage]?.endpointName ??
        inFlight.find((d) => d.awaiting)?.awaiting?.endpointName;
      const region = groupConfig?.stages[stage].region;
      return {
        stage,
        region: region !== serviceRegion ? region : undefined,
        endpoint: endpointName
          ? endpointOf(endpointName, await readEndpoint(state.group, stage, endpointName))
          : undefined,
        servingVersion: state[stage]?.version,
        deployments: inFlight.map((d) => ({
          deploymentId: d.id,
          version: d.version,
          phase: d.phase,
          paused: d.canary?.paused ?? false,
          readings: d.canary?.lastReadings,
          verdict: d.canary ? canaryVerdict(d.canary.lastReadings) : undefined,
        })),
      };
    }),
  );
  return { group: state.group, stages };
};

const servesText = (line: StageLine, colour: Colour): string => {
  const endpoint = line.endpoint;
  if (!endpoint) return line.servingVersion ? `v${line.servingVersion} (recorded)` : '-';
  switch (endpoint.state) {
    case 'missing':
      return colour.dim('no endpoint yet');
    case 'unreadable':
      return colour.red(`? (${endpoint.error.slice(0, 60)})`);
    case 'live': {
      const status = endpoint.status !== 'InService' ? ` ${colour.yellow(endpoint.status)}` : '';
      // a native stage's variant keeps one name whatever version it runs
      const named = Object.keys(endpoint.weights).some((variant) => /^v\d+$/.test(variant));
      const version = !named && line.servingVersion ? ` (v${line.servingVersion})` : '';
      return `${formatWeights(endpoint.weights)}${version}${status}`;
    }
  }
};

/** The deployment without its group (the line names it): `v7 Canary`, `v7#2 RollingBack`. */
const deploymentText = (d: StageDeployment): string =>
  `${d.deploymentId.slice(d.deploymentId.indexOf(':') + 1)} ${d.paused && d.phase === 'Canary' ? 'Canary (paused)' : d.phase}`;

const verdictText = (verdict: CanaryVerdict, colour: Colour): string => {
  switch (verdict.outcome) {
    case 'breach':
      return colour.red(verdict.words);
    case 'passing':
      return colour.green(verdict.words);
    default:
      return verdict.words;
  }
};

/** The stage lines as a table: what each stage's endpoint serves now and what is under way in it. */
export const renderStageLines = (groups: readonly GroupStages[], colour: Colour, width?: number): string => {
  const headers = ['GROUP', 'STAGE', 'ENDPOINT', 'SERVES', 'DEPLOYMENT', 'VERDICT'];
  const rows = groups.flatMap((g) =>
    g.stages.map((line) => [
      g.group,
      line.region ? `${line.stage} ${line.region}` : line.stage,
      line.endpoint?.name ?? '-',
      servesText(line, colour),
      line.deployments.length > 0 ? line.deployments.map(deploymentText).join(', ') : '-',
      line.deployments.flatMap((d) => (d.verdict ? [verdictText(d.verdict, colour)] : [])).join('; ') || '-',
    ]),
  );
  return renderTable(headers, rows, colour, {
    maxWidth: width,
    shrink: ['VERDICT', 'SERVES', 'ENDPOINT'],
  });
};
