import type { Deployment, GroupState } from '../domain/model';
import { parseDeploymentId } from '../domain/naming';
import type { Context } from './context';
import { currentReason } from './current-reason';
import { EXIT, type ExitCode } from './errors';
import { executorHint } from './executor-hint';
import { findDeployment, NotRecordedError } from './history';
import { stageOf } from './status';

/** How a followed deployment stopped, and the exit code a pipeline decides on. */
export interface WaitOutcome {
  deploymentId: string;
  /** succeeded | unsuccessful | needs-operator | timed-out */
  outcome: 'succeeded' | 'unsuccessful' | 'needs-operator' | 'timed-out';
  phase: Deployment['phase'];
  paused: boolean;
  reason?: string | undefined;
  /** the last error the executor met on the deployment's endpoint, while it keeps retrying */
  retrying?: string | undefined;
  exitCode: ExitCode;
}

/** Where a deployment stands for `status --wait`; undefined while it is still moving on its own. */
export const settledOutcome = (d: Deployment): Omit<WaitOutcome, 'deploymentId'> | undefined => {
  const base = { phase: d.phase, paused: d.canary?.paused ?? false, reason: d.reason };
  switch (d.phase) {
    case 'Succeeded':
      return { ...base, outcome: 'succeeded', exitCode: EXIT.ok };
    case 'RolledBack':
    case 'Failed':
    case 'Aborted':
    case 'Superseded':
      return { ...base, outcome: 'unsuccessful', exitCode: EXIT.unsuccessful };
    case 'AwaitingApproval':
      return { ...base, outcome: 'needs-operator', exitCode: EXIT.needsOperator };
    case 'Canary':
      return base.paused ? { ...base, outcome: 'needs-operator', exitCode: EXIT.needsOperator } : undefined;
    default:
      return undefined;
  }
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * How long `--wait` waits for a deployment the table does not hold yet: a version approved a
 * moment ago is recorded only once its approval event has reached the service (seconds in AWS),
 * so `approve` followed at once by `status --wait` must not fail; a version number that never
 * comes should not hold a pipeline for the whole timeout either.
 */
export const APPEAR_WITHIN_MS = 120_000;

/**
 * The deployment, or undefined while it may still be recorded: its group has no deployment of
 * that version or a later one yet, and `until` has not passed. Otherwise what findDeployment says
 * (an unknown group, or a version the group has passed, fails at once with exit 2).
 */
const findOrAwaited = async (
  ctx: Context,
  id: string,
  until: number,
): Promise<{ state: GroupState; deployment: Deployment } | undefined> => {
  try {
    return await findDeployment(ctx, id);
  } catch (error) {
    if (!(error instanceof NotRecordedError) || Date.now() >= until) throw error;
    const { version } = parseDeploymentId(id)!;
    if (error.versions.some((known) => known >= version)) throw error;
    return undefined;
  }
};

/**
 * Follows one deployment until it succeeds, ends otherwise, or needs an operator (paused, awaiting
 * approval), or until `timeoutMs` of this machine's time has passed. `onRefresh` sees each reading.
 */
export const waitForDeployment = async (
  ctx: Context,
  id: string,
  options: {
    timeoutMs: number;
    intervalMs: number;
    onRefresh?: (d: Deployment, retrying: string | undefined) => void;
    /** each reading before the deployment is recorded (its approval still on its way) */
    onAwaiting?: () => void;
  },
): Promise<WaitOutcome> => {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  for (;;) {
    const found = await findOrAwaited(ctx, id, started + Math.min(options.timeoutMs, APPEAR_WITHIN_MS));
    if (!found) {
      options.onAwaiting?.();
      await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
      continue;
    }
    const { state, deployment } = found;
    const settled = settledOutcome(deployment);
    const retrying = settled ? undefined : await retryingOn(ctx, state, deployment);
    options.onRefresh?.(deployment, retrying);
    // who paused it and why, or the step it is in: not the reason of its last phase change
    const now = async () => currentReason(deployment, await ctx.store.history(id));
    if (settled?.outcome === 'needs-operator') return { deploymentId: id, ...settled, reason: await now() };
    if (settled) return { deploymentId: id, ...settled };
    const left = deadline - Date.now();
    if (left <= 0) {
      return {
        deploymentId: id,
        outcome: 'timed-out',
        phase: deployment.phase,
        paused: deployment.canary?.paused ?? false,
        reason: await now(),
        retrying,
        exitCode: EXIT.timeout,
      };
    }
    await sleep(Math.min(options.intervalMs, left));
  }
};

/** The executor's last error on the endpoint the deployment waits on, aged as `status` ages it. */
const retryingOn = async (ctx: Context, state: GroupState, d: Deployment): Promise<string | undefined> => {
  const error = (await ctx.reader.executorErrors(state.group)).find((e) => e.stage === stageOf(d));
  if (!error) return undefined;
  // an emulator may run on virtual time: measure against what the service last did
  return executorHint(error, ctx.settings.endpointUrl ? state.updatedAt : Date.now());
};

export const describeOutcome = (outcome: WaitOutcome): string => {
  const why = outcome.reason ? `: ${outcome.reason}` : '';
  switch (outcome.outcome) {
    case 'succeeded':
      return `${outcome.deploymentId} succeeded`;
    case 'unsuccessful':
      return `${outcome.deploymentId} ended ${outcome.phase}${why}`;
    case 'needs-operator':
      return outcome.paused
        ? `${outcome.deploymentId} is paused${why}; resume, promote or abort it`
        : `${outcome.deploymentId} awaits approval${why}; promote or abort it`;
    case 'timed-out':
      return `${outcome.deploymentId} still ${outcome.phase}${outcome.paused ? ' (paused)' : ''} when the wait timed out${why}${outcome.retrying ? `; ${outcome.retrying}` : ''}`;
  }
};
