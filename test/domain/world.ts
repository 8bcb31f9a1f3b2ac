import { isDeepStrictEqual } from 'node:util';
import { type GroupConfig, rolloutsConfigSchema, type StageName } from '../../src/config/schema';
import { type Decision, decide, emptyGroupState, type Input } from '../../src/domain/decide';
import type {
  Command,
  Deployment,
  DesiredEndpoint,
  EndpointObservation,
  GateReadings,
  GroupState,
  HistoryEntry,
  OperatorVerb,
  PackageInfo,
  VariantReadings,
  VariantSpec,
} from '../../src/domain/model';
import { nextEndpointStep } from '../../src/domain/reconcile';

export const GROUP = 'churn';
export const QA_ENDPOINT = 'churn-qa';
export const PROD_ENDPOINT = 'churn-prod';
export const T0 = Date.UTC(2025, 0, 1);
export const MIN = 60_000;

// ------------------------------------------------------------------ configuration

export interface ConfigOptions {
  mode?: 'auto' | 'manual';
  approvalTimeoutMinutes?: number;
  /** promotion.bakeMinutes: the least time after QA passed before prod */
  bakeMinutes?: number;
  concurrency?: 'supersede' | 'queue' | 'reject';
  strategy?: 'canary' | 'native';
  smokeTest?: boolean;
  steps?: { weight: number; bakeMinutes: number }[];
  gates?: Record<string, unknown>;
  maxDurationMinutes?: number;
  taskTimeoutMinutes?: number;
  /** the prod stage's smoke test, sent to the candidate with TargetVariant at weight 0 */
  prodSmokeTest?: boolean;
  shadow?: { samplingPercent: number; bakeMinutes: number };
  /** rollback.earlierStages: does QA go back when prod rolls its version back */
  earlierStages?: 'keep' | 'rollBack';
}

/** A group config as the loader would give it: parsed by the real schema, defaults applied. */
export const groupConfig = (o: ConfigOptions = {}): GroupConfig => {
  const strategy =
    o.strategy === 'native'
      ? {
          type: 'native',
          trafficRouting: { type: 'CANARY', waitIntervalSeconds: 300, sizePercent: 10 },
          alarms: ['churn-prod-5xx'],
        }
      : {
          type: 'canary',
          steps: o.steps ?? [
            { weight: 10, bakeMinutes: 5 },
            { weight: 50, bakeMinutes: 5 },
          ],
          gates: o.gates ?? {},
          ...(o.maxDurationMinutes !== undefined ? { maxDurationMinutes: o.maxDurationMinutes } : {}),
          ...(o.shadow ? { shadow: o.shadow } : {}),
        };
  const parsed = rolloutsConfigSchema.parse({
    modelPackageGroups: {
      [GROUP]: {
        executionRoleArn: 'arn:aws:iam::123456789012:role/sagemaker-exec',
        authorization: 'open',
        concurrency: o.concurrency ?? 'supersede',
        promotion: {
          mode: o.mode ?? 'auto',
          ...(o.approvalTimeoutMinutes ? { approvalTimeoutMinutes: o.approvalTimeoutMinutes } : {}),
          ...(o.bakeMinutes ? { bakeMinutes: o.bakeMinutes } : {}),
        },
        callback: o.taskTimeoutMinutes ? { taskTimeoutMinutes: o.taskTimeoutMinutes } : {},
        ...(o.earlierStages ? { rollback: { earlierStages: o.earlierStages } } : {}),
        stages: {
          qa: {
            endpointName: QA_ENDPOINT,
            instanceType: 'ml.m5.large',
            ...(o.smokeTest ? { smokeTest: { body: { x: 1 }, expectBodyContains: 'score' } } : {}),
          },
          prod: {
            endpointName: PROD_ENDPOINT,
            instanceType: 'ml.m5.large',
            instanceCount: 2,
            strategy,
            ...(o.prodSmokeTest ? { smokeTest: { body: { x: 1 }, expectBodyContains: 'score' } } : {}),
          },
        },
      },
    },
  });
  return parsed.modelPackageGroups[GROUP]!;
};

// ------------------------------------------------------------------ inputs

