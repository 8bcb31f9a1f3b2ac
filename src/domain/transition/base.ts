import type { StageName } from '../../config/schema';
import type { Decision, DecisionContext } from '../decide';
import {
  type CallbackWait,
  type Command,
  type Deployment,
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
    this.now = Math.max(ctx.now, original.updatedAt);
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
    d.reason = reason;
    this.history(d, from, to, reason, extra);
    if (!isTerminal(to)) return;
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

  protected trimTerminal(): void {
    const terminal = this.state.deployments.filter((d) => isTerminal(d.phase));
    if (terminal.length <= KEPT_TERMINAL_DEPLOYMENTS) return;
    const drop = new Set(
      terminal
        .sort((a, b) => a.phaseSince - b.phaseSince)
        .slice(0, terminal.length - KEPT_TERMINAL_DEPLOYMENTS),
    );
    // keep the latest attempt of every version so duplicates of old events stay recognisable
    const latestIds = new Set(
      [...new Set(this.state.deployments.map((d) => d.version))].map((v) => this.latestFor(v)?.id),
    );
    this.state.deployments = this.state.deployments.filter((d) => !drop.has(d) || latestIds.has(d.id));
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
