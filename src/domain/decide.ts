import type { GroupConfig, StageName } from '../config/schema';
import { evaluateGates, sameTrafficSplit, summariseReadings } from './gates';
import {
  type CallbackWait,
  type Command,
  type Deployment,
  type EndpointObservation,
  type GateReadings,
  type GroupState,
  isTerminal,
  type OperatorCommand,
  type PackageInfo,
  type Phase,
  PROD_PHASES,
  type ServiceEventType,
  type ServingVersion,
  type Trigger,
  type VariantSpec,
} from './model';
import { deploymentId, endpointConfigName, modelName, NATIVE_VARIANT_NAME, variantName } from './naming';

/** An endpoint that is not InService on what we asked for after this long has failed. */
export const ENDPOINT_WAIT_LIMIT_MS = 3 * 60 * 60 * 1000;
/** How many terminal deployments a group record keeps (history items keep everything). */
export const KEPT_TERMINAL_DEPLOYMENTS = 20;
const KEPT_KNOWN_GOOD = 10;

export type Input =
  /** the registry (not the event) says this version is Approved */
  | { type: 'Approved'; pkg: PackageInfo }
  | { type: 'Rejected'; pkg: PackageInfo }
  /** DescribeEndpoint of a stage's endpoint (null: it does not exist) */
  | { type: 'EndpointObserved'; stage: StageName; endpoint: EndpointObservation | null }
  | { type: 'SmokeTested'; deploymentId: string; ok: boolean; detail: string }
  | { type: 'CanaryObserved'; deploymentId: string; readings: GateReadings }
  /** `pkg` is the registry's view of the deployment's version (needed by `retry`) */
  | { type: 'Operator'; command: OperatorCommand; pkg?: PackageInfo | undefined }
  | { type: 'CallbackRequested'; callback: Omit<CallbackWait, 'deadline'>; pkg: PackageInfo }
  | { type: 'CallbackStopping'; token: string }
  /** a command for this deployment failed permanently (e.g. invalid instance type, missing permission) */
  | { type: 'CommandFailed'; deploymentId: string; command: Command['type']; reason: string }
  /** timeouts, queued work, waiting for prod */
  | { type: 'Tick' };

export interface DecisionContext {
  group: GroupConfig;
  now: number;
}

export interface Decision {
  state: GroupState;
  commands: Command[];
  /** why an operator command or request was refused (nothing else changed) */
  rejection?: string | undefined;
  /** a plain account of what was decided, for logs (empty when nothing changed) */
  notes: string[];
}

export const emptyGroupState = (group: string): GroupState => ({
  group,
  revision: 0,
  knownGood: [],
  highestVersion: 0,
  blocked: [],
  deployments: [],
  outbox: [],
  updatedAt: 0,
});

/** Pure: the next state and the commands to carry out. The input state is not modified. */
export const decide = (state: GroupState, input: Input, ctx: DecisionContext): Decision => {
  const t = new Transition(state, ctx);
  t.apply(input);
  return t.result();
};

/** Folds several inputs (e.g. a tick's observations) into one decision. */
export const decideAll = (state: GroupState, inputs: Input[], ctx: DecisionContext): Decision => {
  const t = new Transition(state, ctx);
  for (const input of inputs) t.apply(input);
  return t.result();
};

/** What a history entry may carry besides the transition itself. */
interface HistoryExtra {
  readings?: GateReadings | undefined;
  weights?: Record<string, number> | undefined;
  actor?: string;
  requestId?: string | undefined;
}

const QA_PHASES: ReadonlySet<Phase> = new Set([
  'Queued',
  'QaDeploying',
  'QaVerifying',
  'AwaitingApproval',
  'ReadyForProd',
]);

class Transition {
  private readonly state: GroupState;
  private readonly commands: Command[] = [];
  private readonly notes: string[] = [];
  private rejection: string | undefined;
  private readonly now: number;

  constructor(
    original: GroupState,
    private readonly ctx: DecisionContext,
  ) {
    this.state = structuredClone(original);
    this.now = Math.max(ctx.now, original.updatedAt);
  }

  result(): Decision {
    if (this.commands.length > 0) this.state.updatedAt = this.now;
    this.trimTerminal();
    return { state: this.state, commands: this.commands, rejection: this.rejection, notes: this.notes };
  }

  apply(input: Input): void {
    switch (input.type) {
      case 'Approved':
        return this.onApproved(input.pkg);
      case 'Rejected':
        return this.onRejected(input.pkg);
      case 'EndpointObserved':
        return this.onEndpointObserved(input.stage, input.endpoint);
      case 'SmokeTested':
        return this.onSmokeTested(input.deploymentId, input.ok, input.detail);
      case 'CanaryObserved':
        return this.onCanaryObserved(input.deploymentId, input.readings);
      case 'Operator':
        return this.onOperator(input.command, input.pkg);
      case 'CallbackRequested':
        return this.onCallbackRequested(input.callback, input.pkg);
      case 'CallbackStopping':
        return this.onCallbackStopping(input.token);
      case 'CommandFailed':
        return this.onCommandFailed(input.deploymentId, input.command, input.reason);
      case 'Tick':
        return this.onTick();
    }
  }

  // ---------------------------------------------------------------- registry

