import type { StageName } from '../config/schema';
import type { Input } from '../domain/decide';
import type { DesiredEndpoint, EndpointObservation, GroupState } from '../domain/model';
import { NATIVE_VARIANT_NAME } from '../domain/naming';
import { nextEndpointStep } from '../domain/reconcile';
import { PermanentError } from '../errors';
import type { DeploySpec, NativeDeploySpec } from '../ports/sagemaker';
import { decideAndSave } from './decision-run';
import { type Deps, groupConfig, stageAutoscaling, stageEndpoints } from './deps';
import { packageArtifactsOnce, preflightSpec, regionalContainers } from './preflight';

/** What one pass did per endpoint, for logs and tests. */
export interface ConvergeReport {
  steps: { stage: StageName; generation: number; step: string; detail?: string | undefined }[];
  /** the group's record as this run last read or saved it */
  state?: GroupState | undefined;
}

/** Passes per run: a refusal may lead to a new desired spec (a rollback) that can start at once. */
const MAX_PASSES = 3;

export const unsettled = (desired: DesiredEndpoint | undefined): desired is DesiredEndpoint =>
  !!desired && desired.settled?.generation !== desired.generation;

/**
 * The executor: brings every endpoint of the group to its newest desired spec, one step at a time
 * (DescribeEndpoint, then at most one write), and records what it saw: a spec reached, or refused
 * for good (the deployment that wanted it is told). It needs nothing but the group's name, so it can
 * run on its own (after any decision, on the tick, or in a function of its own).
 */
export const converge = async (
  deps: Deps,
  group: string,
  now: number,
  read?: GroupState,
): Promise<ConvergeReport> => {
  const report: ConvergeReport = { steps: [] };
  // `read`: the record as the caller has just read or saved it (each write re-reads it anyway)
  let state = read ?? (await deps.store.loadGroup(group));
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    if (pass > 0) state = await deps.store.loadGroup(group);
    const pending = Object.values(state?.desired ?? {}).filter(unsettled);
    if (pending.length === 0) break;
    const inputs = (
      await Promise.all(pending.map((desired) => stepNotingErrors(deps, group, desired, report, now)))
    ).filter((input): input is Input => input !== undefined);
    if (inputs.length === 0) break;
    state = (await decideAndSave(deps, group, now, () => inputs, 'executor')).state;
    if (!inputs.some((input) => input.type === 'EndpointRefused' || input.type === 'ArtifactsMissing')) break;
  }
  report.state = state;
  return report;
};

/**
 * One step, and what `status` shows of it: the transient error it met (kept with the time it was
 * first met, so an operator sees how long the executor has been retrying), or none once a step
 * goes through. A failure to note it is only logged: the step's own outcome stands.
 */
