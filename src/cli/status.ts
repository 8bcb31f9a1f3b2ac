import type { RolloutsConfig } from '../config/schema';
import { odds } from '../domain/judge';
import {
  type Deployment,
  type EndpointObservation,
  type GateReadings,
  type GroupState,
  isTerminal,
  PROD_PHASES,
  type StageName,
} from '../domain/model';
import { parseDeploymentId, variantName } from '../domain/naming';
import { stageOfPhase } from '../domain/stage-place';
import type { ExecutorError } from '../ports/state-store';
import type { Context } from './context';
import { currentReason } from './current-reason';
import { endpointReads, liveWeights } from './endpoint-reads';
import { executorHint } from './executor-hint';
import {
  type Colour,
  formatDuration,
  formatPercent,
  formatWeights,
  progressBar,
  renderTable,
  truncate,
} from './output';
import { collectGroupStages, type GroupStages, renderStageLines } from './stage-lines';

export interface StatusRow {
  group: string;
  deploymentId: string;
  version: number;
  attempt: number;
  stage: StageName;
  /** the stage's region, when the config names one other than the service's */
  region?: string | undefined;
  phase: Deployment['phase'];
  paused: boolean;
  reason?: string | undefined;
  phaseSince: number;
  /** version serving prod according to the table */
  prodVersion?: number | undefined;
  endpoint?:
    | {
        name: string;
        status?: EndpointObservation['status'] | undefined;
        /** live weights from DescribeEndpoint, by variant */
        weights?: Record<string, number> | undefined;
        error?: string | undefined;
      }
    | undefined;
  /** a finished deployment: the prod weights it left (its version alone, or the baseline alone) */
  finalWeights?: Record<string, number> | undefined;
  /** the weights the canary expects on the endpoint */
  expectedWeights?: Record<string, number> | undefined;
  canary?:
    | {
        /** 1-based step in progress */
        step: number;
        /** steps configured; undefined without the config file */
        totalSteps?: number | undefined;
        stepStartedAt: number;
        bakeUntil: number;
        inStepMs: number;
        bakeLeftMs: number;
      }
    | undefined;
  readings?: GateReadings | undefined;
  /** the last error the executor met on this row's endpoint, while it keeps retrying */
  retrying?: string | undefined;
}

export interface StatusReport {
  /** the time "in step" is measured against */
  now: number;
  rows: StatusRow[];
  /** per group shown, one line per stage in the graph's order */
  groups: GroupStages[];
}

/** The stage a row shows: a queued deployment at QA, where it starts; an ending where it got to. */
export const stageOf = (d: Deployment): StageName =>
  d.awaiting?.stage ?? stageOfPhase(d, d.phase) ?? (d.canary ? 'prod' : 'qa');

/** In flight, or else the group's latest deployment so that each group shows where it stands. */
const shownDeployments = (state: GroupState, all: boolean): Deployment[] => {
  const sorted = [...state.deployments].sort((a, b) => a.createdAt - b.createdAt);
  if (all) return sorted;
  const active = sorted.filter((d) => !isTerminal(d.phase));
  if (active.length > 0) return active;
  const latest = sorted.at(-1);
  return latest ? [latest] : [];
};

export interface StatusOptions {
  /** a group, or one deployment (`<group>:v<version>`) */
  target?: string | undefined;
  all?: boolean | undefined;
  wallClock: number;
}

/**
 * The group records to show: one Query for a named group; else the active-deployments index, and
 * with `--all` one Query per configured group (the groups the index does not list have finished).
 */
const loadStates = async (ctx: Context, options: StatusOptions): Promise<GroupState[]> => {
  const present = (states: (GroupState | undefined)[]) =>
    states.filter((s): s is GroupState => s !== undefined);
  if (options.target) {
    const group = parseDeploymentId(options.target)?.group ?? options.target;
    return present([await ctx.reader.group(group)]);
  }
  const names = new Set(await ctx.reader.activeGroupNames());
  if (options.all) {
    const config = ctx.config();
    if (config) for (const name of Object.keys(config.modelPackageGroups)) names.add(name);
    else
      ctx.notes.push(
        'without a rollouts config only groups with work in flight are listed (pass --config <file>)',
      );
  }
  return present(await Promise.all([...names].sort().map((name) => ctx.reader.group(name))));
};

/**
 * The prod weights a finished deployment left: its version alone once promoted, the baseline alone
 * once its canary was rolled back; none when it never reached prod.
 */
export const endedWithWeights = (d: Deployment): Record<string, number> | undefined => {
  if (d.phase === 'Succeeded')
    return d.targetStage === 'prod' ? { [variantName(d.version)]: 100 } : undefined;
  if (isTerminal(d.phase) && d.canary) return { [d.canary.baselineVariant]: 100 };
  return undefined;
};