  private onApproved(pkg: PackageInfo): void {
    if (pkg.approvalStatus !== 'Approved') return this.note(`v${pkg.version} is not approved: ignored`);
    const existing = this.latestFor(pkg.version);
    if (existing && !isTerminal(existing.phase)) {
      if (existing.targetStage === 'qa') {
        existing.targetStage = 'prod';
        return this.note(`${existing.id} now continues to prod (approved)`);
      }
      return this.note(`${existing.id} is already in progress (${existing.phase}): duplicate ignored`);
    }
    const wasBlocked = this.state.blocked.some((b) => b.version === pkg.version);
    if (!this.clearBlockIfApprovedAnew(pkg)) return;
    // a pipeline took it to QA only: its first approval continues to prod (not a redelivered one)
    const onlyReachedQa =
      existing?.phase === 'Succeeded' &&
      existing.targetStage === 'qa' &&
      !this.deploymentsFor(pkg.version).some((d) => d.trigger === 'approval');
    if (existing && !onlyReachedQa && !wasBlocked) {
      // a duplicate or late approval never restarts a deployment; `retry` or a new approval does
      return this.note(`${existing.id} already ended ${existing.phase}: use retry to run it again`);
    }
    this.requestDeployment(pkg, 'approval', 'prod', undefined);
  }

  private onRejected(pkg: PackageInfo): void {
    const reason = `v${pkg.version} rejected in the model registry`;
    const active = this.activeFor(pkg.version);
    // the registry's own time: an approval read before this rejection must not lift the block
    this.block(pkg.version, reason, Math.max(this.now, pkg.lastModifiedTime));
    if (active) {
      this.stop(active, 'Aborted', reason);
      return;
    }
    if (this.state.prod?.version === pkg.version) {
      const refused = this.rollbackProd(pkg.version, reason, 'registry');
      if (refused) this.note(`${reason} but it stays in prod: ${refused}`);
      return;
    }
    this.note(`${reason}: not deployed, nothing to undo`);
  }

  /** Returns false (and notes why) when the version is blocked and was not approved since. */
  private clearBlockIfApprovedAnew(pkg: PackageInfo): boolean {
    const blocked = this.state.blocked.find((b) => b.version === pkg.version);
    if (!blocked) return true;
    if (!this.approvedAfter(pkg, blocked.at)) {
      this.note(`v${pkg.version} was ${blocked.reason}; it needs a new approval`);
      return false;
    }
    this.state.blocked = this.state.blocked.filter((b) => b.version !== pkg.version);
    return true;
  }

  private approvedAfter(pkg: PackageInfo, at: number): boolean {
    return pkg.approvalStatus === 'Approved' && pkg.lastModifiedTime > at;
  }

  /**
   * A new deployment of `pkg`, subject to the group's concurrency policy. Versions older than one
   * already started are superseded at once, so the outcome does not depend on event order.
   */
  private requestDeployment(
    pkg: PackageInfo,
    trigger: Trigger,
    targetStage: StageName,
    callback: CallbackWait | undefined,
  ): Deployment {
    const attempt = Math.max(0, ...this.deploymentsFor(pkg.version).map((d) => d.attempt)) + 1;
    const d: Deployment = {
      id: deploymentId(pkg.group, pkg.version, attempt),
      group: pkg.group,
      version: pkg.version,
      packageArn: pkg.arn,
      attempt,
      trigger,
      targetStage,
      phase: 'Queued',
      createdAt: this.now,
      phaseSince: this.now,
      callbacks: callback ? [callback] : [],
      seq: 0,
    };
    this.state.deployments.push(d);
    this.history(d, null, 'Queued', `requested by ${trigger}`);
    this.publish('Deployment Started', d, { trigger, targetStage, packageArn: pkg.arn });

    if (pkg.version < this.state.highestVersion && trigger === 'approval') {
      this.move(d, 'Superseded', `v${this.state.highestVersion} is newer`);
      return d;
    }
    this.state.highestVersion = Math.max(this.state.highestVersion, pkg.version);
    const others = this.active().filter((o) => o !== d && o.phase !== 'RollingBack');
    if (others.length === 0) {
      this.startQa(d);
      return d;
    }
    switch (this.ctx.group.concurrency) {
      case 'reject': {
        const names = others.map((o) => o.id).join(', ');
        this.move(d, 'Failed', `refused by the concurrency policy: ${names} in progress`);
        return d;
      }
      case 'queue': {
        for (const o of others) {
          if (o.phase === 'Queued' && o.version < d.version) {
            this.move(o, 'Superseded', `v${d.version} is newer`);
          }
        }
        if (this.active().some((o) => o !== d && o.phase !== 'Queued')) {
          d.reason = `queued behind ${others.map((o) => o.id).join(', ')}`;
        } else {
          this.startQa(d);
        }
        return d;
      }
      case 'supersede': {
        for (const o of others) {
          if (o.phase === 'Promoting') continue;
          this.stop(o, 'Superseded', `superseded by v${d.version}`);
        }
        this.startQa(d);
        return d;
      }
    }
  }

  // ---------------------------------------------------------------- QA

  private startQa(d: Deployment): void {
    if (d.phase !== 'Queued') return;
    const stage = this.ctx.group.stages.qa;
    const variants = [this.variantFor(d, 100)];
    this.deploy(d, 'qa', stage.endpointName, variants, 'QaDeploying', `deploying v${d.version} to QA`);
  }

  private deploy(
    d: Deployment,
    stage: StageName,
    endpointName: string,
    variants: VariantSpec[],
    phase: Phase,
    reason: string,
    native = false,
  ): string {
    const configName = endpointConfigName(endpointName, variants);
    d.awaiting = { stage, endpointName, configName, variants, requestedAt: this.now };
    this.commands.push({
      type: 'DeployEndpoint',
      group: d.group,
      stage,
      endpointName,
      configName,
      variants,
      deploymentId: d.id,
      native,
    });
    this.move(d, phase, reason);
    return configName;
  }

