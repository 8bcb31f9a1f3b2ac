import type { StageName } from '../../config/schema';
import type { Decision, DecisionContext } from '../decide';
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
} from '../model';
import { callbackRef } from '../naming';

/** How many terminal deployments a group record keeps (history items keep everything). */
export const KEPT_TERMINAL_DEPLOYMENTS = 20;
export const KEPT_KNOWN_GOOD = 10;
/** How many blocked versions a group record keeps (those that still matter always stay). */
export const KEPT_BLOCKED = 30;
/** Longest reason a deployment in the group record keeps. */
export const MAX_KEPT_REASON = 1024;

/** What a history entry may carry besides the transition itself. */
export interface HistoryExtra {
  readings?: GateReadings | undefined;
  weights?: Record<string, number> | undefined;
  actor?: string;
  requestId?: string | undefined;
}

/**
 * One decision in the making: a private copy of the group's state, the commands decided so far,
 * and the bookkeeping every transition goes through (history, events, callback answers).
 */
export abstract class TransitionBase {
  protected readonly state: GroupState;
  protected readonly commands: Command[] = [];
  protected readonly notes: string[] = [];
  protected rejection: string | undefined;
  protected readonly now: number;
  /** who a transition is recorded for while an operator command is applied */
  protected actor: { actor: string; requestId?: string | undefined } | undefined;

  constructor(
    original: GroupState,
    protected readonly ctx: DecisionContext,
  ) {
    this.state = structuredClone(original);
    this.state.desired ??= {};
    this.now = Math.max(ctx.now, original.updatedAt);
  }

  /** Replaces what a stage's endpoint should be; the executor converges the endpoint to it. */
  protected desire(spec: Omit<DesiredEndpoint, 'generation' | 'requestedAt' | 'settled'>): DesiredEndpoint {
    const desired: DesiredEndpoint = { ...spec, generation: this.nextGeneration(), requestedAt: this.now };
    this.state.desired![spec.stage] = desired;
    return desired;
  }

  /** New live weights on the config a stage's endpoint already should run. */
  protected desireWeights(stage: StageName, weights: Record<string, number>): void {
    const current = this.state.desired?.[stage];
    if (!current) return;
    this.state.desired![stage] = {
      ...current,
      weights: { ...weights },
      drainFirst: undefined,
      generation: this.nextGeneration(),
      requestedAt: this.now,
      settled: undefined,
    };
  }

  private nextGeneration(): number {
    this.state.generation = (this.state.generation ?? 0) + 1;
    return this.state.generation;
  }

  /** A deployment that ended wants nothing from any endpoint any more. */
  private dropDesired(d: Deployment): void {
    for (const stage of ['qa', 'prod'] as const) {
      if (this.state.desired?.[stage]?.deploymentId === d.id) delete this.state.desired[stage];
    }
  }

  result(): Decision {
    if (this.commands.length > 0) this.state.updatedAt = this.now;
    this.trimTerminal();
    return { state: this.state, commands: this.commands, rejection: this.rejection, notes: this.notes };
  }

  /** Starts the newest queued deployment once the group is free. */
  protected abstract startNextQueued(): void;

  protected answerStage(d: Deployment, stage: StageName): void {
    const live = stage === 'qa' ? this.state.qa : this.state.prod;
    const waiting = d.callbacks.filter((c) => c.stage === stage);
    if (waiting.length === 0 || !live) return;
    d.callbacks = d.callbacks.filter((c) => c.stage !== stage);
    for (const c of waiting) this.answer(c, 'success', this.outputs(stage, live));
  }

  protected outputs(stage: StageName, live: ServingVersion): Record<string, string> {
    return {
      EndpointName: this.ctx.group.stages[stage].endpointName,
      EndpointConfigName: live.configName,
      VariantName: live.variantName,
      ModelPackageArn: live.packageArn,
    };
  }

  protected answer(
    callback: CallbackWait,
    outcome: 'success' | 'failure',
    outputs?: Record<string, string>,
    reason?: string,
  ): void {
    this.commands.push({
      type: 'AnswerCallback',
      token: callback.token,
      pipelineExecutionArn: callback.pipelineExecutionArn,
      outcome,
      outputs,
      reason,
    });
    this.note(
      `callback ${callbackRef(callback.token)} of ${callback.pipelineExecutionArn}: ${outcome}${reason ? ` (${reason})` : ''}`,
    );
  }

