import { randomUUID } from 'node:crypto';
import {
  ApplicationAutoScalingClient,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreatePipelineCommand,
  SageMakerClient,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { CommandUrlSender } from '../adapters/command-url-sender';
import type { Deployment, GroupState } from '../domain/model';
import { deps } from '../wiring';
import type { CloudEvent } from './cloud';
import { matchesPattern } from './cloud/event-pattern';
import { type ModelServerProcess, startModelServerProcess } from './model-server-process';
import { collectStory, type JudgeTrailEntry, type ReportStory } from './report-data';
import {
  ACTION_NAMES,
  type Condition,
  type Count,
  type Expectation,
  type Scenario,
  type Step,
} from './scenario-schema';
import { LocalStack, type StackRecord } from './stack';
import { timelineText } from './timeline-wording';

export { loadScenarioFile, parseScenario, ScenarioFileError } from './scenario-schema';

const MINUTE = 60_000;
const PIPELINE_STATUS_EVENT = 'SageMaker Model Building Pipeline Execution Status Change';
const SERVICE_SOURCE = 'sagemaker-rollouts';

export type EntryKind = 'step' | 'decision' | 'warn' | 'check' | 'metric';

export interface TimelineEntry {
  /** ms of virtual time since the scenario started */
  at: number;
  kind: EntryKind;
  text: string;
  /** AWS calls made between this line and the next, by operation */
  calls: Record<string, number>;
  /** endpoint weights after this line, when they changed ("churn-model-prod v1:90 v2:10") */
  weights?: string;
}

export interface VariantSample {
  weight: number;
  invocations: number;
  /** 5XX / invocations over the minute; null without invocations */
  errorRate: number | null;
  /** ModelLatency over the minute in ms, for the statistic the judge compares; null without data */
  latencyMs?: number | null;
  /** a shadow variant: it answers copies of the production variant's requests, and nobody reads them */
  shadow?: boolean;
}

export interface Sample {
  /** seconds of virtual time since the scenario started */
  t: number;
  endpoints: Record<string, Record<string, VariantSample>>;
}

export interface ScenarioResult {
  name: string;
  description: string;
  file?: string | undefined;
  expected: string;
  outcome: string;
  ok: boolean;
  /** checks that did not hold, and errors */
  failures: string[];
  /** the reason of the deployment that ended the story (failures, rollbacks) */
  reason?: string | undefined;
  simulatedSeconds: number;
  wallMs: number;
  finalWeights: Record<string, Record<string, number>>;
  awsCalls: Record<string, number>;
  timeline: TimelineEntry[];
  samples: Sample[];
  /** endpoint statuses, transitions and gate evidence, for the report */
  story?: ReportStory | undefined;
  /** With keepStack: the stack the scenario ran on, still running. */
  stack?: LocalStack | undefined;
}

export interface RunOptions {
  /** Wall-clock limit for the whole scenario (default 90 s): it fails instead of hanging. */
  wallTimeoutMs?: number;
  /** Each timeline line as soon as it is complete. */
  onEntry?: (entry: TimelineEntry, scenario: Scenario) => void;
  file?: string;
  /** Leave the local stack running (result.stack) instead of closing it. */
  keepStack?: boolean;
}

class ScenarioAbort extends Error {}

interface PipelineRun {
  name: string;
  executionArn: string;
  token?: string | undefined;
}

/** Plays one scenario on a fresh local stack and checks its expectations. */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioResult> {
  const wallStart = Date.now();
  const wallTimeoutMs = options.wallTimeoutMs ?? 90_000;
  const run = new Run(scenario, options, wallStart + wallTimeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ScenarioAbort(`wall-clock limit of ${wallTimeoutMs / 1000} s reached`)),
      wallTimeoutMs,
    );
  });
  const body = run.play();
  body.catch(() => {});
  try {
    await Promise.race([body, timeout]);
  } catch (error) {
    run.abort(error);
  } finally {
    clearTimeout(timer);
  }
  const result = run.finish(Date.now() - wallStart);
  if (options.keepStack && run.stack && !result.failures.some((f) => f.startsWith('scenario stopped')))
    result.stack = run.stack;
  else await run.close();
  return result;
}

class Run {
  stack: LocalStack | undefined;
  private startMs = 0;
  private readonly timeline: TimelineEntry[] = [];
  private readonly samples: Sample[] = [];
  private pending: TimelineEntry | undefined;
  private callIndex = 0;
  private lastWeights = '';
  /** the last metric line shown per group, by what it says (see metricLineKey) */
  private readonly lastMetric = new Map<string, string>();
  private readonly packages = new Map<string, string>();
  /** groups the scenario registers versions in (its outcome is theirs) */
  private readonly groups = new Set<string>();
  /** groups that exist in the local registry */
  private readonly registryGroups = new Set<string>();
  private readonly pipelines = new Map<string, PipelineRun[]>();
  private readonly definedPipelines = new Set<string>();
  private readonly failures: string[] = [];
  private aborted: string | undefined;
  private finalState = new Map<string, GroupState | undefined>();
  private sagemaker: SageMakerClient | undefined;
  private autoscaling: ApplicationAutoScalingClient | undefined;
  /** The scenario's model servers, by name. */
  private readonly servers = new Map<string, ModelServerProcess>();
  private lastSampleAt = -1;
  /** every alarm state change, and the judge's evidence as each tick left it (see collectStory) */
  private readonly alarmChanges: Array<{ at: number; name: string; state: string }> = [];
  private readonly judgeTrail: JudgeTrailEntry[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly options: RunOptions,
    private readonly wallDeadline: number,
  ) {}