  private variantFor(d: Deployment, weight: number, name = variantName(d.version)): VariantSpec {
    return {
      variantName: name,
      modelName: modelName(d.group, d.version),
      packageArn: d.packageArn,
      version: d.version,
      weight,
    };
  }

  private onSmokeTested(id: string, ok: boolean, detail: string): void {
    const d = this.find(id);
    if (!d || d.phase !== 'QaVerifying') return;
    if (!ok) {
      this.registry(d, 'QA', 'Failed', `smoke test failed: ${detail}`);
      this.move(d, 'Failed', `QA smoke test failed: ${detail}`);
      return;
    }
    this.qaPassed(d, `smoke test passed: ${detail}`);
  }

  private qaPassed(d: Deployment, reason: string): void {
    const qa = this.ctx.group.stages.qa;
    const awaiting = d.awaiting;
    const previous = this.state.qa;
    if (previous && awaiting && previous.configName && previous.configName !== awaiting.configName) {
      // QA now runs the new config: the old one (and its model, unless prod still runs it) goes
      const inProd = this.state.prod?.version === previous.version;
      this.commands.push({
        type: 'RetireResources',
        group: d.group,
        stage: 'qa',
        modelNames: inProd || previous.version === d.version ? [] : [previous.modelName],
        configNames: [previous.configName],
      });
    }
    this.state.qa = {
      version: d.version,
      packageArn: d.packageArn,
      modelName: modelName(d.group, d.version),
      variantName: variantName(d.version),
      configName: awaiting?.configName ?? '',
    };
    d.awaiting = undefined;
    this.registry(d, 'QA', 'Deployed', reason);
    this.publish('Stage Deployed', d, { stage: 'qa', endpointName: qa.endpointName, reason });
    this.answerStage(d, 'qa');
    if (d.targetStage === 'qa') {
      this.move(d, 'Succeeded', `live in QA (${reason})`);
      return;
    }
    if (this.ctx.group.promotion.mode === 'manual') {
      d.approvalDeadline = this.now + this.ctx.group.promotion.approvalTimeoutMinutes * 60_000;
      this.move(d, 'AwaitingApproval', `QA verified (${reason}); waiting for promote`);
      this.publish('Awaiting Approval', d, { approvalDeadline: new Date(d.approvalDeadline).toISOString() });
      return;
    }
    this.move(d, 'ReadyForProd', `QA verified (${reason})`);
    this.tryStartProd(d);
  }

  // ---------------------------------------------------------------- prod

  private tryStartProd(d: Deployment): void {
    const holder = this.state.deployments.find((o) => o !== d && PROD_PHASES.has(o.phase));
    if (holder) {
      d.reason = `waiting for ${holder.id} (${holder.phase}) to release prod`;
      return;
    }
    const prodStage = this.ctx.group.stages.prod;
    const serving = this.state.prod;
    if (serving?.version === d.version) {
      this.answerStage(d, 'prod');
      this.move(d, 'Succeeded', `v${d.version} already serves prod`);
      return;
    }
    if (prodStage.strategy.type === 'native') {
      d.prodPlan = 'native';
      const variants = [this.variantFor(d, 100, NATIVE_VARIANT_NAME)];
      this.deploy(
        d,
        'prod',
        prodStage.endpointName,
        variants,
        'NativeShifting',
        `SageMaker blue/green ${prodStage.strategy.trafficRouting.type} to v${d.version}`,
        true,
      );
      return;
    }
    if (!serving) {
      d.prodPlan = 'replace';
      this.deploy(
        d,
        'prod',
        prodStage.endpointName,
        [this.variantFor(d, 100)],
        'ProdDeploying',
        `first prod deployment: v${d.version} alone`,
      );
      return;
    }
    const firstWeight = prodStage.strategy.steps[0]!.weight;
    const baseline: VariantSpec = {
      variantName: serving.variantName,
      modelName: serving.modelName,
      packageArn: serving.packageArn,
      version: serving.version,
      weight: 100 - firstWeight,
    };
    const candidate = this.variantFor(d, firstWeight);
    d.prodPlan = 'canary';
    const configName = this.deploy(
      d,
      'prod',
      prodStage.endpointName,
      [baseline, candidate],
      'ProdDeploying',
      `canary config: v${serving.version} ${baseline.weight}% / v${d.version} ${firstWeight}%`,
    );
    d.canary = {
      configName,
      baselineVersion: serving.version,
      baselineVariant: baseline.variantName,
      candidateVariant: candidate.variantName,
      stepIndex: 0,
      stepStartedAt: this.now,
      bakeUntil: this.now,
      extensions: 0,
      startedAt: this.now,
      paused: false,
      weights: { [baseline.variantName]: baseline.weight, [candidate.variantName]: candidate.weight },
    };
  }

  private startCanary(d: Deployment): void {
    const c = d.canary!;
    const step = this.canarySteps()[0]!;
    c.stepIndex = 0;
    c.stepStartedAt = this.now;
    c.startedAt = this.now;
    c.bakeUntil = this.now + step.bakeMinutes * 60_000;
    c.extensions = 0;
    d.awaiting = undefined;
    this.move(d, 'Canary', `step 1/${this.canarySteps().length}: ${step.weight}% to v${d.version}`, {
      weights: { ...c.weights },
    });
  }

  private canarySteps() {
    const strategy = this.ctx.group.stages.prod.strategy;
    return strategy.type === 'canary' ? strategy.steps : [];
  }

