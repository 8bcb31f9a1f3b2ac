import type { StageName } from '../config/schema';
import type { Decision, DecisionContext } from './decide';
import { startNextQueued } from './flows/qa';
import {
  type CallbackWait,
  type Command,
  type Deployment,
  type DesiredEndpoint,
  type GateReadings,
  type GroupState,
  isTerminal,
  type Phase,
  type ServiceEventType,
  type ServingVersion,
} from './model';
import { callbackRef } from './naming';
import { placeOf, type StagePlace, stageOfMove, stageOfPhase } from './stage-place';

/** How many terminal deployments a group record keeps (history items keep everything). */
export const KEPT_TERMINAL_DEPLOYMENTS = 20;
export const KEPT_KNOWN_GOOD = 10;
/** How many blocked versions a group record keeps (those that still matter always stay). */
export const KEPT_BLOCKED = 30;
/** Longest reason a deployment in the group record keeps. */
export const MAX_KEPT_REASON = 1024;

/** What a history entry may carry besides the transition itself: readings, weights, who asked. */
export interface HistoryExtra {
  readings?: GateReadings | undefined;
  weights?: Record<string, number> | undefined;
  actor?: string | undefined;
  requestId?: string | undefined;
}

/**
 * One decision in the making, passed explicitly to every flow: a private copy of the group's
 * state, the effects decided so far, notes, and why a command was refused.
 */
export interface Draft {
  readonly state: GroupState;
  readonly ctx: DecisionContext;
  /** never earlier than the record's latest decision */
  readonly now: number;
  readonly commands: Command[];
  readonly notes: string[];
  rejection: string | undefined;
}

export function newDraft(original: GroupState, ctx: DecisionContext): Draft {
  const state = structuredClone(original);
  state.desired ??= {};
  return {
    state,
    ctx,
    now: Math.max(ctx.now, original.updatedAt),
    commands: [],
    notes: [],
    rejection: undefined,
  };
}

export function result(t: Draft): Decision {
  if (t.commands.length > 0) t.state.updatedAt = t.now;
  trimTerminal(t);
  return { state: t.state, commands: t.commands, rejection: t.rejection, notes: t.notes };
}

/**
 * One decision in the making, passed explicitly to every flow: a private copy of the group's
 * state, the effects decided so far, notes, and the bookkeeping every transition goes through
 * (history, events, callback answers, desired endpoints).
 */

/** Replaces what a stage's endpoint should be; the executor converges the endpoint to it. */
export function desire(
  t: Draft,
  spec: Omit<DesiredEndpoint, 'generation' | 'requestedAt' | 'settled'>,
): DesiredEndpoint {
  const desired: DesiredEndpoint = { ...spec, generation: nextGeneration(t), requestedAt: t.now };
  t.state.desired![spec.stage] = desired;
  return desired;
}

/** New live weights on the config a stage's endpoint already should run. */
export function desireWeights(t: Draft, stage: StageName, weights: Record<string, number>): void {
  const current = t.state.desired?.[stage];
  if (!current) return;
  t.state.desired![stage] = {
    ...current,
    weights: { ...weights },
    drainFirst: undefined,
    generation: nextGeneration(t),
    requestedAt: t.now,
    settled: undefined,
  };
}

export function nextGeneration(t: Draft): number {
  t.state.generation = (t.state.generation ?? 0) + 1;
  return t.state.generation;
}

/** A deployment that ended wants nothing from any endpoint any more. */
export function dropDesired(t: Draft, d: Deployment): void {
  for (const stage of ['qa', 'prod'] as const) {
    if (t.state.desired?.[stage]?.deploymentId === d.id) delete t.state.desired[stage];
  }
}

export function answerStage(t: Draft, d: Deployment, stage: StageName): void {
  const live = stage === 'qa' ? t.state.qa : t.state.prod;
  const waiting = d.callbacks.filter((c) => c.stage === stage);
  if (waiting.length === 0 || !live) return;
  d.callbacks = d.callbacks.filter((c) => c.stage !== stage);
  for (const c of waiting) answer(t, c, 'success', outputs(t, stage, live));
}

export function outputs(t: Draft, stage: StageName, live: ServingVersion): Record<string, string> {
  return {
    EndpointName: t.ctx.group.stages[stage].endpointName,
    EndpointConfigName: live.configName,
    VariantName: live.variantName,
    ModelPackageArn: live.packageArn,
  };
}

export function answer(
  t: Draft,
  callback: CallbackWait,
  outcome: 'success' | 'failure',
  outputs?: Record<string, string>,
  reason?: string,
): void {
  t.commands.push({
    type: 'AnswerCallback',
    token: callback.token,
    pipelineExecutionArn: callback.pipelineExecutionArn,
    outcome,
    outputs,
    reason,
  });
  note(
    t,
    `callback ${callbackRef(callback.token)} of ${callback.pipelineExecutionArn}: ${outcome}${reason ? ` (${reason})` : ''}`,
  );
}