export const collectStatus = async (ctx: Context, options: StatusOptions): Promise<StatusReport> => {
  const states = await loadStates(ctx, options);
  const only = options.target && parseDeploymentId(options.target) ? options.target : undefined;
  const config: RolloutsConfig | undefined = ctx.config();
  /*
   * An emulator (AWS_ENDPOINT_URL) may run on virtual time: measure against the latest decision
   * the service made rather than this machine's clock.
   */
  const errors = new Map(
    await Promise.all(states.map(async (s) => [s.group, await ctx.reader.executorErrors(s.group)] as const)),
  );
  const lastSeen = [...errors.values()].flat().map((e) => e.lastSeenAt);
  const now = ctx.settings.endpointUrl
    ? Math.max(0, ...states.map((s) => s.updatedAt), ...lastSeen)
    : options.wallClock;
  const readEndpoint = endpointReads(ctx, config);
  const describe = async (group: string, stage: StageName, name: string): Promise<StatusRow['endpoint']> => {
    const read = await readEndpoint(group, stage, name);
    switch (read.kind) {
      case 'live':
        return { name, status: read.observation.status, weights: liveWeights(read.observation) };
      case 'missing':
        return { name, error: 'endpoint not found' };
      case 'unreadable':
        return { name, error: read.error };
    }
  };

  const rows: StatusRow[] = [];
  for (const state of states) {
    const groupConfig = config?.modelPackageGroups[state.group];
    const shown = only
      ? state.deployments.filter((d) => d.id === only)
      : shownDeployments(state, options.all ?? false);
    for (const d of shown) {
      const finished = isTerminal(d.phase);
      const stage = stageOf(d);
      const endpointName = d.awaiting?.endpointName ?? groupConfig?.stages[stage].endpointName;
      const strategy = groupConfig?.stages.prod.strategy;
      const region = groupConfig?.stages[stage].region;
      const c = d.canary;
      rows.push({
        group: state.group,
        deploymentId: d.id,
        version: d.version,
        attempt: d.attempt,
        stage,
        region: region !== ctx.settings.region ? region : undefined,
        phase: d.phase,
        paused: c?.paused ?? false,
        // the deployment's reason is its last move's; a step, an extension or a pause came since
        reason: finished ? d.reason : currentReason(d, await ctx.store.history(d.id)),
        phaseSince: d.phaseSince,
        prodVersion: state.prod?.version,
        // a finished row shows what it ended with, not what the endpoint serves today
        endpoint:
          endpointName && stage === 'prod' && PROD_PHASES.has(d.phase)
            ? await describe(state.group, stage, endpointName)
            : undefined,
        expectedWeights: c && !finished ? c.weights : undefined,
        finalWeights: finished ? endedWithWeights(d) : undefined,
        canary:
          c && d.phase === 'Canary'
            ? {
                step: c.stepIndex + 1,
                totalSteps: strategy?.type === 'canary' ? strategy.steps.length : undefined,
                stepStartedAt: c.stepStartedAt,
                bakeUntil: c.bakeUntil,
                inStepMs: Math.max(0, now - c.stepStartedAt),
                bakeLeftMs: Math.max(0, c.bakeUntil - now),
              }
            : undefined,
        readings: c?.lastReadings,
        retrying: finished ? undefined : retryingText(errors.get(state.group), stage, now),
      });
    }
  }
  const groups = await Promise.all(
    states.map((state) =>
      collectGroupStages(state, config?.modelPackageGroups[state.group], ctx.settings.region, readEndpoint),
    ),
  );
  return { now, rows, groups };
};

const retryingText = (
  errors: readonly ExecutorError[] | undefined,
  stage: StageName,
  now: number,
): string | undefined => {
  const error = errors?.find((e) => e.stage === stage);
  return error ? executorHint(error, now) : undefined;
};

const phaseText = (row: StatusRow, colour: Colour): string => {
  const text = row.paused && row.phase === 'Canary' ? 'Canary (paused)' : row.phase;
  if (row.paused) return colour.yellow(text);
  switch (row.phase) {
    case 'Succeeded':
      return colour.green(text);
    case 'Failed':
    case 'RolledBack':
    case 'Aborted':
      return colour.red(text);
    case 'RollingBack':
    case 'AwaitingApproval':
      return colour.yellow(text);
    case 'Superseded':
      return colour.dim(text);
    default:
      return colour.cyan(text);
  }
};

const sameWeights = (a: Record<string, number>, b: Record<string, number>): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const total = (w: Record<string, number>) => Object.values(w).reduce((s, x) => s + x, 0) || 1;
  const ta = total(a);
  const tb = total(b);
  return [...keys].every((k) => Math.abs((a[k] ?? 0) / ta - (b[k] ?? 0) / tb) < 1e-6);
};