  private onCanaryObserved(id: string, readings: GateReadings): void {
    const d = this.find(id);
    const strategy = this.ctx.group.stages.prod.strategy;
    if (!d || d.phase !== 'Canary' || !d.canary || strategy.type !== 'canary') return;
    const c = d.canary;
    c.lastReadings = readings;
    const steps = strategy.steps;
    const step = steps[c.stepIndex]!;
    const where = `step ${c.stepIndex + 1}/${steps.length} (${step.weight}%)`;
    const verdict = evaluateGates(readings, strategy.gates);
    if (verdict.status === 'breach') {
      this.stop(
        d,
        'RolledBack',
        `gate failed at ${where}: ${verdict.reasons.join('; ')} (${summariseReadings(readings)})`,
        readings,
      );
      return;
    }
    if (
      strategy.maxDurationMinutes !== undefined &&
      this.now - c.startedAt > strategy.maxDurationMinutes * 60_000
    ) {
      this.stop(
        d,
        'RolledBack',
        `canary exceeded its maximum duration of ${strategy.maxDurationMinutes} min`,
      );
      return;
    }
    if (c.paused || this.now < c.bakeUntil) return;
    if (verdict.status === 'insufficient') {
      const noData = strategy.gates.noData;
      if (noData.action === 'fail') {
        this.stop(d, 'RolledBack', `no verdict at ${where}: ${verdict.reasons.join('; ')}`, readings);
        return;
      }
      if (noData.action === 'extend') {
        if (c.extensions >= noData.maxExtensions) {
          this.stop(
            d,
            'RolledBack',
            `no verdict at ${where} after ${c.extensions} extensions: ${verdict.reasons.join('; ')}`,
            readings,
          );
          return;
        }
        c.extensions += 1;
        c.bakeUntil = this.now + step.bakeMinutes * 60_000;
        this.history(
          d,
          'Canary',
          'Canary',
          `bake extended (${c.extensions}/${noData.maxExtensions}) at ${where}: ${verdict.reasons.join('; ')}`,
          { readings },
        );
        return;
      }
    }
    this.publish('Canary Step Passed', d, {
      step: c.stepIndex + 1,
      steps: steps.length,
      weight: step.weight,
      readings,
      summary: summariseReadings(readings),
    });
    this.history(d, 'Canary', 'Canary', `${where} passed: ${summariseReadings(readings)}`, {
      readings,
      weights: { ...c.weights },
    });
    if (c.stepIndex + 1 >= steps.length) {
      this.promote(d, `all ${steps.length} steps passed`);
      return;
    }
    this.setStep(d, c.stepIndex + 1);
  }

  private setStep(d: Deployment, index: number): void {
    const c = d.canary!;
    const step = this.canarySteps()[index]!;
    c.stepIndex = index;
    c.stepStartedAt = this.now;
    c.bakeUntil = this.now + step.bakeMinutes * 60_000;
    c.extensions = 0;
    c.weights = { [c.baselineVariant]: 100 - step.weight, [c.candidateVariant]: step.weight };
    this.setWeights(c.weights);
    this.history(
      d,
      'Canary',
      'Canary',
      `step ${index + 1}/${this.canarySteps().length}: ${step.weight}% to v${d.version}`,
      {
        weights: { ...c.weights },
      },
    );
  }

  private setWeights(weights: Record<string, number>): void {
    this.commands.push({
      type: 'SetWeights',
      group: this.state.group,
      stage: 'prod',
      endpointName: this.ctx.group.stages.prod.endpointName,
      weights: { ...weights },
    });
  }

  private promote(d: Deployment, reason: string): void {
    const prodStage = this.ctx.group.stages.prod;
    this.deploy(
      d,
      'prod',
      prodStage.endpointName,
      [this.variantFor(d, 100)],
      'Promoting',
      `promoting: ${reason}`,
    );
  }

  /** d is live on prod alone. */
  private promoted(d: Deployment, configName: string, variant: string): void {
    const previous = this.state.prod;
    const serving: ServingVersion = {
      version: d.version,
      packageArn: d.packageArn,
      modelName: modelName(d.group, d.version),
      variantName: variant,
      configName,
    };
    this.state.prod = serving;
    this.state.knownGood = [...this.state.knownGood.filter((k) => k.version !== d.version), serving].slice(
      -KEPT_KNOWN_GOOD,
    );
    d.awaiting = undefined;
    this.registry(d, 'Production', 'Deployed', `serving all production traffic`);
    if (previous && previous.version !== d.version) {
      this.commands.push({
        type: 'UpdateRegistry',
        packageArn: previous.packageArn,
        lifecycle: { stage: 'Production', status: 'Superseded', description: `superseded by v${d.version}` },
      });
      const configNames = [previous.configName, d.canary?.configName].filter(
        (n): n is string => !!n && n !== configName,
      );
      const modelNames = this.state.qa?.version === previous.version ? [] : [previous.modelName];
      this.commands.push({ type: 'RetireResources', group: d.group, stage: 'prod', modelNames, configNames });
    }
    this.publish('Deployment Promoted', d, {
      endpointName: this.ctx.group.stages.prod.endpointName,
      previousVersion: previous?.version,
    });
    this.answerStage(d, 'prod');
    this.move(d, 'Succeeded', `v${d.version} serves all production traffic`);
  }

  // ---------------------------------------------------------------- stopping and rolling back

