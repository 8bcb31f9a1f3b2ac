import type { Input } from '../domain/decide';
import { type Deployment, isTerminal, type VariantReadings } from '../domain/model';
import { ServiceFaultError } from '../errors';
import type { VariantMetricsQuery } from '../ports/metrics';
import type { ActiveGroup } from '../ports/state-store';
import { mapLimit } from './concurrency';
import { type Deps, groupConfig, type StagePlace, stageMetrics } from './deps';
import { runGroup } from './group-runner';
import { onModelPackageChanged } from './model-package-changed';
import { observeStages, watchedStages } from './observe';

/** Phases whose variants the judge compares: the shadow phase (copies) and the canary steps. */
const JUDGED_PHASES: ReadonlySet<string> = new Set(['Shadow', 'Canary']);
export interface TickReport {
  active: number;
  changed: number;
  failedGroups: { group: string; error: string }[];
  /**
   * The deployments in flight of each group this tick judged, as its decision left them (as it was
   * listed where the decision failed): what the per-group gauges report, without listing again.
   */
  inFlight: ActiveGroup[];
}

/**
 * Flow 7, once a minute: for every group with work in flight (and only those), observe the
 * endpoints it waits on, read all canaries' metrics in as few GetMetricData calls as possible,
 * then decide per group, a bounded number at a time, and ask the executor for what changes endpoints
 * (every minute while a group has such work: the backstop for lost or failed requests; not while
 * every endpoint it would change is seen busy, when it could only wait).
 */