  protected move(d: Deployment, to: Phase, reason: string, extra: HistoryExtra = {}): void {
    const from = d.phase;
    d.phase = to;
    d.phaseSince = this.now;
    // the record keeps a bounded reason; the history entry keeps all of it
    d.reason = reason.length > MAX_KEPT_REASON ? `${reason.slice(0, MAX_KEPT_REASON - 1)}…` : reason;
    this.history(d, from, to, reason, extra);
    if (!isTerminal(to)) return;
    this.dropDesired(d);
    d.awaiting = undefined;
    d.approvalDeadline = undefined;
    const eventType: Partial<Record<Phase, ServiceEventType>> = {
      Failed: 'Deployment Failed',
      Aborted: 'Deployment Aborted',
      Superseded: 'Deployment Superseded',
      RolledBack: 'Deployment Rolled Back',
    };
    const type = eventType[to];
    if (type) this.publish(type, d, { reason, readings: extra.readings });
    for (const c of d.callbacks) {
      this.answer(c, 'failure', undefined, `${d.id} ${to.toLowerCase()}: ${reason}`);
    }
    d.callbacks = [];
    if (to !== 'Succeeded' || d.targetStage === 'prod') this.startNextQueued();
  }

  protected history(
    d: Deployment,
    from: Phase | null,
    to: Phase,
    reason: string,
    extra: HistoryExtra = {},
  ): void {
    d.seq += 1;
    this.commands.push({
      type: 'RecordHistory',
      entry: {
        deploymentId: d.id,
        group: d.group,
        seq: d.seq,
        at: this.now,
        from,
        to,
        actor: extra.actor ?? this.actor?.actor ?? 'system',
        reason,
        requestId: extra.requestId ?? this.actor?.requestId,
        readings: extra.readings,
        weights: extra.weights,
      },
    });
    this.note(`${d.id}: ${from ?? 'new'} -> ${to}: ${reason}`);
  }

  protected publish(
    type: ServiceEventType,
    d: Deployment | undefined,
    detail: Record<string, unknown>,
  ): void {
    this.commands.push({
      type: 'Publish',
      event: {
        type,
        deploymentId: d?.id,
        group: this.state.group,
        version: d?.version,
        at: this.now,
        detail: { phase: d?.phase, ...timings(d), ...detail },
      },
    });
  }

  protected registry(
    d: Deployment,
    stage: 'QA' | 'Production',
    status: 'Deployed' | 'Failed' | 'RolledBack',
    description: string,
  ): void {
    this.commands.push({
      type: 'UpdateRegistry',
      packageArn: d.packageArn,
      lifecycle: { stage, status, description: description.slice(0, 1024) },
    });
  }

  protected note(text: string): void {
    this.notes.push(text);
  }

  protected find(id: string): Deployment | undefined {
    return this.state.deployments.find((d) => d.id === id);
  }

  protected active(): Deployment[] {
    return this.state.deployments.filter((d) => !isTerminal(d.phase));
  }

  protected activeFor(version: number): Deployment | undefined {
    return this.active().find((d) => d.version === version);
  }

  protected deploymentsFor(version: number): Deployment[] {
    return this.state.deployments.filter((d) => d.version === version);
  }

  protected latestFor(version: number): Deployment | undefined {
    return this.deploymentsFor(version).sort((a, b) => b.attempt - a.attempt)[0];
  }

  protected nextAttempt(version: number): number {
    return Math.max(0, ...this.deploymentsFor(version).map((d) => d.attempt)) + 1;
  }

  /**
   * Keeps the record bounded however many versions the group ships: the most recent finished
   * deployments (history items keep everything) and the blocks that can still matter. A late
   * approval of a version no longer listed is older than the highest one and so is superseded.
   */
  protected trimTerminal(): void {
    const terminal = this.state.deployments.filter((d) => isTerminal(d.phase));
    if (terminal.length > KEPT_TERMINAL_DEPLOYMENTS) {
      const newestOfHighest = this.latestFor(this.state.highestVersion);
      const keep = new Set(
        terminal.sort((a, b) => b.phaseSince - a.phaseSince).slice(0, KEPT_TERMINAL_DEPLOYMENTS),
      );
      this.state.deployments = this.state.deployments.filter(
        (d) => !isTerminal(d.phase) || keep.has(d) || d === newestOfHighest,
      );
    }
    if (this.state.blocked.length > KEPT_BLOCKED) {
      // a block matters while the version could still be deployed: the highest version, one
      // serving or known good (a rollback target); for older ones approvals are superseded anyway
      const matters = new Set([
        this.state.highestVersion,
        this.state.prod?.version,
        ...this.state.knownGood.map((k) => k.version),
      ]);
      const recent = new Set(
        [...this.state.blocked].sort((a, b) => b.at - a.at).slice(0, KEPT_BLOCKED - matters.size),
      );
      this.state.blocked = this.state.blocked.filter((b) => matters.has(b.version) || recent.has(b));
    }
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