  /**
   * Ends a deployment that has not finished: anything that touched prod is rolled back first
   * (baseline to 100 % at once, then prod back to the baseline alone).
   */
  private stop(
    d: Deployment,
    outcome: 'RolledBack' | 'Aborted' | 'Superseded' | 'Failed',
    reason: string,
    readings?: GateReadings,
  ): void {
    if (isTerminal(d.phase) || d.phase === 'RollingBack') return;
    if (outcome === 'RolledBack') this.block(d.version, `rolled back (${reason})`);
    const serving = this.state.prod;
    const touchesProd = PROD_PHASES.has(d.phase);
    if (!touchesProd || !serving || serving.version === d.version) {
      if (touchesProd && !serving) reason += '; prod has no earlier version to return to';
      this.finish(d, outcome, reason, readings);
      return;
    }
    if (d.phase === 'Canary' && d.canary) {
      d.canary.weights = { [d.canary.baselineVariant]: 100, [d.canary.candidateVariant]: 0 };
      this.setWeights(d.canary.weights);
    }
    d.rollbackOutcome = outcome;
    const prodStage = this.ctx.group.stages.prod;
    const baseline: VariantSpec = {
      variantName: serving.variantName,
      modelName: serving.modelName,
      packageArn: serving.packageArn,
      version: serving.version,
      weight: 100,
    };
    const configName = endpointConfigName(prodStage.endpointName, [baseline]);
    d.awaiting = {
      stage: 'prod',
      endpointName: prodStage.endpointName,
      configName,
      variants: [baseline],
      requestedAt: this.now,
    };
    this.commands.push({
      type: 'DeployEndpoint',
      group: d.group,
      stage: 'prod',
      endpointName: prodStage.endpointName,
      configName,
      variants: [baseline],
      deploymentId: d.id,
      native: false,
    });
    d.reason = reason;
    this.move(d, 'RollingBack', `rolling back to v${serving.version}: ${reason}`, {
      readings,
      weights: d.canary ? { ...d.canary.weights } : undefined,
    });
  }

  private finish(
    d: Deployment,
    outcome: 'RolledBack' | 'Aborted' | 'Superseded' | 'Failed',
    reason: string,
    readings?: GateReadings,
  ): void {
    d.awaiting = undefined;
    if (outcome === 'RolledBack') {
      this.commands.push({
        type: 'UpdateRegistry',
        packageArn: d.packageArn,
        lifecycle: { stage: 'Production', status: 'RolledBack', description: reason.slice(0, 1024) },
        reject: { description: `rolled back by sagemaker-rollouts: ${reason}`.slice(0, 1024) },
      });
    }
    this.move(d, outcome, reason, { readings });
  }

  /** Prod serves `version`, which must go: back to the last known good version before it. */
  private rollbackProd(
    version: number,
    reason: string,
    actor: string,
    requestId?: string,
  ): string | undefined {
    const target = [...this.state.knownGood]
      .reverse()
      .find((k) => k.version !== version && !this.state.blocked.some((b) => b.version === k.version));
    const current = this.latestFor(version);
    if (!target) {
      return `no earlier known good version to roll v${version} back to`;
    }
    // prod is replaced wholesale, so whatever was in flight just ends
    for (const o of this.active())
      this.finish(o, 'Aborted', `prod rolls back to v${target.version}: ${reason}`);
    if (current && current.phase === 'Succeeded') {
      this.history(current, 'Succeeded', 'RolledBack', reason, { actor, requestId });
      current.phase = 'RolledBack';
      current.phaseSince = this.now;
      current.reason = reason;
      this.publish('Deployment Rolled Back', current, { reason, to: target.version });
    }
    this.commands.push({
      type: 'UpdateRegistry',
      packageArn: this.state.prod!.packageArn,
      lifecycle: { stage: 'Production', status: 'RolledBack', description: reason.slice(0, 1024) },
      reject: { description: `rolled back by sagemaker-rollouts: ${reason}`.slice(0, 1024) },
    });
    // from now on the target is what prod serves: stopping the restore must not bring `version` back,
    // and the next canary must not use it as its baseline
    this.state.prod = target;
    const d: Deployment = {
      id: deploymentId(this.state.group, target.version, this.nextAttempt(target.version)),
      group: this.state.group,
      version: target.version,
      packageArn: target.packageArn,
      attempt: this.nextAttempt(target.version),
      trigger: 'operator',
      targetStage: 'prod',
      phase: 'Queued',
      createdAt: this.now,
      phaseSince: this.now,
      callbacks: [],
      seq: 0,
      prodPlan: 'replace',
    };
    this.state.deployments.push(d);
    this.history(d, null, 'Queued', `rollback of v${version} to v${target.version}`, { actor, requestId });
    this.publish('Deployment Started', d, { trigger: 'rollback', from: version });
    const prodStage = this.ctx.group.stages.prod;
    const variant: VariantSpec = {
      variantName: target.variantName,
      modelName: target.modelName,
      packageArn: target.packageArn,
      version: target.version,
      weight: 100,
    };
    this.deploy(
      d,
      'prod',
      prodStage.endpointName,
      [variant],
      'ProdDeploying',
      `rolling prod back to v${target.version}: ${reason}`,
    );
    return undefined;
  }

  /** `at`: approvals modified after it lift the block; a later rollback or rejection moves it on. */
  private block(version: number, reason: string, at = this.now): void {
    const existing = this.state.blocked.find((b) => b.version === version);
    if (existing) {
      existing.at = Math.max(existing.at, at);
      return;
    }
    this.state.blocked.push({ version, at, reason });
  }

  // ---------------------------------------------------------------- endpoints

  private onEndpointObserved(stage: StageName, endpoint: EndpointObservation | null): void {
    for (const d of this.active()) {
      if (d.awaiting?.stage === stage) this.observeAwaited(d, endpoint);
      else if (stage === 'prod' && d.phase === 'Canary') this.watchForDrift(d, endpoint);
    }
  }