export const packageArn = (version: number): string =>
  `arn:aws:sagemaker:us-east-1:123456789012:model-package/${GROUP}/${version}`;

export const pkg = (
  version: number,
  lastModifiedTime = T0,
  approvalStatus: PackageInfo['approvalStatus'] = 'Approved',
): PackageInfo => ({ group: GROUP, version, arn: packageArn(version), approvalStatus, lastModifiedTime });

const variantReadings = (
  invocations: number,
  errors5xx: number,
  latencyMs: number | null,
): VariantReadings => ({
  invocations,
  errors5xx,
  errorRate: invocations > 0 ? errors5xx / invocations : null,
  latencyMs: invocations > 0 ? latencyMs : null,
});

export const readings = {
  // enough errors on both sides for evidence that the candidate is not 2x worse (a step passes on it)
  healthy: (at = T0): GateReadings => ({
    candidate: variantReadings(10_000, 20, 40),
    baseline: variantReadings(90_000, 180, 40),
    alarmsInAlarm: [],
    windowStart: at - 5 * MIN,
    windowEnd: at,
  }),
  failing: (at = T0): GateReadings => ({
    candidate: variantReadings(500, 50, 40),
    baseline: variantReadings(4500, 1, 40),
    alarmsInAlarm: [],
    windowStart: at - 5 * MIN,
    windowEnd: at,
  }),
  noData: (at = T0): GateReadings => ({
    candidate: variantReadings(0, 0, null),
    baseline: variantReadings(4500, 1, 40),
    alarmsInAlarm: [],
    windowStart: at - 5 * MIN,
    windowEnd: at,
  }),
  custom: (
    candidate: [number, number, number | null],
    baseline: [number, number, number | null] | null,
    alarmsInAlarm: string[] = [],
  ): GateReadings => ({
    candidate: variantReadings(...candidate),
    baseline: baseline ? variantReadings(...baseline) : null,
    alarmsInAlarm,
    windowStart: T0 - 5 * MIN,
    windowEnd: T0,
  }),
};

export const observation = (
  endpointName: string,
  status: EndpointObservation['status'],
  configName: string,
  weights: Record<string, number>,
  lastModifiedTime: number,
  failureReason?: string,
): EndpointObservation => ({
  endpointName,
  status,
  configName,
  variants: Object.entries(weights).map(([variantName, w]) => ({
    variantName,
    currentWeight: w,
    desiredWeight: w,
  })),
  failureReason,
  lastModifiedTime,
});

// ------------------------------------------------------------------ endpoint intents

/**
 * An endpoint change a decision asked for, read off the desired specs it changed: a new config
 * (`DeployEndpoint`), new weights on the same config (`SetWeights`), or both when a rollback first
 * sends the baseline all traffic on the config the endpoint runs.
 */
export type EndpointIntent =
  | {
      type: 'DeployEndpoint';
      stage: StageName;
      endpointName: string;
      configName: string;
      variants: VariantSpec[];
      deploymentId: string;
      native?: boolean | undefined;
    }
  | { type: 'SetWeights'; stage: StageName; endpointName: string; weights: Record<string, number> };

export type TestCommand = Command | EndpointIntent;
export type TestDecision = Omit<Decision, 'commands'> & { commands: TestCommand[] };

export const endpointIntents = (before: GroupState, after: GroupState): EndpointIntent[] => {
  const intents: EndpointIntent[] = [];
  for (const stage of ['qa', 'prod'] as const) {
    const was = before.desired?.[stage];
    const now: DesiredEndpoint | undefined = after.desired?.[stage];
    if (!now || now.generation === was?.generation) continue;
    if (was && was.configName === now.configName && !now.drainFirst) {
      intents.push({
        type: 'SetWeights',
        stage,
        endpointName: now.endpointName,
        weights: { ...now.weights },
      });
      continue;
    }
    if (was && now.drainFirst) {
      const drained = Object.fromEntries(
        Object.keys(was.weights).map((name) => [name, now.weights[name] ?? 0]),
      );
      if (Object.values(drained).some((w) => w > 0)) {
        intents.push({ type: 'SetWeights', stage, endpointName: now.endpointName, weights: drained });
      }
    }
    intents.push({
      type: 'DeployEndpoint',
      stage,
      endpointName: now.endpointName,
      configName: now.configName,
      variants: now.variants,
      deploymentId: now.deploymentId,
      native: now.native ?? false,
    });
  }
  return intents;
};