  private get elapsed(): number {
    return this.stack ? this.stack.now - this.startMs : 0;
  }

  async play(): Promise<void> {
    for (const [name, weightsPath] of Object.entries(this.scenario.modelServers)) {
      const server = await startModelServerProcess({ weightsPath });
      // a run stopped (wall-clock limit) while this was starting is already closed: stop it too
      if (this.closed) return server.stop();
      this.servers.set(name, server);
    }
    this.starting = LocalStack.start({
      ...(this.scenario.config ? { configPath: this.scenario.config } : {}),
      seed: this.scenario.seed,
      duplicateEventRate: this.scenario.duplicateEventRate,
      containers: { images: this.scenario.containers },
      onRecord: (record) => this.onRecord(record),
    });
    const stack = await this.starting;
    // stopped while the stack was starting: close() has waited for it and closes it
    if (this.closed) return;
    this.stack = stack;
    this.startMs = this.stack.now;
    this.callIndex = this.stack.cloud.calls.length;
    this.firstCall = this.callIndex;
    const client = { region: this.stack.cloud.region };
    this.sagemaker = new SageMakerClient(client);
    this.autoscaling = new ApplicationAutoScalingClient(client);
    // the registry holds every configured group before any version is registered, as a platform's
    // does (the tick's search for lost approvals reads each of them)
    for (const group of Object.keys(deps().config.modelPackageGroups)) await this.ensureGroup(group);
    await this.sample();
    for (const [index, step] of this.scenario.steps.entries()) {
      if (this.aborted) return;
      if (step.at !== undefined && step.at > this.elapsed) await this.advanceTo(step.at);
      await this.perform(step, index);
    }
    this.flush();
    for (const group of this.groups) this.finalState.set(group, await deps().store.loadGroup(group));
    this.story = await collectStory({
      startMs: this.startMs,
      configPath: this.stack.env().ROLLOUTS_CONFIG_PATH!,
      published: this.stack.cloud.events.published,
      changes: this.stack.cloud.changes,
      serviceRegion: this.stack.cloud.region,
      alarmChanges: this.alarmChanges,
      judgeTrail: this.judgeTrail,
      states: [...this.finalState.values()].filter((s): s is GroupState => s !== undefined),
      store: deps().store,
    });
  }

  private story: ReportStory | undefined;

  abort(error: unknown): void {
    this.aborted = error instanceof Error ? error.message : String(error);
    this.failures.push(`scenario stopped: ${this.aborted}`);
  }

  /** Runs virtual time forward minute by minute, sampling the endpoints at each minute. */
  private async advanceTo(target: number, until?: () => Promise<boolean>): Promise<boolean> {
    const stack = this.stack!;
    if (target > this.scenario.maxDuration)
      throw new ScenarioAbort(
        `virtual time limit of ${this.scenario.maxDuration / MINUTE} min reached (maxDuration)`,
      );
    for (;;) {
      if (Date.now() > this.wallDeadline) throw new ScenarioAbort('wall-clock limit reached');
      if (until && (await until())) return true;
      const now = this.elapsed;
      if (now >= target) return false;
      const nextMinute = (Math.floor(now / MINUTE) + 1) * MINUTE;
      await stack.run(Math.min(target, nextMinute) - now);
      await this.sample();
    }
  }

