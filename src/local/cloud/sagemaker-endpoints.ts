import type { VariantRecord } from './change-log';
import { type ContainerOptions, failedPing } from './containers';
import { type Core, emitSageMakerEvent, type Place, sageMakerArn, type Tag } from './context';
import { epochSeconds, paginate, type RequestContext, requireString, validation } from './protocol';
import { checkModelName, checkTags } from './resource-validation';
import type { ModelRegistry } from './sagemaker-registry';
import { checkName } from './sagemaker-registry';
import { shadowVariantsOf } from './shadow-variants';

type Json = Record<string, unknown>;

export interface Timings {
  createMs: number;
  updateMs: number;
  weightsMs: number;
  /**
   * How long a new endpoint config stays invisible to CreateEndpoint ("Could not find endpoint
   * configuration": SageMaker reads it eventually consistently, API_CreateEndpoint.html). Default 0.
   */
  configVisibleMs?: number | undefined;
  /** How long DeleteEndpoint leaves the endpoint Deleting (the name stays taken meanwhile). */
  deleteMs?: number | undefined;
}

export interface Model {
  name: string;
  arn: string;
  containers: Json[];
  executionRoleArn?: string;
  creationTime: number;
}

export interface ConfigVariant {
  VariantName: string;
  ModelName: string;
  InitialInstanceCount?: number;
  InstanceType?: string;
  InitialVariantWeight?: number;
  ServerlessConfig?: Json;
}

export interface EndpointConfig {
  name: string;
  arn: string;
  variants: ConfigVariant[];
  shadowVariants?: ConfigVariant[];
  creationTime: number;
  raw: Json;
}

export interface Variant {
  name: string;
  modelName: string;
  instanceType?: string;
  serverless?: Json;
  currentWeight: number;
  desiredWeight: number;
  currentCount?: number;
  desiredCount?: number;
}

/** A blue/green deployment in progress: `share` of each variant's traffic goes to the new fleet. */
export interface BlueGreen {
  newConfig: EndpointConfig;
  share: number;
  alarms: string[];
  retain: boolean;
}

export interface Endpoint {
  name: string;
  arn: string;
  region: string;
  configName: string;
  status:
    | 'Creating'
    | 'Updating'
    | 'InService'
    | 'Failed'
    | 'Deleting'
    | 'SystemUpdating'
    | 'OutOfService'
    | 'RollingBack'
    | 'UpdateRollbackFailed';
  variants: Variant[];
  /** Variants that get copies of production requests and answer nobody. */
  shadowVariants?: Variant[];
  creationTime: number;
  lastModifiedTime: number;
  failureReason?: string;
  pending?: { configName: string; startTime: number; variants: Variant[] };
  blueGreen?: BlueGreen;
  lastDeploymentConfig?: Json;
  timer?: number;
}

export interface ModelBehaviour {
  errorRate: number;
  latencyMs: number;
  response: string;
  failDeploy: boolean;
  /** A rolling update to this model fails and so does SageMaker's automatic rollback (UpdateRollbackFailed). */
  failRollback: boolean;
  /** URL of a real model server (`sim.container`, or the image's URL in the container options). */
  container?: string;
}

const UPPER_SNAKE: Record<Endpoint['status'], string> = {
  Creating: 'CREATING',
  Updating: 'UPDATING',
  InService: 'IN_SERVICE',
  Failed: 'FAILED',
  Deleting: 'DELETING',
  SystemUpdating: 'SYSTEM_UPDATING',
  OutOfService: 'OUT_OF_SERVICE',
  RollingBack: 'ROLLING_BACK',
  UpdateRollbackFailed: 'UPDATE_ROLLBACK_FAILED',
};

/**
 * Statuses in which an endpoint answers requests (API_DescribeEndpoint.html): OutOfService "is not
 * available to take incoming requests"; maintenance (SystemUpdating) changes nothing a customer set;
 * UpdateRollbackFailed is "in service with a mix of the old and new endpoint configurations".
 */
export const SERVING_STATUSES: ReadonlySet<Endpoint['status']> = new Set([
  'InService',
  'Updating',
  'SystemUpdating',
  'RollingBack',
  'UpdateRollbackFailed',
]);

/** Where CreateModel finds the model packages it names. */
export type PackageSource = Pick<ModelRegistry, 'find' | 'require'>;

/** What the endpoints need to know of Application Auto Scaling (which is built on them). */
export interface ScalingTargets {
  isScaled(endpointName: string, variantName: string): boolean;
  forgetEndpoint(endpointName: string): void;
}

export class SageMakerEndpoints {
  /** Set once Application Auto Scaling exists. */
  scaling: ScalingTargets | undefined;
  readonly models = new Map<string, Model>();
  readonly configs = new Map<string, EndpointConfig>();
  readonly endpoints = new Map<string, Endpoint>();
  /**
   * The simulated behaviour (`sim.*` keys) of a model made from an image (outside the registry's
   * region a model names images, not its package, so the package's metadata does not reach it).
   */
  readonly imageBehaviour = new Map<string, Record<string, string>>();