/** The decision with the endpoint changes it asked for among its commands. */
export const withIntents = (before: GroupState, decision: Decision): TestDecision => ({
  ...decision,
  commands: [...endpointIntents(before, decision.state), ...decision.commands],
});

// ------------------------------------------------------------------ the simulated world

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};

interface FakeVariant {
  variantName: string;
  version: number;
  currentWeight: number;
  desiredWeight: number;
}

/** What SageMaker would report for one endpoint, with at most one change in progress. */
export interface FakeEndpoint {
  name: string;
  status: EndpointObservation['status'];
  configName: string;
  variants: FakeVariant[];
  failureReason?: string | undefined;
  lastModifiedTime: number;
  pending?: { configName: string; variants: FakeVariant[] } | undefined;
  /** the status to return to if a change fails */
  previous?: { configName: string; variants: FakeVariant[] } | undefined;
}

export type AdvanceOutcome = 'ok' | 'fail';

const toFakeVariants = (variants: VariantSpec[]): FakeVariant[] =>
  variants.map((v) => ({
    variantName: v.variantName,
    version: v.version,
    currentWeight: v.weight,
    desiredWeight: v.weight,
  }));

/**
 * A GroupState plus a fake endpoint per stage, a fake registry and a pipeline callback log. `send`
 * plays the use case: decide, save, append the commands to the outbox, carry out what can be
 * carried out (endpoint work waits while its endpoint is not InService), remove what was done.
 */
/** The region the decisions are made in: a stage's unless it names one. */
export const SERVICE_REGION = 'us-east-1';

export class World {
  state: GroupState;
  now = T0;
  readonly endpoints: Record<StageName, FakeEndpoint | null> = { qa: null, prod: null };
  /** the registry's truth, by version */
  readonly registry = new Map<number, PackageInfo>();
  /** AnswerCallback commands, by token */
  readonly answers = new Map<string, Extract<Command, { type: 'AnswerCallback' }>[]>();
  /** every command and endpoint change ever decided, in order */
  readonly commands: TestCommand[] = [];
  /** every endpoint change the executor sent, in order */
  readonly executed: EndpointIntent[] = [];
  /** every registry update carried out, in order */
  readonly registryUpdates: Extract<Command, { type: 'UpdateRegistry' }>[] = [];
  /** problems carrying out commands (a real executor would have reported them) */
  readonly executionProblems: string[] = [];
  autoCarryOut = true;
  /** deliver the registry's event when a reject is carried out (false: the event is late or lost) */
  registryEvents = true;
  /** freeze the state handed to decide and compare it afterwards */
  checkPurity = false;
  private outboxSeq = 0;
  private requestSeq = 0;

  constructor(public config: GroupConfig = groupConfig()) {
    this.state = emptyGroupState(GROUP);
  }

  // ---------------------------------------------------------------- decisions

  send(input: Input): TestDecision {
    const before = this.state;
    let decision: Decision;
    if (this.checkPurity) {
      const original = this.state;
      const copy = structuredClone(original);
      deepFreeze(original);
      decision = decide(original, input, {
        group: this.config,
        now: this.now,
        serviceRegion: SERVICE_REGION,
      });
      if (!isDeepStrictEqual(original, copy))
        throw new Error(`decide modified its input state (${input.type})`);
    } else {
      decision = decide(this.state, input, {
        group: this.config,
        now: this.now,
        serviceRegion: SERVICE_REGION,
      });
    }
    const result = withIntents(before, decision);
    this.state = decision.state;
    this.commands.push(...result.commands);
    for (const command of decision.commands) {
      this.outboxSeq += 1;
      this.state.outbox.push({ id: `o${this.outboxSeq}`, command });
    }
    if (this.autoCarryOut) this.carryOut();
    return result;
  }