  private async perform(step: Step, index: number): Promise<void> {
    const action = ACTION_NAMES.find((k) => step[k] !== undefined)!;
    const where = `steps[${index}].${action}`;
    try {
      await this.performAction(step);
    } catch (error) {
      if (error instanceof ScenarioAbort) throw error;
      throw new ScenarioAbort(`${where} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    await this.stack!.settle();
  }

  private async ensureGroup(group: string): Promise<void> {
    if (this.registryGroups.has(group)) return;
    this.registryGroups.add(group);
    try {
      await this.sagemaker!.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ValidationException') throw error;
    }
  }

  private async performAction(step: Step): Promise<void> {
    const stack = this.stack!;
    const cloud = stack.cloud;
    if (step.register) {
      const { group, version, approval, sim } = step.register;
      this.groups.add(group);
      await this.ensureGroup(group);
      const metadata: Record<string, string> = {};
      if (sim.errorRate !== undefined) metadata['sim.errorRate'] = String(sim.errorRate);
      if (sim.latencyMs !== undefined) metadata['sim.latencyMs'] = String(sim.latencyMs);
      if (sim.failDeploy) metadata['sim.failDeploy'] = 'true';
      if (sim.container) metadata['sim.container'] = sim.container;
      if (sim.response) metadata['sim.responseBase64'] = Buffer.from(sim.response).toString('base64');
      if (sim.server) {
        const server = this.servers.get(sim.server);
        if (!server) throw new Error(`no model server "${sim.server}" in modelServers`);
        metadata['sim.container'] = server.url;
      }
      const pushed = step.register.imagePushed;
      this.entry(
        'step',
        `register ${group} v${version}${describeSim(sim)}${pushed ? '' : ' (image not pushed)'}`,
      );
      const containers = [{ Image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/${group}:${version}` }];
      // what the user's CI pushed before it registered the version
      if (pushed) cloud.seedArtifacts(containers);
      const out = await this.sagemaker!.send(
        new CreateModelPackageCommand({
          ModelPackageGroupName: group,
          ModelApprovalStatus: approval,
          CustomerMetadataProperties: metadata,
          InferenceSpecification: {
            Containers: containers,
            SupportedContentTypes: ['application/json'],
            SupportedResponseMIMETypes: ['application/json'],
          },
        }),
      );
      const arn = out.ModelPackageArn!;
      if (!arn.endsWith(`/${version}`))
        throw new Error(`the registry made ${arn}; register the versions of ${group} in order from 1`);
      this.packages.set(`${group}:${version}`, arn);
    } else if (step.approve || step.reject) {
      const ref = (step.approve ?? step.reject)!;
      const status = step.approve ? 'Approved' : 'Rejected';
      this.entry('step', `${step.approve ? 'approve' : 'reject'} ${ref.group} v${ref.version}`);
      await this.sagemaker!.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: this.packageArn(ref),
          ModelApprovalStatus: status,
          ApprovalDescription: `${status} in scenario ${this.scenario.name}`,
        }),
      );
    } else if (step.traffic) {
      this.entry('step', `traffic ${step.traffic.endpoint}: ${step.traffic.rpm} requests/min`);
      const { endpoint, rpm, requests, ...options } = step.traffic;
      cloud.setTraffic(endpoint, rpm, {
        ...options,
        ...(requests
          ? {
              requests: requests.map((r) => ({
                contentType: r.contentType,
                body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body),
              })),
            }
          : {}),
      });
    } else if (step.autoscale) {
      const a = step.autoscale;
      this.entry(
        'step',
        `autoscale ${a.endpoint} ${a.variant}: ${a.min}-${a.max} instances, ${a.invocationsPerInstance} invocations per instance`,
      );
      const ids = {
        ServiceNamespace: 'sagemaker' as const,
        ResourceId: `endpoint/${a.endpoint}/variant/${a.variant}`,
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const,
      };
      await this.autoscaling!.send(
        new RegisterScalableTargetCommand({ ...ids, MinCapacity: a.min, MaxCapacity: a.max }),
      );
      await this.autoscaling!.send(
        new PutScalingPolicyCommand({
          ...ids,
          PolicyName: 'invocations-per-instance',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: a.invocationsPerInstance,
            PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
          },
        }),
      );
    } else if (step.alarm) {
      this.entry('step', `alarm ${step.alarm.name} -> ${step.alarm.state}`);
      cloud.setAlarmState(step.alarm.name, step.alarm.state);
      this.alarmChanges.push({ at: this.elapsed, name: step.alarm.name, state: step.alarm.state });
    } else if (step.fault) {
      const f = step.fault;
      const times = f.times === undefined ? 'every call' : `${f.times} call(s)`;
      this.entry(
        'step',
        `fault: ${f.service ? `${f.service} ` : ''}${f.operation} fails with ${f.error} (${times})`,
      );
      cloud.faults.add({
        operation: f.operation,
        error: f.error,
        ...(f.service ? { service: f.service } : {}),
        ...(f.message ? { message: f.message } : {}),
        ...(f.times !== undefined ? { times: f.times } : {}),
      });
    } else if (step.clearFaults) {
      this.entry('step', 'faults cleared');
      cloud.faults.clear();
    } else if (step.command) {
      const c = step.command;
      this.entry('step', `operator: ${c.verb} ${c.deployment} (${c.reason})`);
      // signed as the IAM user named by `actor`: the control function records that user's ARN
      const user = cloud.sts.createUser(c.actor);
      const reply = await new CommandUrlSender(stack.commandUrl, {
        audience: stack.tableName,
        region: cloud.region,
        credentials: async () => user,
      }).send({ verb: c.verb, deploymentId: c.deployment, reason: c.reason, requestId: randomUUID() });
      this.entry('step', `operator: ${c.verb} ${reply.outcome} for ${reply.actor}`);
    } else if (step.pipeline) {
      await this.startPipeline(step.pipeline);
    } else if (step.stopPipeline) {
      const runs = this.pipelines.get(step.stopPipeline.name);
      const latest = runs?.[runs.length - 1];
      if (!latest) throw new Error(`pipeline ${step.stopPipeline.name} was never started`);
      this.entry('step', `stop pipeline ${latest.name}`);
      await this.sagemaker!.send(
        new StopPipelineExecutionCommand({
          PipelineExecutionArn: latest.executionArn,
          ClientRequestToken: randomUUID(),
        }),
      );
    } else if (step.replay) {
      await this.replay(step.replay);
    } else if (step.wait !== undefined) {
      const wait = step.wait;
      if (typeof wait === 'number') {
        await this.advanceTo(this.elapsed + wait);
      } else {
        const text = describeCondition(wait.until);
        const deadline = this.elapsed + wait.timeout;
        const held = await this.advanceTo(Math.min(deadline, this.scenario.maxDuration), () =>
          this.holds(wait.until),
        );
        if (!held) {
          const message = `waited ${formatDuration(wait.timeout)} for ${text}: it never happened`;
          this.failures.push(message);
          this.entry('check', message);
        }
      }
    }
  }

  private packageArn(ref: { group: string; version: number }): string {
    const arn = this.packages.get(`${ref.group}:${ref.version}`);
    if (!arn) throw new Error(`${ref.group} v${ref.version} was not registered by an earlier step`);
    return arn;
  }

  private async startPipeline(spec: NonNullable<Step['pipeline']>): Promise<void> {
    const stack = this.stack!;
    const args: Record<string, string> = { ...spec.arguments, task: spec.task };
    if (spec.package) args.modelPackageArn = this.packageArn(spec.package);
    if (!this.definedPipelines.has(spec.name)) {
      const source = stack.wiring.queueSources[0];
      const queueUrl = source ? stack.queueUrls[source.queue.logicalId] : undefined;
      if (!queueUrl) throw new Error('serverless.yml wires no callback queue');
      await this.sagemaker!.send(
        new CreatePipelineCommand({
          PipelineName: spec.name,
          RoleArn: 'arn:aws:iam::111122223333:role/SageMakerPipelines',
          ClientRequestToken: randomUUID(),
          PipelineDefinition: JSON.stringify({
            Version: '2020-12-01',
            Steps: [{ Name: 'DeployModel', Type: 'Callback', Arguments: args, SqsQueueUrl: queueUrl }],
          }),
        }),
      );
      this.definedPipelines.add(spec.name);
    }
    this.entry('step', `start pipeline ${spec.name}: callback step ${JSON.stringify(args)}`);
    const tokensBefore = stack.cloud.pipelines.tokens().length;
    const out = await this.sagemaker!.send(
      new StartPipelineExecutionCommand({ PipelineName: spec.name, ClientRequestToken: randomUUID() }),
    );
    const runs = this.pipelines.get(spec.name) ?? [];
    runs.push({
      name: spec.name,
      executionArn: out.PipelineExecutionArn!,
      token: stack.cloud.pipelines.tokens()[tokensBefore],
    });
    this.pipelines.set(spec.name, runs);
  }

  private async replay(spec: NonNullable<Step['replay']>): Promise<void> {
    const stack = this.stack!;
    let selected = stack.cloud.events.published.filter(
      (e) =>
        (spec.detailType === undefined || e['detail-type'] === spec.detailType) &&
        Object.entries(spec.match).every(([k, v]) => e.detail[k] === v),
    );
    if (spec.last !== undefined) selected = selected.slice(-spec.last);
    if (spec.order === 'reversed') selected = [...selected].reverse();
    this.entry(
      'step',
      `replay ${selected.length} earlier event(s)${spec.detailType ? ` (${spec.detailType})` : ''}, ${spec.order} order`,
    );
    if (selected.length === 0) throw new Error('no earlier event matches the replay filter');
    for (const event of selected) await this.redeliver(event);
  }

  /** Delivers an event again, same id, to every rule it matches (EventBridge delivers at least once). */
  private async redeliver(event: CloudEvent): Promise<void> {
    const stack = this.stack!;
    const bus = stack.cloud.events.busOf(event.id) === 'default' ? 'default' : 'service';
    for (const rule of stack.wiring.eventRules) {
      if (rule.bus !== bus || !matchesPattern(rule.pattern, event)) continue;
      try {
        await stack.invoke(rule.functionName, event, `replayed ${event['detail-type']}`);
      } catch {
        // recorded by the stack; EventBridge would retry, the scenario's checks decide
      }
    }
  }

  private async loadGroups(): Promise<Map<string, GroupState | undefined>> {
    const out = new Map<string, GroupState | undefined>();
    for (const group of this.groups) out.set(group, await this.stack!.latestGroup(group));
    return out;
  }

  private findDeployment(states: Map<string, GroupState | undefined>, id: string): Deployment | undefined {
    const group = id.slice(0, id.indexOf(':'));
    return states.get(group)?.deployments.find((d) => d.id === id);
  }

  private pipelineStatus(name: string): string | undefined {
    const runs = this.pipelines.get(name);
    const latest = runs?.[runs.length - 1];
    if (!latest) return undefined;
    const events = this.stack!.cloud.events.published.filter(
      (e) =>
        e['detail-type'] === PIPELINE_STATUS_EVENT && e.detail.pipelineExecutionArn === latest.executionArn,
    );
    const last = events[events.length - 1];
    return last ? String(last.detail.currentPipelineExecutionStatus) : 'Executing';
  }

  private async holds(c: Condition): Promise<boolean> {
    if (c.pipeline !== undefined && c.status !== undefined) {
      const status = this.pipelineStatus(c.pipeline);
      const wanted = Array.isArray(c.status) ? c.status : [c.status];
      if (!status || !wanted.includes(status as never)) return false;
    }
    if (c.deployment === undefined && !c.idle) return true;
    const states = await this.loadGroups();
    if (c.deployment !== undefined && c.phase !== undefined) {
      const d = this.findDeployment(states, c.deployment);
      const wanted = Array.isArray(c.phase) ? c.phase : [c.phase];
      if (!d || !wanted.includes(d.phase)) return false;
    }
    if (c.idle) {
      for (const state of states.values()) {
        if (state?.deployments.some((d) => !TERMINAL.has(d.phase))) return false;
        if (state && state.outbox.length > 0) return false;
      }
    }
    return true;
  }

  // ---- timeline -------------------------------------------------------------------------------

  private onRecord(record: StackRecord): void {
    if (record.kind === 'log') {
      this.entry(
        record.level === 'info' ? 'decision' : 'warn',
        timelineText(record.message, record.extra),
        record.at,
      );
    } else if (record.kind === 'metric') {
      const { group, says } = metricLineKey(record.line);
      if (this.lastMetric.get(group) === says) return;
      this.lastMetric.set(group, says);
      this.entry('metric', record.line, record.at);
    } else if (record.kind === 'result' && record.outcome === 'error') {
      this.entry('warn', `${record.functionName} failed: ${record.detail ?? 'error'}`, record.at);
    }
  }

  private entry(kind: EntryKind, text: string, at = this.stack?.now ?? this.startMs): void {
    this.flush();
    this.pending = { at: at - this.startMs, kind, text, calls: {} };
  }

  /** Completes the pending line with the calls made since it began and the weights after them. */
  private flush(): void {
    const stack = this.stack;
    const entry = this.pending;
    if (!stack || !entry) return;
    this.pending = undefined;
    const calls = stack.cloud.calls;
    for (; this.callIndex < calls.length; this.callIndex++) {
      const op = calls[this.callIndex]!.operation;
      entry.calls[op] = (entry.calls[op] ?? 0) + 1;
    }
    const weights = this.weightsText();
    if (weights !== this.lastWeights) {
      entry.weights = weights;
      this.lastWeights = weights;
    }
    this.timeline.push(entry);
    this.options.onEntry?.(entry, this.scenario);
  }

  private weightsText(): string {
    const parts: string[] = [];
    for (const [name, weights] of Object.entries(this.endpointWeights())) {
      parts.push(
        `${name} ${Object.entries(weights)
          .map(([v, w]) => `${v}:${w}`)
          .join(' ')}`,
      );
    }
    return parts.join(', ');
  }

  private endpointWeights(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const ep of this.stack?.cloud.sagemaker.endpoints.values() ?? []) {
      if (ep.variants.length === 0) continue;
      out[ep.name] = Object.fromEntries(ep.variants.map((v) => [v.name, v.currentWeight]));
    }
    return out;
  }

  /**
   * Weights now (shadow variants included) and the judge's evidence as the last tick left it. The
   * minute's invocations, error rate and latency are read once the scenario has ended
   * (settleSamples): CloudWatch completes a minute's datapoints only after a while.
   */
  private async sample(): Promise<void> {
    const stack = this.stack!;
    const t = Math.floor(this.elapsed / 1000);
    if (t === this.lastSampleAt) return;
    this.lastSampleAt = t;
    const endpoints: Sample['endpoints'] = {};
    for (const ep of stack.cloud.sagemaker.endpoints.values()) {
      if (ep.variants.length === 0) continue;
      const variants: Record<string, VariantSample> = {};
      for (const v of ep.variants)
        variants[v.name] = { weight: v.currentWeight, invocations: 0, errorRate: null };
      for (const v of ep.shadowVariants ?? [])
        variants[v.name] = { weight: v.currentWeight, invocations: 0, errorRate: null, shadow: true };
      endpoints[ep.name] = variants;
    }
    this.samples.push({ t, endpoints });
    for (const name of stack.cloud.cloudwatch.alarmNames()) {
      const state = stack.cloud.cloudwatch.alarmState(name)!;
      const last = this.alarmChanges.findLast((c) => c.name === name);
      if (last?.state !== state) this.alarmChanges.push({ at: this.elapsed, name, state });
    }
    for (const group of this.groups) {
      for (const d of (await stack.latestGroup(group))?.deployments ?? []) {
        const readings = d.canary?.lastReadings;
        if (!readings?.evidence || (d.phase !== 'Canary' && d.phase !== 'Shadow')) continue;
        const seen = this.judgeTrail.findLast((j) => j.deploymentId === d.id);
        // readings stay in the state after the phase changes: the same tick's are not judged again
        if (seen && seen.settledUntil === readings.settledUntil) continue;
        this.judgeTrail.push({
          at: this.elapsed,
          deploymentId: d.id,
          phase: d.phase,
          settledUntil: readings.settledUntil,
          readings,
        });
      }
    }
  }

  /** Each sample's minute as CloudWatch holds it at the end: invocations, 5XX rate, latency. */
  private settleSamples(): void {
    const cloudwatch = this.stack!.cloud.cloudwatch;
    const latencyStatistic = latencyStatistics();
    for (const s of this.samples) {
      const to = this.startMs + s.t * 1000;
      for (const [endpoint, variants] of Object.entries(s.endpoints)) {
        for (const [variant, v] of Object.entries(variants)) {
          const dims = [
            { Name: 'EndpointName', Value: endpoint },
            { Name: 'VariantName', Value: variant },
          ];
          const read = (metric: string, stat: string) =>
            cloudwatch.query('AWS/SageMaker', metric, dims, 60, stat, to - MINUTE, to);
          const sum = (metric: string) => read(metric, 'Sum').reduce((n, d) => n + d.value, 0);
          v.invocations = sum('Invocations');
          v.errorRate = v.invocations > 0 ? sum('Invocation5XXErrors') / v.invocations : null;
          // ModelLatency is reported in microseconds
          const latency = read('ModelLatency', latencyStatistic.get(endpoint) ?? 'p99').at(-1);
          v.latencyMs = latency ? latency.value / 1000 : null;
        }
      }
    }
  }

  // ---- outcome --------------------------------------------------------------------------------

  private checkTrafficAndScaling(expect: Expectation): string[] {
    const cloud = this.stack!.cloud;
    const invocationsOf = (endpoint: string, variant: string) =>
      cloud.cloudwatch
        .query(
          'AWS/SageMaker',
          'Invocations',
          [
            { Name: 'EndpointName', Value: endpoint },
            { Name: 'VariantName', Value: variant },
          ],
          60,
          'Sum',
          this.startMs,
          this.stack!.now + MINUTE,
        )
        .reduce((n, d) => n + d.value, 0);
    const scalingOf = (endpoint: string, variant: string) => {
      const resourceId = `endpoint/${endpoint}/variant/${variant}`;
      const target = cloud.autoscaling.targets.get(resourceId);
      if (!target) return null;
      const policies = [...cloud.autoscaling.policies.values()].filter((p) => p.resourceId === resourceId);
      return { min: target.minCapacity, max: target.maxCapacity, policies: policies.length };
    };
    return trafficAndScalingProblems(expect, this.samples, invocationsOf, scalingOf);
  }

  finish(wallMs: number): ScenarioResult {
    this.flush();
    const stack = this.stack;
    if (stack) this.settleSamples();
    const expect = this.scenario.expect;
    const { outcome, reason } = this.aborted
      ? { outcome: `error: ${this.aborted}`, reason: this.aborted }
      : this.describeOutcome();
    const failures = [...this.failures];
    if (!this.aborted && stack) failures.push(...this.check(expect));
    if (outcome !== expect.outcome) failures.unshift(`outcome "${outcome}", expected "${expect.outcome}"`);
    const awsCalls: Record<string, number> = {};
    if (stack) {
      for (const call of stack.cloud.calls.slice(this.firstCall))
        awsCalls[call.operation] = (awsCalls[call.operation] ?? 0) + 1;
    }
    const result: ScenarioResult = {
      name: this.scenario.name,
      description: this.scenario.description,
      file: this.options.file,
      expected: expect.outcome,
      outcome,
      ok: failures.length === 0,
      failures,
      reason,
      simulatedSeconds: Math.round(this.elapsed / 1000),
      wallMs,
      finalWeights: this.endpointWeights(),
      awsCalls,
      timeline: this.timeline,
      samples: this.samples,
      ...(this.story ? { story: this.story } : {}),
    };
    return result;
  }

  private firstCall = 0;
  /** Set by close(): a model server that finishes starting later is stopped at once. */
  private closed = false;
  private starting: Promise<LocalStack> | undefined;

  async close(): Promise<void> {
    this.closed = true;
    // a stack still starting (a wall-clock limit reached during the start) is waited for and
    // closed too, so that nothing of it (servers, process.env) outlives the run
    const started = this.starting ? await this.starting.catch(() => undefined) : undefined;
    await (this.stack ?? started)?.close();
    await Promise.all([...this.servers.values()].map((s) => s.stop()));
  }

  /** The story in one line: the last deployment of each group, then each pipeline's status. */
  private describeOutcome(): { outcome: string; reason?: string | undefined } {
    const parts: string[] = [];
    let reason: string | undefined;
    for (const [group, state] of [...this.finalState.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      // QA going back after a rejection follows the story's last deployment; it is not one
      const last = [...(state?.deployments ?? [])]
        .filter((d) => d.trigger !== 'restore')
        .sort((a, b) => a.createdAt - b.createdAt)
        .pop();
      if (!last) {
        parts.push(`${group}: nothing deployed`);
        continue;
      }
      const v = `v${last.version}`;
      const prod = state?.prod ? `v${state.prod.version}` : undefined;
      // A rollback (rejection, operator) is a new deployment of the older version.
      const undone = state?.deployments.find(
        (d) => d !== last && d.phase === 'RolledBack' && d.phaseSince >= last.createdAt,
      );
      if (undone && last.phase === 'Succeeded' && last.targetStage === 'prod') {
        parts.push(`rolled back v${undone.version} to ${v}`);
        reason = undone.reason;
        continue;
      }
      switch (last.phase) {
        case 'Succeeded':
          parts.push(last.targetStage === 'prod' ? `promoted ${v}` : `deployed ${v} to ${last.targetStage}`);
          break;
        case 'RolledBack':
          parts.push(prod ? `rolled back ${v} to ${prod}` : `rolled back ${v}`);
          reason = last.reason;
          break;
        case 'Failed':
          parts.push(`failed ${v}`);
          reason = last.reason;
          break;
        case 'Aborted':
          parts.push(`aborted ${v}`);
          reason = last.reason;
          break;
        case 'Superseded':
          parts.push(`superseded ${v}`);
          break;
        default:
          parts.push(`${v} still ${last.phase}`);
      }
    }
    for (const name of this.pipelines.keys()) {
      parts.push(`pipeline ${name} ${(this.pipelineStatus(name) ?? 'not started').toLowerCase()}`);
    }
    return { outcome: parts.join('; ') || 'nothing happened', reason };
  }

  private check(expect: Expectation): string[] {
    const failures: string[] = [];
    const stack = this.stack!;
    for (const [id, spec] of Object.entries(expect.deployments)) {
      const want = typeof spec === 'string' ? { phase: spec } : spec;
      const d = this.findDeployment(this.finalState, id);
      if (!d) failures.push(`deployment ${id} does not exist`);
      else if (d.phase !== want.phase)
        failures.push(`${id} is ${d.phase} (${d.reason ?? 'no reason'}), expected ${want.phase}`);
      else if (want.reasonContains && !d.reason?.includes(want.reasonContains))
        failures.push(`${id}'s reason "${d.reason ?? ''}" does not contain "${want.reasonContains}"`);
    }
    for (const [group, version] of Object.entries(expect.prod)) {
      const actual = this.finalState.get(group)?.prod?.version ?? null;
      if (actual !== version)
        failures.push(`prod of ${group} serves ${fmtVersion(actual)}, expected ${fmtVersion(version)}`);
    }
    const weights = this.endpointWeights();
    for (const [endpoint, want] of Object.entries(expect.weights)) {
      const got = weights[endpoint];
      if (!got) {
        failures.push(`endpoint ${endpoint} does not exist`);
        continue;
      }
      const same =
        Object.keys(got).length === Object.keys(want).length &&
        Object.entries(want).every(([v, w]) => got[v] === w);
      if (!same)
        failures.push(`${endpoint} weights ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
    failures.push(...this.checkTrafficAndScaling(expect));
    const answers = stack.cloud.pipelines.answers();
    for (const [name, want] of Object.entries(expect.callbacks)) {
      const runs = this.pipelines.get(name) ?? [];
      if (runs.length === 0) failures.push(`pipeline ${name} was never started`);
      for (const run of runs) {
        const mine = answers.filter((a) => a.token === run.token);
        const accepted = mine.filter((a) => a.accepted);
        if (accepted.length !== 1) {
          failures.push(
            `pipeline ${name}'s token got ${accepted.length} accepted answers, expected exactly 1`,
          );
          continue;
        }
        const a = accepted[0]!;
        if (a.kind !== want.answer)
          failures.push(`pipeline ${name} got ${a.kind} (${a.failureReason ?? ''}), expected ${want.answer}`);
        if (want.reasonContains && !a.failureReason?.includes(want.reasonContains))
          failures.push(
            `pipeline ${name}'s failure reason "${a.failureReason ?? ''}" does not contain "${want.reasonContains}"`,
          );
        if (want.outputs) {
          const outputs = Object.fromEntries((a.outputParameters ?? []).map((p) => [p.Name, p.Value]));
          for (const [k, v] of Object.entries(want.outputs)) {
            if (outputs[k] !== v)
              failures.push(`pipeline ${name} output ${k}=${outputs[k] ?? '(none)'}, expected ${v}`);
          }
        }
      }
      if (want.status) {
        const status = this.pipelineStatus(name);
        if (status !== want.status) failures.push(`pipeline ${name} is ${status}, expected ${want.status}`);
      }
    }
    const counts: Record<string, number> = {};
    for (const call of stack.cloud.calls.slice(this.firstCall))
      counts[call.operation] = (counts[call.operation] ?? 0) + 1;
    for (const [op, want] of Object.entries(expect.calls)) {
      const problem = countProblem(counts[op] ?? 0, want);
      if (problem) failures.push(`${op} called ${counts[op] ?? 0} time(s), expected ${problem}`);
    }
    const published: Record<string, number> = {};
    for (const e of stack.cloud.events.published)
      if (e.source === SERVICE_SOURCE) published[e['detail-type']] = (published[e['detail-type']] ?? 0) + 1;
    for (const [type, want] of Object.entries(expect.published)) {
      const problem = countProblem(published[type] ?? 0, want);
      if (problem) failures.push(`"${type}" published ${published[type] ?? 0} time(s), expected ${problem}`);
    }
    return failures;
  }
}