  private observeAwaited(d: Deployment, endpoint: EndpointObservation | null): void {
    const awaiting = d.awaiting!;
    const waited = this.now - awaiting.requestedAt;
    const onTarget = endpoint?.configName === awaiting.configName;
    if (endpoint && onTarget && endpoint.status === 'InService') return this.arrived(d, endpoint);
    const changedSinceRequest = endpoint !== null && endpoint.lastModifiedTime >= awaiting.requestedAt;
    if (endpoint && (endpoint.status === 'Failed' || endpoint.status === 'UpdateRollbackFailed')) {
      if (onTarget || changedSinceRequest) {
        return this.stageFailed(
          d,
          `endpoint ${endpoint.endpointName} ${endpoint.status}: ${endpoint.failureReason ?? 'no reason given'}`,
        );
      }
    }
    if (
      endpoint &&
      !onTarget &&
      endpoint.status === 'InService' &&
      changedSinceRequest &&
      endpoint.failureReason
    ) {
      return this.stageFailed(
        d,
        `SageMaker rolled ${endpoint.endpointName} back to ${endpoint.configName}: ${endpoint.failureReason}`,
      );
    }
    if (waited > ENDPOINT_WAIT_LIMIT_MS) {
      return this.stageFailed(
        d,
        `endpoint ${awaiting.endpointName} not InService on ${awaiting.configName} after ${Math.round(waited / 60_000)} min (${endpoint?.status ?? 'missing'})`,
      );
    }
  }

  private arrived(d: Deployment, endpoint: EndpointObservation): void {
    const awaiting = d.awaiting!;
    switch (d.phase) {
      case 'QaDeploying':
        if (this.ctx.group.stages.qa.smokeTest) {
          this.move(d, 'QaVerifying', `QA endpoint InService on ${endpoint.configName}; smoke testing`);
        } else {
          this.qaPassed(d, 'no smoke test configured');
        }
        return;
      case 'ProdDeploying':
        if (d.prodPlan === 'canary') return this.startCanary(d);
        return this.promoted(d, awaiting.configName, awaiting.variants[0]!.variantName);
      case 'NativeShifting':
      case 'Promoting':
        return this.promoted(d, awaiting.configName, awaiting.variants[0]!.variantName);
      case 'RollingBack':
        d.awaiting = undefined;
        if (d.canary) {
          this.commands.push({
            type: 'RetireResources',
            group: d.group,
            stage: 'prod',
            modelNames: this.state.qa?.version === d.version ? [] : [modelName(d.group, d.version)],
            configNames: [d.canary.configName],
          });
        }
        this.finish(
          d,
          d.rollbackOutcome ?? 'RolledBack',
          `${d.reason ?? 'rolled back'}; prod back on v${this.state.prod?.version}`,
          d.canary?.lastReadings,
        );
        return;
      default:
        return;
    }
  }

  private onCommandFailed(id: string, command: string, reason: string): void {
    const d = this.find(id);
    if (!d || isTerminal(d.phase)) return;
    const why = `${command} failed: ${reason}`;
    if (d.phase === 'Canary') return this.stop(d, 'Failed', why);
    if (d.awaiting) return this.stageFailed(d, why);
    this.finish(d, 'Failed', why);
  }

  private stageFailed(d: Deployment, reason: string): void {
    switch (d.phase) {
      case 'QaDeploying':
        this.registry(d, 'QA', 'Failed', reason);
        return this.finish(d, 'Failed', `QA deployment failed: ${reason}`);
      case 'NativeShifting':
        this.block(d.version, `rolled back (${reason})`);
        return this.finish(d, 'RolledBack', reason);
      case 'ProdDeploying':
      case 'Promoting':
        if (d.prodPlan === 'replace') return this.finish(d, 'Failed', `prod deployment failed: ${reason}`);
        // prod may hold both variants: put it back on the baseline alone
        d.awaiting = undefined;
        return this.stop(d, 'Failed', `prod deployment failed: ${reason}`);
      case 'RollingBack':
        return this.finish(d, 'Failed', `rollback did not complete: ${reason}; prod needs an operator`);
      default:
        return this.finish(d, 'Failed', reason);
    }
  }

  private watchForDrift(d: Deployment, endpoint: EndpointObservation | null): void {
    const c = d.canary!;
    if (c.paused || !endpoint || endpoint.status !== 'InService') return;
    const weightsPending = this.state.outbox.some(
      (e) => e.command.type === 'SetWeights' && e.command.endpointName === endpoint.endpointName,
    );
    if (weightsPending) return;
    const settled = endpoint.variants.every((v) => Math.abs(v.currentWeight - v.desiredWeight) < 1e-6);
    if (!settled) return;
    let drift: string | undefined;
    if (endpoint.configName !== c.configName) {
      drift = `prod runs config ${endpoint.configName}, expected ${c.configName}`;
    } else {
      const observed = Object.fromEntries(endpoint.variants.map((v) => [v.variantName, v.currentWeight]));
      if (!sameTrafficSplit(observed, c.weights)) {
        drift = `prod weights ${JSON.stringify(observed)} differ from the expected ${JSON.stringify(c.weights)}`;
      }
    }
    if (!drift) return;
    c.paused = true;
    this.history(d, 'Canary', 'Canary', `paused: drift detected: ${drift}`);
    this.publish('Drift Detected', d, { drift });
    this.publish('Deployment Paused', d, { reason: `drift: ${drift}` });
  }

  // ---------------------------------------------------------------- operator