const stepNotingErrors = async (
  deps: Deps,
  group: string,
  desired: DesiredEndpoint,
  report: ConvergeReport,
  now: number,
): Promise<Input | undefined> => {
  const before = report.steps.length;
  const input = await step(deps, group, desired, report);
  const taken = report.steps.slice(before);
  const retry = taken.find((s) => s.step === 'retry');
  try {
    if (retry) {
      await deps.store.noteExecutorError(
        group,
        { stage: desired.stage, endpointName: desired.endpointName, ...failureOf(retry.detail ?? '') },
        now,
      );
    } else if (taken.some((s) => s.step !== 'wait' && s.step !== 'superseded')) {
      await deps.store.clearExecutorError(group, desired.stage);
    }
  } catch (error) {
    deps.log.warn('could not note the executor error', {
      group,
      stage: desired.stage,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  return input;
};

/** `SageMaker UpdateEndpoint churn-model-qa failed: ThrottlingException (HTTP 400): Rate exceeded` */
const AWS_FAILURE = /^\S+(?: [A-Z][a-z]+)* ([A-Z]\w+)\b.*? failed: (\w+)(?: \(HTTP \d+\))?: ([\s\S]*)$/;

const failureOf = (message: string): { operation: string; code: string; message: string } => {
  const match = AWS_FAILURE.exec(message);
  if (!match) return { operation: 'unknown', code: 'Error', message };
  return { operation: match[1] as string, code: match[2] as string, message: match[3] as string };
};

const step = async (
  deps: Deps,
  group: string,
  desired: DesiredEndpoint,
  report: ConvergeReport,
): Promise<Input | undefined> => {
  const endpoints = stageEndpoints(deps, group, desired.stage);
  const note = (step: string, detail?: string) =>
    report.steps.push({ stage: desired.stage, generation: desired.generation, step, detail });
  const refused = (reason: string): Input => {
    note('refused', reason);
    deps.log.error('endpoint change refused', { group, stage: desired.stage, reason });
    return { type: 'EndpointRefused', stage: desired.stage, generation: desired.generation, reason };
  };
  try {
    const endpoint = await endpoints.describe(desired.endpointName);
    const next = nextEndpointStep(desired, endpoint);
    if (next.type === 'converged') {
      note('converged');
      return { type: 'EndpointConverged', stage: desired.stage, generation: desired.generation };
    }
    if (next.type === 'wait') {
      note('wait', next.why);
      return undefined;
    }
    if (next.type === 'refused') return refused(next.why);
    // a newer decision may have replaced the spec since it was read: never send an older one
    const fresh = await stateIfNewest(deps, group, desired);
    if (!fresh) {
      note('superseded');
      return undefined;
    }
    switch (next.type) {
      case 'deploy': {
        // the version's artifacts must be in the stage's region before anything there changes
        const packageArtifacts = packageArtifactsOnce(deps);
        const preflight = await preflightSpec(deps, fresh, desired, packageArtifacts);
        if ('missing' in preflight) {
          note('preflight-failed', preflight.missing.reason);
          deps.log.error('artifacts missing: the endpoint is left as it is', {
            group,
            stage: desired.stage,
            reason: preflight.missing.reason,
          });
          return preflight.missing;
        }
        if (preflight.checked.length > 0) note('preflight', preflight.checked.join(', '));
        await removeScalingOfDroppedVariants(deps, group, desired, endpoint);
        const containers = await regionalContainers(deps, group, desired, packageArtifacts);
        const outcome = await endpoints.deploy({ ...deploySpec(deps, group, desired), containers });
        note(outcome === 'busy' ? 'wait' : 'deploy', outcome);
        return undefined;
      }
      case 'weights': {
        const outcome = await endpoints.setWeights(
          desired.endpointName,
          next.weights,
          endpoint as EndpointObservation,
        );
        note(outcome === 'busy' ? 'wait' : 'weights', JSON.stringify(next.weights));
        return undefined;
      }
      case 'delete':
        await endpoints.delete(desired.endpointName);
        note('delete', next.why);
        return undefined;
    }
  } catch (error) {
    if (error instanceof PermanentError) return refused(error.message);
    // throttling, 5xx, a busy endpoint: the next event or tick tries again
    note('retry', error instanceof Error ? error.message : String(error));
    deps.log.warn('endpoint change will be retried', {
      group,
      stage: desired.stage,
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
};

/**
 * SageMaker refuses an UpdateEndpoint that removes a variant registered with Application Auto
 * Scaling: its target is deregistered first (SageMaker developer guide, "Update endpoints that use
 * auto scaling"). A role not allowed to (a cross-account role without Application Auto Scaling
 * rights) goes on: the update then fails with SageMaker's own reason if the variant was registered.
 */
const removeScalingOfDroppedVariants = async (
  deps: Deps,
  group: string,
  desired: DesiredEndpoint,
  endpoint: EndpointObservation | null,
): Promise<void> => {
  if (!endpoint) return;
  const kept = new Set(desired.variants.map((v) => v.variantName));
  const dropped = endpoint.variants.filter((v) => !kept.has(v.variantName));
  if (dropped.length === 0) return;
  const scaling = stageAutoscaling(deps, group, desired.stage);
  for (const v of dropped) {
    try {
      await scaling.remove(desired.endpointName, v.variantName);
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      deps.log.warn('could not deregister a variant from autoscaling; updating anyway', {
        group,
        variant: v.variantName,
        error: error.message,
      });
    }
  }
};

/** The group's record as it is now, if `desired` is still its newest unsettled spec for the stage. */
const stateIfNewest = async (
  deps: Deps,
  group: string,
  desired: DesiredEndpoint,
): Promise<GroupState | undefined> => {
  const fresh = await deps.store.loadGroup(group);
  const current = fresh?.desired?.[desired.stage];
  return current?.generation === desired.generation && unsettled(current) ? fresh : undefined;
};

const deploySpec = (deps: Deps, group: string, desired: DesiredEndpoint): DeploySpec => {
  const config = groupConfig(deps, group);
  if (!config) throw new PermanentError(`model package group ${group} is no longer configured`);
  const stage = config.stages[desired.stage];
  const strategy = config.stages.prod.strategy;
  let native: NativeDeploySpec | undefined;
  if (desired.native && strategy.type === 'native') {
    native = {
      type: strategy.trafficRouting.type,
      waitIntervalSeconds: strategy.trafficRouting.waitIntervalSeconds,
      sizePercent: strategy.trafficRouting.sizePercent,
      terminationWaitSeconds: strategy.terminationWaitSeconds,
      maximumExecutionTimeoutSeconds: strategy.maximumExecutionTimeoutSeconds,
      alarms: strategy.alarms,
    };
  }
  return {
    endpointName: desired.endpointName,
    configName: desired.configName,
    variants: desired.variants,
    instance: {
      instanceType: stage.instanceType,
      instanceCount: stage.instanceCount ?? (stage.instanceType ? 1 : undefined),
      serverless: stage.serverless,
    },
    executionRoleArn: config.executionRoleArn,
    tags: {
      'managed-by': 'sagemaker-rollouts',
      group,
      stage: desired.stage,
      version: desired.variants.map((v) => `v${v.version}`).join('-'),
      // tag values may not contain '#'
      'deployment-id': desired.deploymentId.replace('#', '/attempt-'),
      ...(desired.variants.some((v) => v.variantName === NATIVE_VARIANT_NAME) ? { strategy: 'native' } : {}),
    },
    native,
  };
};