/** What variants served and how they are scaled: peak weights, invocations, scalable targets. */
function trafficAndScalingProblems(
  expect: Expectation,
  samples: Sample[],
  invocationsOf: (endpoint: string, variant: string) => number,
  scalingOf: (endpoint: string, variant: string) => { min: number; max: number; policies: number } | null,
): string[] {
  const failures: string[] = [];
  for (const [endpoint, variants] of Object.entries(expect.peakWeights)) {
    for (const [variant, want] of Object.entries(variants)) {
      // a shadow variant's weight sets its share of copies, not of user traffic
      const served = (v: VariantSample | undefined) => (v && !v.shadow ? v.weight : 0);
      const peak = Math.max(0, ...samples.map((s) => served(s.endpoints[endpoint]?.[variant])));
      if (peak !== want) failures.push(`${endpoint} ${variant} peaked at weight ${peak}, expected ${want}`);
    }
  }
  for (const [endpoint, variants] of Object.entries(expect.invocations)) {
    for (const [variant, want] of Object.entries(variants)) {
      const got = invocationsOf(endpoint, variant);
      const problem = countProblem(got, want);
      if (problem) failures.push(`${endpoint} ${variant} served ${got} invocation(s), expected ${problem}`);
    }
  }
  for (const [endpoint, variants] of Object.entries(expect.scaling)) {
    for (const [variant, want] of Object.entries(variants)) {
      const got = scalingOf(endpoint, variant);
      if (JSON.stringify(got) !== JSON.stringify(want))
        failures.push(
          `${endpoint} ${variant} scaling ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`,
        );
    }
  }
  return failures;
}