export const runTick = async (deps: Deps, now: number): Promise<TickReport> => {
  const active = (await deps.store.listActiveGroups()).filter((state) => groupConfig(deps, state.group));
  const limit = deps.config.tickConcurrency;
  const observations = await mapLimit(active, limit, (state) =>
    observeStages(deps, state.group, watchedStages(state)).catch((error: unknown) => {
      deps.log.warn('could not observe endpoints; deciding without them', {
        group: state.group,
        error: String(error),
      });
      return [] as Input[];
    }),
  );
  // a canary's gates are only judged on an endpoint seen InService this minute; the others wait
  const judged = active.filter((_, index) =>
    (observations[index] ?? []).some(
      (input) =>
        input.type === 'EndpointObserved' && input.stage === 'prod' && input.endpoint?.status === 'InService',
    ),
  );
  const canaryInputs = await readCanaries(deps, judged, now);
  const failedGroups: TickReport['failedGroups'] = [];
  const faults: ServiceFaultError[] = [];
  let changed = 0;
  const inFlight: ActiveGroup[] = [...active];
  await mapLimit([...active.keys()], limit, async (index) => {
    const state = active[index]!;
    const canaries = canaryInputs.get(state.group) ?? [];
    const observed = observations[index] ?? [];
    const decide = (canaryInputsFor: CanaryInput[]) =>
      runGroup(
        deps,
        state.group,
        now,
        (fresh) => [
          ...observed,
          ...canaryInputsFor.filter((input) =>
            fresh.deployments.some((d) => d.id === input.deploymentId && JUDGED_PHASES.has(d.phase)),
          ),
          { type: 'Tick' },
        ],
        observed,
      );
    try {
      const run = await decide(canaries).catch((error: unknown) => {
        // the table refused the decision (readings it cannot hold, an item too large): alarms and
        // the maximum duration must still act, so decide again on the alarms and the clock alone
        if (!(error instanceof ServiceFaultError) || !canaries.some(hasReadings)) throw error;
        deps.log.error('could not save the decision with its readings; deciding without them', {
          group: state.group,
          error: String(error),
        });
        return decide(canaries.flatMap(alarmsOnly));
      });
      if (run.decision) changed++;
      inFlight[index] = { group: state.group, deployments: run.state.deployments.filter(inFlightPhase) };
    } catch (error) {
      if (error instanceof ServiceFaultError) faults.push(error);
      deps.log.error('tick failed for group', { group: state.group, error: String(error) });
      failedGroups.push({
        group: state.group,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  });
  await sweepApprovals(deps, now);
  // the service's own table refusing a group is not a group's problem: the invocation fails
  if (faults.length > 0) throw faults[0];
  return { active: active.length, changed, failedGroups, inFlight };
};

const inFlightPhase = (deployment: Deployment): boolean => !isTerminal(deployment.phase);

/** Every this many minutes the tick looks for approvals whose event was lost. */
export const APPROVAL_SWEEP_MINUTES = 15;

/**
 * An approval whose event was lost for good (every retry failed) is not lost: every
 * APPROVAL_SWEEP_MINUTES the tick asks the registry for each group's newest Approved version and,
 * when it is newer than the newest one started, handles it as its approval event would have been.
 */
const sweepApprovals = async (deps: Deps, now: number): Promise<void> => {
  if (Math.floor(now / 60_000) % APPROVAL_SWEEP_MINUTES !== 0) return;
  await mapLimit(Object.keys(deps.config.modelPackageGroups), deps.config.tickConcurrency, async (group) => {
    try {
      const newest = await deps.registry.newestApproved(group);
      if (!newest) return;
      const state = await deps.store.loadGroup(group);
      if (newest.version <= (state?.highestVersion ?? 0)) return;
      deps.log.warn('an approval was never handled; starting it now', { group, version: newest.version });
      await onModelPackageChanged(
        deps,
        { group, version: newest.version, packageArn: newest.arn, status: 'Approved' },
        now,
      );
    } catch (error) {
      if (error instanceof ServiceFaultError) throw error;
      deps.log.warn('could not look for lost approvals', { group, error: String(error) });
    }
  });
};

type CanaryInput = Extract<Input, { type: 'CanaryObserved' }>;

const NO_READINGS: VariantReadings = { invocations: 0, errors5xx: 0, errorRate: null, latencyMs: null };

const hasReadings = (input: CanaryInput): boolean => input.readings.candidate.minutes !== undefined;

/** The input as when GetMetricData is refused: only an alarm in ALARM has something to say. */
const alarmsOnly = (input: CanaryInput): CanaryInput[] =>
  input.readings.alarmsInAlarm.length === 0
    ? []
    : [{ ...input, readings: { ...input.readings, candidate: NO_READINGS, baseline: null } }];

/**
 * Per-variant readings and alarm states for every canary in flight, batched across groups: one
 * batch per account and region, read in the prod stage's region, through its role when it lives
 * in another account. Metrics
 * and alarms are read independently: alarms still count when GetMetricData is refused.
 */
const readCanaries = async (
  deps: Deps,
  groups: ActiveGroup[],
  now: number,
): Promise<Map<string, CanaryInput[]>> => {
  const batches = new Map<
    string,
    {
      place: StagePlace;
      queries: VariantMetricsQuery[];
      canaries: { group: string; id: string; alarms: string[]; start: number }[];
    }
  >();
  for (const state of groups) {
    const config = groupConfig(deps, state.group)!;
    const strategy = config.stages.prod.strategy;
    if (strategy.type !== 'canary') continue;
    const { crossAccount, region } = config.stages.prod;
    const place = JSON.stringify([crossAccount ?? null, region ?? deps.region]);
    for (const d of state.deployments) {
      // CloudWatch has nothing to say about a window shorter than one period
      if (!JUDGED_PHASES.has(d.phase) || !d.canary || now - d.canary.stepStartedAt < 60_000) continue;
      // the judge weighs every minute since the canary started, all steps together
      const batch = batches.get(place) ?? { place: { crossAccount, region }, queries: [], canaries: [] };
      batches.set(place, batch);
      const base = {
        endpointName: config.stages.prod.endpointName,
        latencyStatistic: strategy.gates.latencyStatistic,
        start: d.canary.startedAt,
        end: now,
      };
      batch.queries.push({ ...base, key: `${d.id}|candidate`, variantName: d.canary.candidateVariant });
      batch.queries.push({ ...base, key: `${d.id}|baseline`, variantName: d.canary.baselineVariant });
      batch.canaries.push({
        group: state.group,
        id: d.id,
        alarms: strategy.alarms,
        start: d.canary.startedAt,
      });
    }
  }
  const result = new Map<string, CanaryInput[]>();
  for (const { place, queries, canaries } of batches.values()) {
    const metrics = stageMetrics(deps, place);
    const alarmNames = [...new Set(canaries.flatMap((c) => c.alarms))];
    const [readingsRead, alarmsRead] = await Promise.allSettled([
      metrics.readVariants(queries, (datapoint) =>
        deps.log.warn('invalid CloudWatch datapoint treated as missing', { ...datapoint }),
      ),
      metrics.alarmsInAlarm(alarmNames),
    ]);
    for (const failed of [readingsRead, alarmsRead]) {
      if (failed.status === 'rejected') {
        // without them no gate is judged on them this minute; timeouts still are, from the clock
        deps.log.warn('could not read canary metrics or alarms', { error: String(failed.reason) });
      }
    }
    const readings = readingsRead.status === 'fulfilled' ? readingsRead.value : undefined;
    const inAlarm = alarmsRead.status === 'fulfilled' ? alarmsRead.value : [];
    for (const c of canaries) {
      const firing = c.alarms.filter((name) => inAlarm.includes(name));
      // without readings only an alarm in ALARM has something to say
      if (!readings && firing.length === 0) continue;
      const input: CanaryInput = {
        type: 'CanaryObserved',
        deploymentId: c.id,
        readings: {
          candidate: readings?.get(`${c.id}|candidate`) ?? NO_READINGS,
          baseline: readings?.get(`${c.id}|baseline`) ?? null,
          alarmsInAlarm: firing,
          windowStart: c.start,
          windowEnd: now,
        },
      };
      result.set(c.group, [...(result.get(c.group) ?? []), input]);
    }
  }
  return result;
};