  constructor(
    private readonly core: Core,
    private readonly registry: PackageSource,
    private readonly timings: Timings,
    private readonly alarmState: (name: string) => string | undefined,
    readonly containerOptions: ContainerOptions,
    private readonly place: Place,
  ) {}

  /** Variant that failed its container's ping when its config was last deployed, by config name. */
  private readonly pingFailures = new Map<string, string | undefined>();

  /** Pings the real containers of a config's variants before an endpoint is created or updated on it. */
  private async checkContainers(input: Json): Promise<void> {
    const cfg =
      typeof input.EndpointConfigName === 'string' ? this.configs.get(input.EndpointConfigName) : undefined;
    if (!cfg) return;
    const variants = [...cfg.variants, ...(cfg.shadowVariants ?? [])];
    this.pingFailures.set(
      cfg.name,
      await failedPing(
        variants.map((v) => ({ name: v.VariantName, url: this.behaviourOf(v.ModelName).container })),
        this.containerOptions,
      ),
    );
  }

  operations(): Record<string, (input: Json, ctx: RequestContext) => unknown> {
    return {
      CreateModel: (i) => this.createModel(i),
      DescribeModel: (i) => this.describeModel(this.requireModel(requireString(i, 'ModelName'))),
      DeleteModel: (i) => {
        const m = this.requireModel(requireString(i, 'ModelName'));
        this.models.delete(m.name);
        return {};
      },
      ListModels: (i) => this.listModels(i),
      CreateEndpointConfig: (i, c) => this.createConfig(i, c),
      DescribeEndpointConfig: (i) =>
        this.describeConfig(this.requireConfig(requireString(i, 'EndpointConfigName'))),
      DeleteEndpointConfig: (i) => {
        const cfg = this.requireConfig(requireString(i, 'EndpointConfigName'));
        this.configs.delete(cfg.name);
        return {};
      },
      CreateEndpoint: async (i, c) => {
        await this.checkContainers(i);
        return this.createEndpoint(i, c);
      },
      DescribeEndpoint: (i) => this.describeEndpoint(this.requireEndpoint(requireString(i, 'EndpointName'))),
      UpdateEndpoint: async (i) => {
        await this.checkContainers(i);
        return this.updateEndpoint(i);
      },
      UpdateEndpointWeightsAndCapacities: (i) => this.updateWeights(i),
      DeleteEndpoint: (i) => this.deleteEndpoint(i),
      ListEndpoints: (i) => this.listEndpoints(i),
      AddTags: (i) => this.addTags(i),
      ListTags: (i) => this.listTags(i),
      DeleteTags: (i) => this.deleteTags(i),
    };
  }

  // ---- models -------------------------------------------------------------------------------------------

  private requireModel(name: string): Model {
    const m = this.models.get(name);
    if (!m) throw validation(`Could not find model "${sageMakerArn(this.place, 'model', name)}".`);
    return m;
  }

  private createModel(input: Json): unknown {
    const name = requireString(input, 'ModelName');
    checkModelName(name);
    const tags = checkTags(input.Tags);
    const arn = sageMakerArn(this.place, 'model', name);
    if (this.models.has(name)) throw validation(`Cannot create already existing model "${arn}".`);
    const containers = (
      Array.isArray(input.Containers)
        ? input.Containers
        : input.PrimaryContainer
          ? [input.PrimaryContainer]
          : []
    ) as Json[];
    if (containers.length === 0) throw validation('Either PrimaryContainer or Containers must be specified.');
    for (const c of containers) {
      if (typeof c.ModelPackageName === 'string') this.registry.require(c.ModelPackageName);
      else if (typeof c.Image !== 'string')
        throw validation('A container must specify Image or ModelPackageName.');
    }
    this.models.set(name, {
      name,
      arn,
      containers: structuredClone(containers),
      creationTime: this.core.clock.now(),
      ...(typeof input.ExecutionRoleArn === 'string' ? { executionRoleArn: input.ExecutionRoleArn } : {}),
    });
    this.core.tags.set(arn, tags);
    return { ModelArn: arn };
  }

  private describeModel(m: Model): unknown {
    const [first] = m.containers;
    return {
      ModelName: m.name,
      ModelArn: m.arn,
      ExecutionRoleArn: m.executionRoleArn,
      CreationTime: epochSeconds(m.creationTime),
      ...(m.containers.length === 1 ? { PrimaryContainer: first } : { Containers: m.containers }),
    };
  }

  private listModels(input: Json): unknown {
    const filter = typeof input.NameContains === 'string' ? input.NameContains.toLowerCase() : '';
    const all = [...this.models.values()].filter((m) => m.name.toLowerCase().includes(filter));
    sortBy(
      all,
      input.SortBy === 'Name' ? (m) => m.name : (m) => m.creationTime,
      input.SortOrder !== 'Ascending',
    );
    const { page, next } = paginate(all, input.MaxResults, input.NextToken);
    return {
      Models: page.map((m) => ({
        ModelName: m.name,
        ModelArn: m.arn,
        CreationTime: epochSeconds(m.creationTime),
      })),
      NextToken: next,
    };
  }