  private onOperator(command: OperatorCommand, pkg: PackageInfo | undefined): void {
    const d = this.find(command.deploymentId);
    const refuse = (why: string): void => {
      this.rejection = why;
      this.publish('Command Rejected', d, {
        command: command.verb,
        reason: why,
        requestId: command.requestId,
        actor: command.actor,
      });
      if (d)
        this.history(d, d.phase, d.phase, `${command.verb} refused: ${why}`, {
          actor: command.actor,
          requestId: command.requestId,
        });
    };
    if (!d) return refuse(`unknown deployment ${command.deploymentId}`);
    const by = `${command.verb} by ${command.actor}: ${command.reason}`;
    const who = { actor: command.actor, requestId: command.requestId };
    switch (command.verb) {
      case 'promote':
        if (d.phase === 'AwaitingApproval') {
          d.approvalDeadline = undefined;
          this.move(d, 'ReadyForProd', by, who);
          return this.tryStartProd(d);
        }
        if (d.phase === 'Canary') {
          this.actor = who;
          this.promote(d, by);
          this.actor = undefined;
          return;
        }
        return refuse(`${d.id} is ${d.phase}; promote applies while awaiting approval or in canary`);
      case 'pause':
        if (d.phase !== 'Canary' || !d.canary)
          return refuse(`${d.id} is ${d.phase}; only a canary can be paused`);
        if (d.canary.paused) return refuse(`${d.id} is already paused`);
        d.canary.paused = true;
        this.history(d, 'Canary', 'Canary', `paused (${by})`, who);
        this.publish('Deployment Paused', d, { reason: command.reason, actor: command.actor });
        return;
      case 'resume':
        if (d.phase !== 'Canary' || !d.canary?.paused) return refuse(`${d.id} is not paused`);
        d.canary.paused = false;
        this.history(d, 'Canary', 'Canary', `resumed (${by})`, who);
        this.publish('Deployment Resumed', d, { reason: command.reason, actor: command.actor });
        return;
      case 'abort':
        if (isTerminal(d.phase) || d.phase === 'RollingBack')
          return refuse(`${d.id} already ended ${d.phase}`);
        this.actor = who;
        this.stop(d, 'Aborted', by);
        this.actor = undefined;
        return;
      case 'rollback': {
        if (d.phase === 'RollingBack') return refuse(`${d.id} is already rolling back`);
        if (!isTerminal(d.phase)) {
          this.actor = who;
          this.stop(d, 'RolledBack', by);
          this.actor = undefined;
          return;
        }
        if (d.phase !== 'Succeeded' || this.state.prod?.version !== d.version) {
          return refuse(`${d.id} is ${d.phase} and does not serve prod`);
        }
        const why = this.rollbackProd(d.version, by, command.actor, command.requestId);
        // blocked only once the rollback happens: a refusal must leave an earlier block in place
        if (why) return refuse(why);
        this.block(d.version, `rolled back (${by})`);
        return;
      }
      case 'retry': {
        if (!isTerminal(d.phase) || d.phase === 'Succeeded')
          return refuse(
            `${d.id} is ${d.phase}; only a failed, aborted or rolled back deployment can be retried`,
          );
        const latest = this.latestFor(d.version);
        if (latest && latest !== d) return refuse(`${latest.id} is the latest attempt of v${d.version}`);
        if (!pkg || pkg.approvalStatus !== 'Approved') {
          return refuse(
            `v${d.version} is ${pkg?.approvalStatus ?? 'unknown'} in the registry; approve it first`,
          );
        }
        const blocked = this.state.blocked.find((b) => b.version === d.version);
        if (blocked && !this.approvedAfter(pkg, blocked.at)) {
          return refuse(
            `v${d.version} was ${blocked.reason}; approve it anew in the registry before retrying`,
          );
        }
        const others = this.active();
        if (others.length > 0) return refuse(`${others.map((o) => o.id).join(', ')} in progress`);
        this.state.blocked = this.state.blocked.filter((b) => b.version !== d.version);
        const next = this.requestDeployment(pkg, 'operator', d.targetStage, undefined);
        this.history(next, next.phase, next.phase, `retry of ${d.id} (${by})`, who);
        return;
      }
    }
  }

  private actor: { actor: string; requestId?: string | undefined } | undefined;

  // ---------------------------------------------------------------- callbacks

  private onCallbackRequested(request: Omit<CallbackWait, 'deadline'>, pkg: PackageInfo): void {
    const callback: CallbackWait = {
      ...request,
      deadline: this.now + this.ctx.group.callback.taskTimeoutMinutes * 60_000,
    };
    if (this.state.deployments.some((d) => d.callbacks.some((c) => c.token === callback.token))) {
      return this.note(`callback ${callback.token} already attached`);
    }
    const fail = (reason: string): void => {
      this.answer(callback, 'failure', undefined, reason);
    };
    if (pkg.approvalStatus === 'Rejected') return fail(`v${pkg.version} is Rejected in the model registry`);
    if (callback.stage === 'prod' && pkg.approvalStatus !== 'Approved') {
      return fail(`v${pkg.version} is ${pkg.approvalStatus}: deploying to prod needs an approved version`);
    }
    const blocked = this.state.blocked.find((b) => b.version === pkg.version);
    if (blocked && !this.approvedAfter(pkg, blocked.at)) {
      return fail(`v${pkg.version} was ${blocked.reason}; approve it anew first`);
    }
    const live = callback.stage === 'qa' ? this.state.qa : this.state.prod;
    const existing = this.activeFor(pkg.version);
    if (existing) {
      if (callback.stage === 'prod' && existing.targetStage === 'qa') existing.targetStage = 'prod';
      if (
        callback.stage === 'qa' &&
        !QA_PHASES.has(existing.phase) &&
        this.state.qa?.version !== pkg.version
      ) {
        return fail(
          `${existing.id} is ${existing.phase} and QA serves v${this.state.qa?.version ?? 'nothing'}`,
        );
      }
      if (callback.stage === 'qa' && !QA_PHASES.has(existing.phase)) {
        return this.answer(callback, 'success', this.outputs('qa', this.state.qa!));
      }
      if (
        callback.stage === 'qa' &&
        (existing.phase === 'AwaitingApproval' || existing.phase === 'ReadyForProd')
      ) {
        return this.answer(callback, 'success', this.outputs('qa', this.state.qa!));
      }
      existing.callbacks.push(callback);
      this.history(
        existing,
        existing.phase,
        existing.phase,
        `pipeline callback ${callback.token} waits for ${callback.stage}`,
      );
      return;
    }
    if (live?.version === pkg.version) {
      return this.answer(callback, 'success', this.outputs(callback.stage, live));
    }
    // versions only move forward: an older one would supersede newer work, whatever the stage
    if (pkg.version < this.state.highestVersion) {
      return fail(
        `v${pkg.version} is older than v${this.state.highestVersion}, already deployed or in progress`,
      );
    }
    if (blocked) this.state.blocked = this.state.blocked.filter((b) => b.version !== pkg.version);
    this.requestDeployment(pkg, 'callback', callback.stage, callback);
  }