export function move(t: Draft, d: Deployment, to: Phase, reason: string, extra: HistoryExtra = {}): void {
  const from = d.phase;
  d.phase = to;
  d.phaseSince = t.now;
  // the record keeps a bounded reason; the history entry keeps all of it
  d.reason = reason.length > MAX_KEPT_REASON ? `${reason.slice(0, MAX_KEPT_REASON - 1)}…` : reason;
  const place = history(t, d, from, to, reason, extra);
  if (!isTerminal(to)) return;
  dropDesired(t, d);
  d.awaiting = undefined;
  d.approvalDeadline = undefined;
  const eventType: Partial<Record<Phase, ServiceEventType>> = {
    Failed: 'Deployment Failed',
    Aborted: 'Deployment Aborted',
    Superseded: 'Deployment Superseded',
    RolledBack: 'Deployment Rolled Back',
  };
  const type = eventType[to];
  if (type) publish(t, type, d, { reason, readings: extra.readings }, place);
  for (const c of d.callbacks) {
    answer(t, c, 'failure', undefined, `${d.id} ${to.toLowerCase()}: ${reason}`);
  }
  d.callbacks = [];
  if (to !== 'Succeeded' || d.targetStage === 'prod') startNextQueued(t);
}

export function history(
  t: Draft,
  d: Deployment,
  from: Phase | null,
  to: Phase,
  reason: string,
  extra: HistoryExtra = {},
): StagePlace | undefined {
  const place = stagePlace(t, stageOfMove(d, from, to));
  d.seq += 1;
  t.commands.push({
    type: 'RecordHistory',
    entry: {
      deploymentId: d.id,
      group: d.group,
      seq: d.seq,
      at: t.now,
      from,
      to,
      actor: extra.actor ?? 'system',
      reason,
      ...place,
      requestId: extra.requestId,
      readings: extra.readings,
      weights: extra.weights,
    },
  });
  note(t, `${d.id}: ${from ?? 'new'} -> ${to}: ${reason}`);
  return place;
}

/** The stage and region of this group's stage `stage`. */
export function stagePlace(t: Draft, stage: StageName | undefined): StagePlace | undefined {
  return placeOf(t.ctx.group, t.ctx.serviceRegion, stage);
}

export function publish(
  t: Draft,
  type: ServiceEventType,
  d: Deployment | undefined,
  detail: Record<string, unknown>,
  /** where it happens; by default the stage of the deployment's phase */
  place: StagePlace | undefined = d && stagePlace(t, stageOfPhase(d, d.phase)),
): void {
  t.commands.push({
    type: 'Publish',
    event: {
      type,
      deploymentId: d?.id,
      group: t.state.group,
      version: d?.version,
      ...place,
      at: t.now,
      detail: { phase: d?.phase, ...timings(d), ...detail },
    },
  });
}

export function markInRegistry(
  t: Draft,
  d: Deployment,
  stage: 'QA' | 'Production',
  status: 'Deployed' | 'Failed' | 'RolledBack',
  description: string,
): void {
  t.commands.push({
    type: 'UpdateRegistry',
    packageArn: d.packageArn,
    lifecycle: { stage, status, description: description.slice(0, 1024) },
  });
}

export function note(t: Draft, text: string): void {
  t.notes.push(text);
}

export function find(t: Draft, id: string): Deployment | undefined {
  return t.state.deployments.find((d) => d.id === id);
}

export function active(t: Draft): Deployment[] {
  return t.state.deployments.filter((d) => !isTerminal(d.phase));
}

export function activeFor(t: Draft, version: number): Deployment | undefined {
  return active(t).find((d) => d.version === version);
}

export function deploymentsFor(t: Draft, version: number): Deployment[] {
  return t.state.deployments.filter((d) => d.version === version);
}

export function latestFor(t: Draft, version: number): Deployment | undefined {
  return deploymentsFor(t, version).sort((a, b) => b.attempt - a.attempt)[0];
}

export function nextAttempt(t: Draft, version: number): number {
  return Math.max(0, ...deploymentsFor(t, version).map((d) => d.attempt)) + 1;
}

/**
 * Keeps the record bounded however many versions the group ships: the most recent finished
 * deployments (history items keep everything) and the blocks that can still matter. A late
 * approval of a version no longer listed is older than the highest one and so is superseded.
 */
export function trimTerminal(t: Draft): void {
  const terminal = t.state.deployments.filter((d) => isTerminal(d.phase));
  if (terminal.length > KEPT_TERMINAL_DEPLOYMENTS) {
    const newestOfHighest = latestFor(t, t.state.highestVersion);
    const keep = new Set(
      terminal.sort((a, b) => b.phaseSince - a.phaseSince).slice(0, KEPT_TERMINAL_DEPLOYMENTS),
    );
    t.state.deployments = t.state.deployments.filter(
      (d) => !isTerminal(d.phase) || keep.has(d) || d === newestOfHighest,
    );
  }
  if (t.state.blocked.length > KEPT_BLOCKED) {
    // a block matters while the version could still be deployed: the highest version, one
    // serving or known good (a rollback target); for older ones approvals are superseded anyway
    const matters = new Set([
      t.state.highestVersion,
      t.state.prod?.version,
      ...t.state.knownGood.map((k) => k.version),
    ]);
    const recent = new Set(
      [...t.state.blocked].sort((a, b) => b.at - a.at).slice(0, KEPT_BLOCKED - matters.size),
    );
    t.state.blocked = t.state.blocked.filter((b) => matters.has(b.version) || recent.has(b));
  }
}

/** When the deployment and its canary started: what durations are measured from. */
const timings = (d: Deployment | undefined): Record<string, number> => {
  if (!d) return {};
  return {
    startedAt: d.createdAt,
    ...(d.canary ? { canaryStartedAt: d.canary.startedAt, stepStartedAt: d.canary.stepStartedAt } : {}),
  };
};