const TERMINAL = new Set(['Succeeded', 'RolledBack', 'Failed', 'Aborted', 'Superseded']);

const fmtVersion = (v: number | null): string => (v === null ? 'nothing' : `v${v}`);

function countProblem(actual: number, want: Count): string | undefined {
  if (typeof want === 'number') return actual === want ? undefined : `exactly ${want}`;
  if (want.min !== undefined && actual < want.min) return `at least ${want.min}`;
  if (want.max !== undefined && actual > want.max) return `at most ${want.max}`;
  return undefined;
}

function describeSim(sim: {
  errorRate?: number | undefined;
  latencyMs?: number | undefined;
  failDeploy?: boolean | undefined;
  container?: string | undefined;
}): string {
  const parts: string[] = [];
  if (sim.errorRate !== undefined) parts.push(`error rate ${(sim.errorRate * 100).toFixed(1)}%`);
  if (sim.latencyMs !== undefined) parts.push(`latency ${sim.latencyMs} ms`);
  if (sim.failDeploy) parts.push('fails to deploy');
  if (sim.container) parts.push(`served by ${sim.container}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function describeCondition(c: Condition): string {
  const parts: string[] = [];
  if (c.deployment) parts.push(`${c.deployment} ${[c.phase].flat().join('/')}`);
  if (c.pipeline) parts.push(`pipeline ${c.pipeline} ${[c.status].flat().join('/')}`);
  if (c.idle) parts.push('no deployment in progress');
  return parts.join(' and ');
}

export const formatDuration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec || (!h && !m) ? `${sec}s` : ''}`;
};

/** Simulated time since the scenario started, as hh:mm:ss. */
export const clockText = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
};

/**
 * What an EMF line says, for the timeline: every tick writes the same gauges, so a line is shown
 * only when it differs from the group's previous one (the tick's own duration aside).
 */
const metricLineKey = (line: string): { group: string; says: string } => {
  const doc = JSON.parse(line) as Record<string, unknown> & {
    _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
  };
  const names = doc._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name)).filter(
    (name) => name !== 'TickDuration',
  );
  return {
    group: String(doc.group),
    says: JSON.stringify([doc.deploymentId, ...names.map((name) => [name, doc[name]])]),
  };
};

/** The ModelLatency statistic each prod endpoint's judge compares (the report draws the same). */
function latencyStatistics(): Map<string, string> {
  const out = new Map<string, string>();
  for (const group of Object.values(deps().config.modelPackageGroups)) {
    const strategy = group.stages.prod.strategy;
    if (strategy.type === 'canary') out.set(group.stages.prod.endpointName, strategy.gates.latencyStatistic);
  }
  return out;
}