  /** Carries out every outbox entry, then converges each endpoint as the executor does. */
  carryOut(): void {
    const rejected: PackageInfo[] = [];
    for (const entry of this.state.outbox) {
      const c = entry.command;
      if (c.type === 'AnswerCallback') {
        const list = this.answers.get(c.token) ?? [];
        list.push(c);
        this.answers.set(c.token, list);
      }
      if (c.type === 'UpdateRegistry') {
        this.registryUpdates.push(c);
        const version = Number(c.packageArn.split('/').pop());
        const current = this.registry.get(version);
        // a rollback rejects the package in the registry (UpdateModelPackage ModelApprovalStatus)
        if (c.reject && current) {
          this.registry.set(version, {
            ...current,
            approvalStatus: 'Rejected',
            lastModifiedTime: Math.max(this.now, current.lastModifiedTime + 1),
          });
          rejected.push(this.registry.get(version)!);
        }
      }
    }
    this.state.outbox = [];
    // the registry's state change events (their rule matches Approved and Rejected)
    if (this.registryEvents) for (const p of rejected) this.send({ type: 'Rejected', pkg: p });
    for (const stage of ['qa', 'prod'] as const) this.converge(stage);
  }

  /** One executor pass on a stage: at most one write, or the spec recorded as reached. */
  private converge(stage: StageName): void {
    const desired = this.state.desired?.[stage];
    if (!desired || desired.settled?.generation === desired.generation) return;
    let step = nextEndpointStep(desired, this.describe(stage));
    if (step.type === 'delete') {
      this.endpoints[stage] = null;
      step = nextEndpointStep(desired, null);
    }
    switch (step.type) {
      case 'converged':
        this.send({ type: 'EndpointConverged', stage, generation: desired.generation });
        return;
      case 'deploy':
        this.executed.push({
          type: 'DeployEndpoint',
          stage,
          endpointName: desired.endpointName,
          configName: desired.configName,
          variants: desired.variants,
          deploymentId: desired.deploymentId,
          native: desired.native ?? false,
        });
        // DescribeEndpoint lists shadow variants apart: they take no part in the weights
        this.deployEndpoint(
          stage,
          desired.endpointName,
          desired.configName,
          desired.variants.filter((v) => !v.shadow),
        );
        return;
      case 'weights':
        this.executed.push({
          type: 'SetWeights',
          stage,
          endpointName: desired.endpointName,
          weights: step.weights,
        });
        this.setWeights(stage, step.weights);
        return;
      default:
        return;
    }
  }

  private deployEndpoint(stage: StageName, name: string, configName: string, variants: VariantSpec[]): void {
    const ep = this.endpoints[stage];
    if (ep && ep.status === 'InService' && ep.configName === configName) return; // already there
    if (!ep || ep.status === 'Failed') {
      this.endpoints[stage] = {
        name,
        status: 'Creating',
        configName,
        variants: toFakeVariants(variants),
        lastModifiedTime: this.now,
        pending: { configName, variants: toFakeVariants(variants) },
      };
      return;
    }
    ep.previous = { configName: ep.configName, variants: ep.variants };
    ep.pending = { configName, variants: toFakeVariants(variants) };
    ep.status = 'Updating';
    ep.lastModifiedTime = this.now;
  }

  private setWeights(stage: StageName, weights: Record<string, number>): void {
    const ep = this.endpoints[stage];
    if (!ep) {
      this.executionProblems.push(`SetWeights on missing ${stage} endpoint`);
      return;
    }
    const unknown = Object.keys(weights).filter((n) => !ep.variants.some((v) => v.variantName === n));
    if (unknown.length > 0) {
      this.executionProblems.push(
        `SetWeights names unknown variants ${unknown.join(', ')} on ${ep.configName}`,
      );
    }
    ep.previous = { configName: ep.configName, variants: ep.variants.map((v) => ({ ...v })) };
    const next = ep.variants.map((v) => ({ ...v, desiredWeight: weights[v.variantName] ?? v.desiredWeight }));
    ep.variants = next.map((v) => ({ ...v }));
    ep.pending = {
      configName: ep.configName,
      variants: next.map((v) => ({ ...v, currentWeight: v.desiredWeight })),
    };
    ep.status = 'Updating';
    ep.lastModifiedTime = this.now;
  }