  /**
   * Behaviour of a model for the simulation: its package's `sim.*` metadata (or its image's, see
   * `imageBehaviour`), overridden by the model's `sim.*` tags.
   */
  behaviourOf(modelName: string): ModelBehaviour {
    const props: Record<string, string> = {};
    const model = this.models.get(modelName);
    for (const c of model?.containers ?? []) {
      if (typeof c.ModelPackageName === 'string') {
        Object.assign(props, this.registry.find(c.ModelPackageName)?.customerMetadata ?? {});
      }
      if (typeof c.Image === 'string') Object.assign(props, this.imageBehaviour.get(c.Image) ?? {});
    }
    for (const t of model ? (this.core.tags.get(model.arn) ?? []) : []) props[t.Key] = t.Value;
    const num = (v: string | undefined, d: number) =>
      v !== undefined && Number.isFinite(Number(v)) ? Number(v) : d;
    return {
      errorRate: Math.min(1, Math.max(0, num(props['sim.errorRate'], 0))),
      latencyMs: num(props['sim.latencyMs'], 20),
      // base64: customer metadata and tag values cannot hold JSON's braces, quotes or commas
      response: props['sim.responseBase64']
        ? Buffer.from(props['sim.responseBase64'], 'base64').toString('utf8')
        : '{"predictions":[0.5]}',
      failDeploy: props['sim.failDeploy'] === 'true',
      failRollback: props['sim.failRollback'] === 'true',
      container: props['sim.container'] ?? this.containerOptions.images?.[this.imageOf(modelName) ?? ''],
    };
  }

  private imageOf(modelName: string): string | undefined {
    const c = this.models.get(modelName)?.containers[0];
    if (!c) return undefined;
    if (typeof c.Image === 'string') return c.Image;
    if (typeof c.ModelPackageName === 'string') {
      const spec = this.registry.find(c.ModelPackageName)?.inferenceSpecification;
      const containers = spec?.Containers as Json[] | undefined;
      const image = containers?.[0]?.Image;
      return typeof image === 'string' ? image : undefined;
    }
    return undefined;
  }

  // ---- endpoint configs ---------------------------------------------------------------------------------

  private requireConfig(name: string): EndpointConfig {
    const cfg = this.configs.get(name);
    if (!cfg)
      throw validation(
        `Could not find endpoint configuration "${sageMakerArn(this.place, 'endpoint-config', name)}".`,
      );
    return cfg;
  }

