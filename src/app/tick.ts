import type { CrossAccountConfig } from '../config/schema';
import type { Input } from '../domain/decide';
import type { EndpointObservation, VariantReadings } from '../domain/model';
import { ServiceFaultError } from '../errors';
import type { VariantMetricsQuery } from '../ports/metrics';
import type { EndpointsFactory } from '../ports/sagemaker';
import type { ActiveGroup } from '../ports/state-store';
import { mapLimit } from './concurrency';
import { type Deps, groupConfig, stageMetrics } from './deps';
import { runGroup } from './group-runner';
import { onModelPackageChanged } from './model-package-changed';
import { observeStages, watchedStages } from './observe';

/** Phases whose variants the judge compares: the shadow phase (copies) and the canary steps. */
const JUDGED_PHASES: ReadonlySet<string> = new Set(['Shadow', 'Canary']);
export interface TickReport {
  active: number;
  changed: number;
  failedGroups: { group: string; error: string }[];
}

/**
 * Flow 7, once a minute: for every group with work in flight (and only those), observe the
 * endpoints it waits on, read all canaries' metrics in as few GetMetricData calls as possible,
 * then decide and act per group, a bounded number at a time.
 */
export const runTick = async (tickDeps: Deps, now: number): Promise<TickReport> => {
  const deps: Deps = { ...tickDeps, endpoints: describedOnce(tickDeps.endpoints) };
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
  await mapLimit([...active.keys()], limit, async (index) => {
    const state = active[index]!;
    try {
      const run = await runGroup(deps, state.group, now, (fresh) => [
        ...(observations[index] ?? []),
        ...(canaryInputs.get(state.group) ?? []).filter((input) =>
          fresh.deployments.some((d) => d.id === input.deploymentId && JUDGED_PHASES.has(d.phase)),
        ),
        { type: 'Tick' },
      ]);
      if (run.decision) changed++;
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
  return { active: active.length, changed, failedGroups };
};

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

/**
 * Per-variant readings and alarm states for every canary in flight, batched across groups: one
 * batch per account, read through the prod stage's role when it lives in another account. Metrics
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
      crossAccount: CrossAccountConfig | undefined;
      queries: VariantMetricsQuery[];
      canaries: { group: string; id: string; alarms: string[]; start: number }[];
    }
  >();
  for (const state of groups) {
    const config = groupConfig(deps, state.group)!;
    const strategy = config.stages.prod.strategy;
    if (strategy.type !== 'canary') continue;
    const crossAccount = config.stages.prod.crossAccount;
    const account = JSON.stringify(crossAccount ?? null);
    for (const d of state.deployments) {
      // CloudWatch has nothing to say about a window shorter than one period
      if (!JUDGED_PHASES.has(d.phase) || !d.canary || now - d.canary.stepStartedAt < 60_000) continue;
      // the judge weighs every minute since the canary started, all steps together
      const batch = batches.get(account) ?? { crossAccount, queries: [], canaries: [] };
      batches.set(account, batch);
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
  const empty: VariantReadings = { invocations: 0, errors5xx: 0, errorRate: null, latencyMs: null };
  for (const { crossAccount, queries, canaries } of batches.values()) {
    const metrics = stageMetrics(deps, crossAccount);
    const alarmNames = [...new Set(canaries.flatMap((c) => c.alarms))];
    const [readingsRead, alarmsRead] = await Promise.allSettled([
      metrics.readVariants(queries),
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
          candidate: readings?.get(`${c.id}|candidate`) ?? empty,
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

/**
 * Endpoints for one tick: the DescribeEndpoint that observed an endpoint also serves the executor's
 * next look at it (or the first weight change sent to it), so a tick describes each endpoint once.
 * Any write forgets it.
 */
const describedOnce = (factory: EndpointsFactory): EndpointsFactory => {
  const observed = new Map<string, EndpointObservation | null>();
  return {
    forStage(target) {
      const inner = factory.forStage(target);
      const key = (endpointName: string) => `${target.group}/${target.stage}/${endpointName}`;
      const take = (endpointName: string) => {
        const known = observed.get(key(endpointName));
        observed.delete(key(endpointName));
        return known;
      };
      return {
        describe: async (endpointName) => {
          // the executor's look right after this tick's observation is served by it
          if (observed.has(key(endpointName))) return take(endpointName) ?? null;
          const endpoint = await inner.describe(endpointName);
          observed.set(key(endpointName), endpoint);
          return endpoint;
        },
        setWeights: (endpointName, weights, observedNow) => {
          const known = take(endpointName);
          return inner.setWeights(endpointName, weights, observedNow !== undefined ? observedNow : known);
        },
        deploy: (spec) => {
          take(spec.endpointName);
          return inner.deploy(spec);
        },
        delete: (endpointName) => {
          take(endpointName);
          return inner.delete(endpointName);
        },
        invoke: (endpointName, request) => inner.invoke(endpointName, request),
        retire: (modelNames, configNames) => inner.retire(modelNames, configNames),
      };
    },
  };
};