  /** The change in progress on a stage's endpoint completes (or fails), then waiting work runs. */
  advance(stage: StageName, outcome: AdvanceOutcome = 'ok'): void {
    const ep = this.endpoints[stage];
    if (!ep?.pending) return;
    ep.lastModifiedTime = this.now;
    if (outcome === 'ok') {
      ep.configName = ep.pending.configName;
      ep.variants = ep.pending.variants;
      ep.status = 'InService';
      ep.failureReason = undefined;
    } else if (ep.status === 'Creating') {
      ep.status = 'Failed';
      ep.failureReason = 'ResourceLimitExceeded: no capacity for ml.m5.large';
    } else {
      // SageMaker rolls a failed update back and reports why
      ep.configName = ep.previous?.configName ?? ep.configName;
      ep.variants = (ep.previous?.variants ?? ep.variants).map((v) => ({
        ...v,
        desiredWeight: v.currentWeight,
      }));
      ep.status = 'InService';
      ep.failureReason = 'The primary container for production variant failed the ping health check';
    }
    ep.pending = undefined;
    ep.previous = undefined;
    if (this.autoCarryOut) this.carryOut();
  }

  /** Someone changes prod weights by hand (outside the service). */
  handSetWeights(stage: StageName, weights: Record<string, number>): void {
    const ep = this.endpoints[stage];
    if (ep?.status !== 'InService') return;
    ep.variants = ep.variants.map((v) => {
      const w = weights[v.variantName] ?? v.currentWeight;
      return { ...v, currentWeight: w, desiredWeight: w };
    });
    ep.lastModifiedTime = this.now;
  }

  describe(stage: StageName): EndpointObservation | null {
    const ep = this.endpoints[stage];
    if (!ep) return null;
    return {
      endpointName: ep.name,
      status: ep.status,
      configName: ep.configName,
      variants: ep.variants.map((v) => ({
        variantName: v.variantName,
        currentWeight: v.currentWeight,
        desiredWeight: v.desiredWeight,
      })),
      failureReason: ep.failureReason,
      lastModifiedTime: ep.lastModifiedTime,
    };
  }

  observe(stage: StageName): TestDecision {
    return this.send({ type: 'EndpointObserved', stage, endpoint: this.describe(stage) });
  }

  /** Completes the change on the stage's endpoint and delivers its state change event. */
  settle(stage: StageName, outcome: AdvanceOutcome = 'ok'): TestDecision {
    this.advance(stage, outcome);
    return this.observe(stage);
  }

  /** Settles both endpoints until nothing is pending (bounded). */
  settleAll(): void {
    for (let i = 0; i < 10; i += 1) {
      const busy = (['qa', 'prod'] as const).filter((s) => this.endpoints[s]?.pending);
      const unsettled = Object.values(this.state.desired ?? {}).some(
        (d) => d && d.settled?.generation !== d.generation,
      );
      if (busy.length === 0 && this.state.outbox.length === 0 && !unsettled) return;
      for (const s of ['qa', 'prod'] as const) this.settle(s);
    }
  }

  later(ms: number): this {
    this.now += ms;
    return this;
  }

  tick(ms = 0): TestDecision {
    this.now += ms;
    return this.send({ type: 'Tick' });
  }

  // ---------------------------------------------------------------- registry and operators

  /** The registry approves `version` now (a newer lastModifiedTime) and its event arrives. */
  approve(version: number): TestDecision {
    const previous = this.registry.get(version);
    const at = Math.max(this.now, (previous?.lastModifiedTime ?? 0) + 1);
    this.registry.set(version, pkg(version, at, 'Approved'));
    return this.send({ type: 'Approved', pkg: this.registry.get(version)! });
  }

  /** The registry rejects `version` now and its event arrives. */
  reject(version: number): TestDecision {
    const previous = this.registry.get(version);
    const at = Math.max(this.now, (previous?.lastModifiedTime ?? 0) + 1);
    this.registry.set(version, pkg(version, at, 'Rejected'));
    return this.send({ type: 'Rejected', pkg: this.registry.get(version)! });
  }

  operator(verb: OperatorVerb, deploymentId: string, withPkg = true, full?: boolean): TestDecision {
    this.requestSeq += 1;
    const version = Number(/:v(\d+)/.exec(deploymentId)?.[1] ?? 0);
    return this.send({
      type: 'Operator',
      command: {
        verb,
        deploymentId,
        actor: 'alice',
        reason: 'testing',
        requestId: `r${this.requestSeq}`,
        full,
      },
      pkg: withPkg ? this.registry.get(version) : undefined,
    });
  }