  private createConfig(input: Json, ctx: RequestContext): unknown {
    const name = requireString(input, 'EndpointConfigName');
    checkName(name, 'endpointConfigName');
    const arn = sageMakerArn(this.place, 'endpoint-config', name);
    if (this.configs.has(name))
      throw validation(`Cannot create already existing endpoint configuration "${arn}".`);
    const variants = (
      Array.isArray(input.ProductionVariants) ? input.ProductionVariants : []
    ) as ConfigVariant[];
    if (variants.length < 1 || variants.length > 10) {
      throw validation(
        "1 validation error detected: Value at 'productionVariants' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    const shadowVariants = shadowVariantsOf(input, variants);
    const seen = new Set<string>();
    for (const v of [...variants, ...shadowVariants]) {
      checkName(v.VariantName, 'productionVariants.member.variantName');
      if (seen.has(v.VariantName))
        throw validation(`Variant name "${v.VariantName}" is used more than once.`);
      seen.add(v.VariantName);
      this.requireModel(v.ModelName);
      if (!v.ServerlessConfig && (v.InitialInstanceCount === undefined || v.InstanceType === undefined)) {
        throw validation(
          `Production variant "${v.VariantName}" must specify InstanceType and InitialInstanceCount, or ServerlessConfig.`,
        );
      }
      if (v.InitialVariantWeight !== undefined && v.InitialVariantWeight < 0) {
        throw validation(`InitialVariantWeight of variant "${v.VariantName}" must be at least 0.`);
      }
    }
    this.configs.set(name, {
      name,
      arn,
      variants: structuredClone(variants),
      ...(shadowVariants.length > 0 ? { shadowVariants: structuredClone(shadowVariants) } : {}),
      creationTime: this.core.clock.now(),
      raw: structuredClone(input),
    });
    this.core.tags.set(arn, Array.isArray(input.Tags) ? (input.Tags as Tag[]) : []);
    this.core.changes.record({
      kind: 'config',
      region: ctx.region,
      name,
      variants: this.recordOf(this.variantsFrom(this.configs.get(name)!)),
    });
    return { EndpointConfigArn: arn };
  }

  private describeConfig(cfg: EndpointConfig): unknown {
    return {
      EndpointConfigName: cfg.name,
      EndpointConfigArn: cfg.arn,
      ProductionVariants: cfg.variants.map((v) => ({
        ...v,
        InitialVariantWeight: v.InitialVariantWeight ?? 1,
      })),
      ShadowProductionVariants: cfg.shadowVariants?.map((v) => ({
        ...v,
        InitialVariantWeight: v.InitialVariantWeight ?? 1,
      })),
      DataCaptureConfig: cfg.raw.DataCaptureConfig,
      KmsKeyId: cfg.raw.KmsKeyId,
      AsyncInferenceConfig: cfg.raw.AsyncInferenceConfig,
      CreationTime: epochSeconds(cfg.creationTime),
    };
  }

  // ---- endpoints ----------------------------------------------------------------------------------------

  requireEndpoint(name: string): Endpoint {
    const ep = this.endpoints.get(name);
    if (!ep) throw validation(`Could not find endpoint "${sageMakerArn(this.place, 'endpoint', name)}".`);
    return ep;
  }

  private requireInService(ep: Endpoint): void {
    if (ep.status !== 'InService') throw validation(`Cannot update in-progress endpoint "${ep.arn}".`);
  }

  private variantsFrom(cfg: EndpointConfig, shadow = false): Variant[] {
    return (shadow ? (cfg.shadowVariants ?? []) : cfg.variants).map((v) => {
      const weight = v.InitialVariantWeight ?? 1;
      const variant: Variant = {
        name: v.VariantName,
        modelName: v.ModelName,
        currentWeight: weight,
        desiredWeight: weight,
      };
      if (v.InstanceType) variant.instanceType = v.InstanceType;
      if (v.ServerlessConfig) variant.serverless = structuredClone(v.ServerlessConfig);
      else {
        variant.currentCount = v.InitialInstanceCount ?? 1;
        variant.desiredCount = v.InitialInstanceCount ?? 1;
      }
      return variant;
    });
  }

  private failingVariant(cfg: EndpointConfig): string | undefined {
    return (
      cfg.variants.find((v) => this.behaviourOf(v.ModelName).failDeploy)?.VariantName ??
      this.pingFailures.get(cfg.name)
    );
  }

  private createEndpoint(input: Json, ctx: RequestContext): unknown {
    const name = requireString(input, 'EndpointName');
    checkName(name, 'endpointName');
    const arn = sageMakerArn(this.place, 'endpoint', name);
    // names are case-insensitive in CreateEndpoint (the case is kept), API_CreateEndpoint.html
    if ([...this.endpoints.keys()].some((existing) => existing.toLowerCase() === name.toLowerCase()))
      throw validation(`Cannot create already existing endpoint "${arn}".`);
    const cfg = this.requireConfig(requireString(input, 'EndpointConfigName'));
    const now = this.core.clock.now();
    if (now - cfg.creationTime < (this.timings.configVisibleMs ?? 0)) {
      throw validation(
        `Could not find endpoint configuration "${sageMakerArn(this.place, 'endpoint-config', cfg.name)}".`,
      );
    }
    const variants = this.variantsFrom(cfg);
    const ep: Endpoint = {
      name,
      arn,
      region: ctx.region,
      configName: cfg.name,
      status: 'Creating',
      variants,
      ...(cfg.shadowVariants ? { shadowVariants: this.variantsFrom(cfg, true) } : {}),
      creationTime: now,
      lastModifiedTime: now,
      pending: { configName: cfg.name, startTime: now, variants },
    };
    this.endpoints.set(name, ep);
    this.core.tags.set(arn, Array.isArray(input.Tags) ? (input.Tags as Tag[]) : []);
    this.emit(ep);
    ep.timer = this.core.timers.after(this.timings.createMs, `create ${name}`, () => {
      if (this.endpoints.get(name) !== ep) return;
      ep.timer = undefined;
      delete ep.pending;
      const failing = this.failingVariant(cfg);
      if (failing) {
        ep.failureReason = healthCheckFailure(failing);
        this.transition(ep, 'Failed');
      } else {
        this.transition(ep, 'InService');
      }
    });
    return { EndpointArn: arn };
  }

  private updateEndpoint(input: Json): unknown {
    const ep = this.requireEndpoint(requireString(input, 'EndpointName'));
    this.requireInService(ep);
    const cfg = this.requireConfig(requireString(input, 'EndpointConfigName'));
    // SageMaker DG "Update endpoints that use auto scaling": removing a variant that is a scalable
    // target fails; deregister it first (the exact error text is not documented)
    const kept = new Set(cfg.variants.map((v) => v.VariantName));
    const scaled = ep.variants.find((v) => !kept.has(v.name) && this.scaling?.isScaled(ep.name, v.name));
    if (scaled) {
      throw validation(
        `The variant ${scaled.name} of endpoint ${ep.name} is registered as a scalable target with Application Auto Scaling; deregister it before an update that removes it.`,
      );
    }
    const retain = input.RetainAllVariantProperties === true;
    const excluded = new Set(
      ((input.ExcludeRetainedVariantProperties ?? []) as Array<{ VariantPropertyType?: string }>).map(
        (e) => e.VariantPropertyType,
      ),
    );
    const deploymentConfig = input.DeploymentConfig as Json | undefined;
    const start = this.core.clock.now();
    ep.pending = { configName: cfg.name, startTime: start, variants: this.variantsFrom(cfg) };
    ep.status = 'Updating';
    ep.lastModifiedTime = start;
    this.emit(ep);

    const finish = (): void => {
      ep.timer = undefined;
      delete ep.pending;
      delete ep.blueGreen;
      const previous = new Map(ep.variants.map((v) => [v.name, v]));
      ep.variants = this.variantsFrom(cfg).map((v) => {
        const old = previous.get(v.name);
        if (!retain || !old) return v;
        const kept = { ...v };
        if (!excluded.has('DesiredWeight')) {
          kept.currentWeight = old.currentWeight;
          kept.desiredWeight = old.desiredWeight;
        }
        if (
          !excluded.has('DesiredInstanceCount') &&
          old.currentCount !== undefined &&
          v.currentCount !== undefined
        ) {
          kept.currentCount = old.currentCount;
          kept.desiredCount = old.desiredCount;
        }
        return kept;
      });
      ep.configName = cfg.name;
      if (cfg.shadowVariants) ep.shadowVariants = this.variantsFrom(cfg, true);
      else delete ep.shadowVariants;
      delete ep.failureReason;
      if (deploymentConfig) ep.lastDeploymentConfig = deploymentConfig;
      this.transition(ep, 'InService');
    };
    const rollBack = (reason: string): void => {
      ep.timer = undefined;
      delete ep.pending;
      delete ep.blueGreen;
      ep.failureReason = reason;
      if (deploymentConfig) ep.lastDeploymentConfig = deploymentConfig;
      this.transition(ep, 'InService');
    };

    // "Both the rolling deployment and auto-rollback failed. Your endpoint is in service with a mix
    // of the old and new endpoint configurations" (API_DescribeEndpoint.html, EndpointStatus)
    const rollbackFailed = (reason: string): void => {
      ep.timer = undefined;
      const old = new Set(ep.variants.map((v) => v.name));
      ep.variants = [...ep.variants, ...this.variantsFrom(cfg).filter((v) => !old.has(v.name))];
      delete ep.pending;
      ep.failureReason = `${reason} The automatic rollback failed too.`;
      if (deploymentConfig) ep.lastDeploymentConfig = deploymentConfig;
      this.transition(ep, 'UpdateRollbackFailed');
    };
    const policy = (deploymentConfig?.BlueGreenUpdatePolicy ?? undefined) as Json | undefined;
    const rolling = (deploymentConfig?.RollingUpdatePolicy ?? undefined) as Json | undefined;
    const alarms = (
      ((deploymentConfig?.AutoRollbackConfiguration as Json | undefined)?.Alarms ?? []) as Array<{
        AlarmName: string;
      }>
    ).map((a) => a.AlarmName);

    ep.timer = this.core.timers.after(this.timings.updateMs, `update ${ep.name}`, () => {
      if (this.endpoints.get(ep.name) !== ep) return;
      const failing = this.failingVariant(cfg);
      if (failing && rolling && this.rollbackFails(cfg)) {
        rollbackFailed(healthCheckFailure(failing));
        return;
      }
      if (failing) {
        rollBack(healthCheckFailure(failing));
        return;
      }
      if (!policy && !rolling) {
        finish();
        return;
      }
      const steps = trafficSteps(policy, rolling, cfg);
      ep.blueGreen = { newConfig: cfg, share: 0, alarms, retain };
      const runStep = (index: number): void => {
        ep.timer = undefined;
        if (this.endpoints.get(ep.name) !== ep || !ep.blueGreen) return;
        const firing = this.firingAlarm(alarms);
        if (firing) {
          rollBack(alarmRollback(firing));
          return;
        }
        const step = steps[index];
        if (!step) {
          finish();
          return;
        }
        ep.blueGreen.share = step.share;
        this.recordChange(ep);
        ep.timer = this.core.timers.after(step.waitMs, `blue/green ${ep.name} step ${index + 1}`, () =>
          runStep(index + 1),
        );
      };
      runStep(0);
    });
    // Keep the rollback hook reachable for alarms that change mid-deployment.
    this.rollbacks.set(ep, (alarm) => rollBack(alarmRollback(alarm)));
    return { EndpointArn: ep.arn };
  }

  private readonly rollbacks = new WeakMap<Endpoint, (alarm: string) => void>();

  private firingAlarm(alarms: string[]): string | undefined {
    return alarms.find((a) => this.alarmState(a) === 'ALARM');
  }

  /** Called when an alarm changes state: a blue/green deployment watching it rolls back at once. */
  onAlarmChange(name: string, state: string): void {
    if (state !== 'ALARM') return;
    for (const ep of this.endpoints.values()) {
      if (ep.status === 'Updating' && ep.blueGreen?.alarms.includes(name)) {
        this.core.timers.cancel(ep.timer);
        this.rollbacks.get(ep)?.(name);
      }
    }
  }

  private updateWeights(input: Json): unknown {
    const ep = this.requireEndpoint(requireString(input, 'EndpointName'));
    this.requireInService(ep);
    const changes = (
      Array.isArray(input.DesiredWeightsAndCapacities) ? input.DesiredWeightsAndCapacities : []
    ) as Array<{
      VariantName: string;
      DesiredWeight?: number;
      DesiredInstanceCount?: number;
      ServerlessUpdateConfig?: Json;
    }>;
    if (changes.length === 0) {
      throw validation(
        "1 validation error detected: Value '[]' at 'desiredWeightsAndCapacities' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    const unknown = changes
      .filter((c) => !ep.variants.some((v) => v.name === c.VariantName))
      .map((c) => c.VariantName);
    if (unknown.length > 0) {
      throw validation(
        `The variant(s) "[${unknown.join(', ')}]" is/are not present in the endpoint "${ep.arn}".`,
      );
    }
    const weightAfter = (v: Variant) =>
      changes.find((c) => c.VariantName === v.name)?.DesiredWeight ?? v.desiredWeight;
    if (changes.some((c) => c.DesiredWeight !== undefined && c.DesiredWeight < 0)) {
      throw validation('DesiredWeight must be greater than or equal to 0.');
    }
    if (ep.variants.every((v) => weightAfter(v) === 0)) {
      throw validation(
        `The sum of the weights of all variants of endpoint "${ep.arn}" must be greater than 0.`,
      );
    }
    for (const c of changes) {
      const v = ep.variants.find((x) => x.name === c.VariantName)!;
      if (c.DesiredWeight !== undefined) v.desiredWeight = c.DesiredWeight;
      if (c.DesiredInstanceCount !== undefined) {
        if (v.serverless) throw validation(`Variant "${v.name}" is serverless and has no instance count.`);
        v.desiredCount = c.DesiredInstanceCount;
      }
      if (c.ServerlessUpdateConfig && v.serverless) Object.assign(v.serverless, c.ServerlessUpdateConfig);
    }
    this.transition(ep, 'Updating');
    const failure = this.weightFailures.get(ep.name);
    this.weightFailures.delete(ep.name);
    ep.timer = this.core.timers.after(this.timings.weightsMs, `weights ${ep.name}`, () => {
      if (this.endpoints.get(ep.name) !== ep) return;
      ep.timer = undefined;
      if (failure) return this.rollBackWeights(ep, failure);
      for (const v of ep.variants) {
        v.currentWeight = v.desiredWeight;
        if (v.desiredCount !== undefined) v.currentCount = v.desiredCount;
      }
      delete ep.failureReason;
      this.transition(ep, 'InService');
    });
    return { EndpointArn: ep.arn };
  }

  private deleteEndpoint(input: Json): unknown {
    const ep = this.requireEndpoint(requireString(input, 'EndpointName'));
    if (ep.status !== 'InService' && ep.status !== 'Failed') {
      throw validation(`Cannot update in-progress endpoint "${ep.arn}".`);
    }
    this.core.timers.cancel(ep.timer);
    delete ep.pending;
    delete ep.blueGreen;
    // Application Auto Scaling deregisters the variants of a deleted endpoint without notice
    this.scaling?.forgetEndpoint(ep.name);
    this.transition(ep, 'Deleting');
    const gone = () => {
      if (this.endpoints.get(ep.name) !== ep) return;
      this.endpoints.delete(ep.name);
      this.core.changes.record({
        kind: 'endpoint',
        region: ep.region,
        endpoint: ep.name,
        status: 'Deleted',
        configName: ep.configName,
        variants: [],
      });
    };
    const ms = this.timings.deleteMs ?? 0;
    if (ms > 0) ep.timer = this.core.timers.after(ms, `delete ${ep.name}`, gone);
    else gone();
    return {};
  }

  // ---- states SageMaker puts an endpoint in on its own (for scenarios and tests) ------------------------

  private readonly weightFailures = new Map<string, string>();

  /**
   * SageMaker maintenance: for `ms` the endpoint is SystemUpdating; it "cannot be updated or deleted
   * or re-scaled until it has completed" and goes on serving (API_DescribeEndpoint.html).
   */
  systemUpdate(name: string, ms: number): void {
    this.holdIn(name, 'SystemUpdating', ms);
  }

  /** For `ms` the endpoint is OutOfService: "not available to take incoming requests". */
  outOfService(name: string, ms: number): void {
    this.holdIn(name, 'OutOfService', ms);
  }

  /**
   * The next UpdateEndpointWeightsAndCapacities of this endpoint fails: it is RollingBack to its
   * previous weights and capacities, then InService with the reason (the documented case is an
   * autoscaled endpoint that fails to scale or change a weight).
   */
  failNextWeightChange(name: string, reason: string): void {
    this.weightFailures.set(name, reason);
  }

  private holdIn(name: string, status: 'SystemUpdating' | 'OutOfService', ms: number): void {
    const ep = this.endpoints.get(name);
    if (ep?.status !== 'InService') throw new Error(`endpoint ${name} is not InService`);
    this.transition(ep, status);
    ep.timer = this.core.timers.after(ms, `${status} ${name}`, () => {
      if (this.endpoints.get(name) !== ep) return;
      ep.timer = undefined;
      this.transition(ep, 'InService');
    });
  }

  private rollBackWeights(ep: Endpoint, reason: string): void {
    this.transition(ep, 'RollingBack');
    ep.timer = this.core.timers.after(this.timings.weightsMs, `rollback ${ep.name}`, () => {
      if (this.endpoints.get(ep.name) !== ep) return;
      ep.timer = undefined;
      for (const v of ep.variants) {
        v.desiredWeight = v.currentWeight;
        if (v.currentCount !== undefined) v.desiredCount = v.currentCount;
      }
      ep.failureReason = reason;
      this.transition(ep, 'InService');
    });
  }

  private rollbackFails(cfg: EndpointConfig): boolean {
    return cfg.variants.some((v) => this.behaviourOf(v.ModelName).failRollback);
  }

  private listEndpoints(input: Json): unknown {
    const filter = typeof input.NameContains === 'string' ? input.NameContains.toLowerCase() : '';
    const all = [...this.endpoints.values()].filter(
      (e) =>
        e.name.toLowerCase().includes(filter) &&
        (typeof input.StatusEquals !== 'string' || e.status === input.StatusEquals),
    );
    const key =
      input.SortBy === 'Name'
        ? (e: Endpoint) => e.name
        : input.SortBy === 'Status'
          ? (e: Endpoint) => e.status
          : (e: Endpoint) => e.creationTime;
    sortBy(all, key, input.SortOrder !== 'Ascending');
    const { page, next } = paginate(all, input.MaxResults, input.NextToken);
    return {
      Endpoints: page.map((e) => ({
        EndpointName: e.name,
        EndpointArn: e.arn,
        CreationTime: epochSeconds(e.creationTime),
        LastModifiedTime: epochSeconds(e.lastModifiedTime),
        EndpointStatus: e.status,
      })),
      NextToken: next,
    };
  }

  private describeVariant(v: Variant): Json {
    const image = this.imageOf(v.modelName);
    const out: Json = {
      VariantName: v.name,
      DeployedImages: image ? [{ SpecifiedImage: image, ResolvedImage: image }] : [],
      CurrentWeight: v.currentWeight,
      DesiredWeight: v.desiredWeight,
    };
    if (v.serverless) {
      out.CurrentServerlessConfig = v.serverless;
      out.DesiredServerlessConfig = v.serverless;
    } else {
      out.CurrentInstanceCount = v.currentCount;
      out.DesiredInstanceCount = v.desiredCount;
    }
    return out;
  }

  describeEndpoint(ep: Endpoint): Json {
    return {
      EndpointName: ep.name,
      EndpointArn: ep.arn,
      EndpointConfigName: ep.configName,
      ProductionVariants: ep.variants.map((v) => this.describeVariant(v)),
      ShadowProductionVariants: ep.shadowVariants?.map((v) => this.describeVariant(v)),
      EndpointStatus: ep.status,
      FailureReason: ep.failureReason,
      CreationTime: epochSeconds(ep.creationTime),
      LastModifiedTime: epochSeconds(ep.lastModifiedTime),
      LastDeploymentConfig: ep.lastDeploymentConfig,
      PendingDeploymentSummary: ep.pending
        ? {
            EndpointConfigName: ep.pending.configName,
            StartTime: epochSeconds(ep.pending.startTime),
            ProductionVariants: ep.pending.variants.map((v) => ({
              VariantName: v.name,
              DesiredWeight: v.desiredWeight,
              ...(v.serverless
                ? { DesiredServerlessConfig: v.serverless }
                : { DesiredInstanceCount: v.desiredCount }),
              InstanceType: v.instanceType,
            })),
            ShadowProductionVariants: this.configs
              .get(ep.pending.configName)
              ?.shadowVariants?.map((v) => ({ VariantName: v.VariantName, InstanceType: v.InstanceType })),
          }
        : undefined,
    };
  }

  private transition(ep: Endpoint, status: Endpoint['status']): void {
    ep.status = status;
    ep.lastModifiedTime = this.core.clock.now();
    this.emit(ep);
  }

  /** The package each variant's model came from, and its weights, for the change log. */
  private recordOf(variants: Variant[]): VariantRecord[] {
    return variants.map((v) => {
      const containers = this.models.get(v.modelName)?.containers ?? [];
      const packageArn = containers.find((c) => typeof c.ModelPackageName === 'string')?.ModelPackageName as
        | string
        | undefined;
      const images = containers.flatMap((c) => (typeof c.Image === 'string' ? [c.Image] : []));
      return {
        name: v.name,
        modelName: v.modelName,
        packageArn,
        ...(packageArn === undefined && images.length > 0 ? { images } : {}),
        currentWeight: v.currentWeight,
        desiredWeight: v.desiredWeight,
      };
    });
  }

  private recordChange(ep: Endpoint): void {
    this.core.changes.record({
      kind: 'endpoint',
      region: ep.region,
      endpoint: ep.name,
      status: ep.status,
      configName: ep.configName,
      variants: this.recordOf(ep.variants),
      pending: ep.pending
        ? { configName: ep.pending.configName, variants: this.recordOf(ep.pending.variants) }
        : undefined,
      blueGreenShare: ep.blueGreen?.share,
    });
  }

  private emit(ep: Endpoint): void {
    this.recordChange(ep);
    const tags = Object.fromEntries((this.core.tags.get(ep.arn) ?? []).map((t) => [t.Key, t.Value]));
    const detail: Json = {
      EndpointName: ep.name,
      EndpointArn: ep.arn,
      EndpointConfigName: ep.configName,
      ProductionVariants: ep.variants.map((v) => ({
        DesiredWeight: v.desiredWeight,
        DesiredInstanceCount: v.desiredCount ?? 0,
      })),
      EndpointStatus: UPPER_SNAKE[ep.status],
      CreationTime: ep.creationTime,
      LastModifiedTime: ep.lastModifiedTime,
      Tags: tags,
    };
    if (ep.failureReason && (ep.status === 'Failed' || ep.status === 'InService'))
      detail.FailureReason = ep.failureReason;
    emitSageMakerEvent(this.core, this.place, 'SageMaker Endpoint State Change', ep.arn, detail, {
      mayDuplicate: true,
    });
  }

  // ---- tags ---------------------------------------------------------------------------------------------

  private requireTaggable(arn: string): Tag[] {
    const tags = this.core.tags.get(arn);
    if (!tags) throw validation(`Resource ${arn} does not exist or is not taggable.`);
    return tags;
  }

  private addTags(input: Json): unknown {
    const arn = requireString(input, 'ResourceArn');
    const tags = this.requireTaggable(arn);
    for (const t of (input.Tags ?? []) as Tag[]) {
      const existing = tags.find((x) => x.Key === t.Key);
      if (existing) existing.Value = t.Value;
      else tags.push({ Key: t.Key, Value: t.Value });
    }
    return { Tags: tags };
  }

  private listTags(input: Json): unknown {
    const tags = this.requireTaggable(requireString(input, 'ResourceArn'));
    const { page, next } = paginate(tags, input.MaxResults, input.NextToken);
    return { Tags: page, NextToken: next };
  }

  private deleteTags(input: Json): unknown {
    const arn = requireString(input, 'ResourceArn');
    const keys = new Set((input.TagKeys ?? []) as string[]);
    this.core.tags.set(
      arn,
      this.requireTaggable(arn).filter((t) => !keys.has(t.Key)),
    );
    return {};
  }
}

function sortBy<T>(items: T[], key: (t: T) => string | number, descending: boolean): void {
  items.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const order = ka < kb ? -1 : ka > kb ? 1 : 0;
    return descending ? -order : order;
  });
}

const healthCheckFailure = (variant: string): string =>
  `The primary container for production variant ${variant} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`;

const alarmRollback = (alarm: string): string =>
  `Deployment was rolled back because the alarm ${alarm} went into the ALARM state.`;

/** Traffic steps of a blue/green (or rolling) update: the new fleet's share, held for waitMs. */
function trafficSteps(
  policy: Json | undefined,
  rolling: Json | undefined,
  cfg: EndpointConfig,
): Array<{ share: number; waitMs: number }> {
  if (rolling) {
    const step = capacityShare(rolling.MaximumBatchSize as Json | undefined, cfg, 1);
    const waitMs = Number(rolling.WaitIntervalInSeconds ?? 0) * 1000;
    return linear(step, waitMs, 0);
  }
  const routing = (policy?.TrafficRoutingConfiguration ?? {
    Type: 'ALL_AT_ONCE',
    WaitIntervalInSeconds: 0,
  }) as Json;
  const waitMs = Number(routing.WaitIntervalInSeconds ?? 0) * 1000;
  const bakeMs = Number(policy?.TerminationWaitInSeconds ?? 0) * 1000;
  switch (routing.Type) {
    case 'CANARY':
      return [
        { share: capacityShare(routing.CanarySize as Json | undefined, cfg, 0.1), waitMs },
        { share: 1, waitMs: bakeMs },
      ];
    case 'LINEAR':
      return linear(capacityShare(routing.LinearStepSize as Json | undefined, cfg, 0.1), waitMs, bakeMs);
    default:
      return [{ share: 1, waitMs: bakeMs }];
  }
}

function linear(step: number, waitMs: number, bakeMs: number): Array<{ share: number; waitMs: number }> {
  const steps: Array<{ share: number; waitMs: number }> = [];
  for (let share = step; share < 1 - 1e-9; share += step) steps.push({ share, waitMs });
  steps.push({ share: 1, waitMs: bakeMs });
  return steps;
}

function capacityShare(size: Json | undefined, cfg: EndpointConfig, fallback: number): number {
  if (!size) return fallback;
  const value = Number(size.Value ?? 0);
  if (size.Type === 'CAPACITY_PERCENT') return Math.min(1, Math.max(0.01, value / 100));
  const fleet = cfg.variants.reduce((n, v) => n + (v.InitialInstanceCount ?? 1), 0);
  return Math.min(1, Math.max(0.01, value / Math.max(1, fleet)));
}