const weightsText = (row: StatusRow, colour: Colour): string => {
  if (row.finalWeights) return `${formatWeights(row.finalWeights)} (at end)`;
  const endpoint = row.endpoint;
  if (!endpoint) return row.expectedWeights ? `${formatWeights(row.expectedWeights)} (expected)` : '-';
  if (endpoint.error) return colour.red(`? (${endpoint.error.slice(0, 60)})`);
  const live = formatWeights(endpoint.weights);
  const status =
    endpoint.status && endpoint.status !== 'InService' ? ` ${colour.yellow(endpoint.status)}` : '';
  if (row.expectedWeights && endpoint.weights && !sameWeights(endpoint.weights, row.expectedWeights)) {
    return `${live}${status} ${colour.yellow(`(expected ${formatWeights(row.expectedWeights)})`)}`;
  }
  return `${live}${status}`;
};

/** Through the canary steps: steps passed, plus the part of the current step's bake already done. */
const progressText = (row: StatusRow): string => {
  if (!row.canary) {
    if (row.phase === 'Succeeded' && row.stage === 'prod') return progressBar(1, 'done');
    if (row.phase === 'Promoting') return progressBar(1, 'promoting');
    return '-';
  }
  const { step, totalSteps, stepStartedAt, bakeUntil, inStepMs } = row.canary;
  if (!totalSteps) return `step ${step}`;
  const bake = bakeUntil > stepStartedAt ? Math.min(1, inStepMs / (bakeUntil - stepStartedAt)) : 0;
  return progressBar((step - 1 + bake) / totalSteps, `step ${step}/${totalSteps}`);
};

const timeText = (row: StatusRow, now: number): string => {
  if (row.canary) {
    const left = row.paused ? 'paused' : `${formatDuration(row.canary.bakeLeftMs)} left`;
    return `${formatDuration(row.canary.inStepMs)} (${left})`;
  }
  if (isTerminal(row.phase)) return '-';
  return formatDuration(now - row.phaseSince);
};

export const readingsText = (readings: GateReadings | undefined, colour: Colour): string => {
  if (!readings) return '-';
  const { candidate, baseline, alarmsInAlarm } = readings;
  const parts = [
    `cand err ${formatPercent(candidate.errorRate)} n=${candidate.invocations}${candidate.latencyMs !== null ? ` ${Math.round(candidate.latencyMs)}ms` : ''}`,
  ];
  if (baseline) parts.push(`base err ${formatPercent(baseline.errorRate)} n=${baseline.invocations}`);
  const e = readings.evidence;
  if (e) {
    // the judge's odds against the candidate, each next to the limit that rolls back
    const against = `evidence 5XX ${odds(e.errors)} (limit ${odds(e.errorsLimit)}), latency ${odds(e.latency)} (limit ${odds(e.latencyLimit)})`;
    parts.push(e.errors >= e.errorsLimit || e.latency >= e.latencyLimit ? colour.red(against) : against);
  }
  if (alarmsInAlarm.length > 0) parts.push(colour.red(`ALARM ${alarmsInAlarm.join(',')}`));
  return parts.join(' | ');
};

export const renderStatus = (report: StatusReport, colour: Colour, width?: number): string => {
  const stages = report.groups.length > 0 ? ['', renderStageLines(report.groups, colour, width)] : [];
  if (report.rows.length === 0) {
    return [
      'No deployment to show: none in flight (`status --all` lists finished ones). Approving a model package version in the registry starts one.',
      ...stages,
    ].join('\n');
  }
  const headers = ['GROUP', 'DEPLOYMENT', 'STAGE', 'PHASE', 'WEIGHTS', 'PROGRESS', 'IN STEP', 'GATES'];
  const rows = report.rows.map((row) => [
    row.group,
    row.deploymentId,
    row.region ? `${row.stage} ${row.region}` : row.stage,
    phaseText(row, colour),
    weightsText(row, colour),
    progressText(row),
    timeText(row, report.now),
    readingsText(row.readings, colour),
  ]);
  const reasons = report.rows
    .filter((row) => row.reason && !isTerminal(row.phase))
    .map((row) =>
      colour.dim(
        width ? truncate(`${row.deploymentId}: ${row.reason}`, width) : `${row.deploymentId}: ${row.reason}`,
      ),
    );
  const retrying = report.rows
    .filter((row) => row.retrying)
    .map((row) => colour.yellow(`${row.deploymentId}: ${row.retrying}`));
  return [
    renderTable(headers, rows, colour, { maxWidth: width, shrink: ['GATES', 'WEIGHTS', 'PROGRESS'] }),
    ...(reasons.length > 0 || retrying.length > 0 ? ['', ...reasons, ...retrying] : []),
    ...stages,
  ].join('\n');
};