  canary(id: string, r: GateReadings): TestDecision {
    return this.send({ type: 'CanaryObserved', deploymentId: id, readings: r });
  }

  callback(token: string, version: number, stage: StageName): TestDecision {
    const info = this.registry.get(version) ?? pkg(version, this.now, 'PendingManualApproval');
    if (!this.registry.has(version)) this.registry.set(version, info);
    return this.send({
      type: 'CallbackRequested',
      callback: {
        token,
        pipelineExecutionArn: `arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/${token}`,
        stage,
      },
      pkg: info,
    });
  }

  // ---------------------------------------------------------------- queries

  dep(id: string): Deployment {
    const d = this.state.deployments.find((x) => x.id === id);
    if (!d) throw new Error(`no deployment ${id}`);
    return d;
  }

  phase(id: string): string | undefined {
    return this.state.deployments.find((x) => x.id === id)?.phase;
  }

  /** The prod endpoint's traffic, by version (weights of the live config). */
  prodWeights(): Record<string, number> {
    const ep = this.endpoints.prod;
    return Object.fromEntries((ep?.variants ?? []).map((v) => [v.variantName, v.currentWeight]));
  }

  prodVersions(): number[] {
    return (this.endpoints.prod?.variants ?? []).map((v) => v.version);
  }

  qaVersions(): number[] {
    return (this.endpoints.qa?.variants ?? []).map((v) => v.version);
  }

  /** The QA-only deployments that took QA back to the version prod serves. */
  restores(): Deployment[] {
    return this.state.deployments.filter((d) => d.trigger === 'restore');
  }

  /** Every history entry of `deploymentId` recorded so far. */
  history(deploymentId: string): HistoryEntry[] {
    return commandsOf(this.commands, 'RecordHistory')
      .map((c) => c.entry)
      .filter((e) => e.deploymentId === deploymentId);
  }
}

export const commandsOf = <T extends TestCommand['type']>(
  commands: TestCommand[],
  type: T,
): Extract<TestCommand, { type: T }>[] =>
  commands.filter((c): c is Extract<TestCommand, { type: T }> => c.type === type);

export const eventsOf = (commands: TestCommand[]): string[] =>
  commandsOf(commands, 'Publish').map((c) => c.event.type);

/** The deployment id of `version`'s attempt. */
export const id = (version: number, attempt = 1): string =>
  attempt === 1 ? `${GROUP}:v${version}` : `${GROUP}:v${version}#${attempt}`;

/** Approves `version` and lets it run through QA and prod with every endpoint change succeeding. */
export const ship = (w: World, version: number): void => {
  w.approve(version);
  w.settle('qa');
  w.settle('prod');
};

/** Approves `version` with prod already serving another: stops at Canary step 1, its weights live. */
export const toCanary = (w: World, version: number): string => {
  w.approve(version);
  w.settle('qa');
  w.settle('prod');
  const d = w.state.deployments.find((x) => x.version === version && x.phase === 'Canary');
  if (!d)
    throw new Error(
      `v${version} did not reach Canary: ${w.state.deployments.map((x) => `${x.id} ${x.phase} ${x.reason}`).join('; ')}`,
    );
  // the canary config holds the candidate at weight 0; step 1's weights land next
  w.settle('prod');
  return d.id;
};

/** `version` reaches a canary and its gates roll it back: blocked, Rejected in the registry. */
export const failCanary = (w: World, version: number): string => {
  const d = toCanary(w, version);
  w.canary(d, readings.failing());
  w.settleAll();
  if (w.phase(d) !== 'RolledBack') throw new Error(`${d} did not roll back: ${w.phase(d)}`);
  return d;
};

/** Passes every canary step of `d` and lets the promotion land. */
export const passAllSteps = (w: World, d: string): void => {
  for (let i = 0; i < 5 && w.phase(d) === 'Canary'; i += 1) {
    w.later(5 * MIN).canary(d, readings.healthy());
    w.settle('prod');
  }
  w.settle('prod');
};