  private onCallbackStopping(token: string): void {
    const d = this.state.deployments.find((o) => o.callbacks.some((c) => c.token === token));
    if (!d) return;
    const callback = d.callbacks.find((c) => c.token === token)!;
    d.callbacks = d.callbacks.filter((c) => c.token !== token);
    this.answer(callback, 'failure', undefined, 'stopped by the pipeline');
    // the work tied to the token stops with it (unless another pipeline still waits on it), whichever
    // of the approval and the callback message started it: the outcome must not depend on event order
    if (!isTerminal(d.phase) && d.callbacks.length === 0) {
      this.stop(d, 'Aborted', `pipeline ${callback.pipelineExecutionArn} was stopped`);
    }
  }

  private answerStage(d: Deployment, stage: StageName): void {
    const live = stage === 'qa' ? this.state.qa : this.state.prod;
    const waiting = d.callbacks.filter((c) => c.stage === stage);
    if (waiting.length === 0 || !live) return;
    d.callbacks = d.callbacks.filter((c) => c.stage !== stage);
    for (const c of waiting) this.answer(c, 'success', this.outputs(stage, live));
  }

  private outputs(stage: StageName, live: ServingVersion): Record<string, string> {
    return {
      EndpointName: this.ctx.group.stages[stage].endpointName,
      EndpointConfigName: live.configName,
      VariantName: live.variantName,
      ModelPackageArn: live.packageArn,
    };
  }

  private answer(
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
    this.note(`callback ${callback.token}: ${outcome}${reason ? ` (${reason})` : ''}`);
  }

  // ---------------------------------------------------------------- tick

  private onTick(): void {
    for (const d of this.active()) {
      for (const c of [...d.callbacks]) {
        if (this.now < c.deadline) continue;
        d.callbacks = d.callbacks.filter((x) => x.token !== c.token);
        const minutes = this.ctx.group.callback.taskTimeoutMinutes;
        this.answer(c, 'failure', undefined, `task timed out after ${minutes} min (${d.id} is ${d.phase})`);
        if (d.callbacks.length === 0) {
          this.stop(d, 'Aborted', `pipeline callback task timed out after ${minutes} min`);
        }
      }
      if (
        d.phase === 'AwaitingApproval' &&
        d.approvalDeadline !== undefined &&
        this.now >= d.approvalDeadline
      ) {
        const minutes = this.ctx.group.promotion.approvalTimeoutMinutes;
        this.finish(d, 'Failed', `not promoted within the approval timeout of ${minutes} min`);
      }
    }
    for (const d of this.active()) {
      if (d.phase === 'ReadyForProd') this.tryStartProd(d);
    }
    this.startNextQueued();
  }

  private startNextQueued(): void {
    const active = this.active();
    if (active.some((d) => d.phase !== 'Queued')) return;
    const queued = active.filter((d) => d.phase === 'Queued').sort((a, b) => b.version - a.version);
    const [next, ...older] = queued;
    if (!next) return;
    for (const o of older) this.move(o, 'Superseded', `v${next.version} is newer`);
    this.startQa(next);
  }

  // ---------------------------------------------------------------- bookkeeping

  private move(d: Deployment, to: Phase, reason: string, extra: HistoryExtra = {}): void {
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

  private history(
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

  private publish(type: ServiceEventType, d: Deployment | undefined, detail: Record<string, unknown>): void {
    this.commands.push({
      type: 'Publish',
      event: {
        type,
        deploymentId: d?.id,
        group: this.state.group,
        version: d?.version,
        at: this.now,
        detail: { phase: d?.phase, ...detail },
      },
    });
  }

  private registry(
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

  private note(text: string): void {
    this.notes.push(text);
  }

  private find(id: string): Deployment | undefined {
    return this.state.deployments.find((d) => d.id === id);
  }

  private active(): Deployment[] {
    return this.state.deployments.filter((d) => !isTerminal(d.phase));
  }

  private activeFor(version: number): Deployment | undefined {
    return this.active().find((d) => d.version === version);
  }

  private deploymentsFor(version: number): Deployment[] {
    return this.state.deployments.filter((d) => d.version === version);
  }

  private latestFor(version: number): Deployment | undefined {
    return this.deploymentsFor(version).sort((a, b) => b.attempt - a.attempt)[0];
  }

  private nextAttempt(version: number): number {
    return Math.max(0, ...this.deploymentsFor(version).map((d) => d.attempt)) + 1;
  }

  private trimTerminal(): void {
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
