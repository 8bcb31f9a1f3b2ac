import type { Core } from './context';
import {
  ACCOUNT_ID,
  ApiError,
  epochSeconds,
  paginate,
  type RequestContext,
  requireString,
  validation,
} from './protocol';
import type { SageMakerEndpoints } from './sagemaker-endpoints';

type Json = Record<string, unknown>;

/**
 * Application Auto Scaling (AWS JSON 1.1, target prefix `AnyScaleFrontendService`) for SageMaker
 * endpoint variants: resource id `endpoint/<endpoint>/variant/<variant>`, dimension
 * `sagemaker:variant:DesiredInstanceCount`. Registering a new target needs MinCapacity and
 * MaxCapacity, both at least 1 with min <= max (SageMaker developer guide, "Register a model");
 * registering again updates only what is given and brings the variant's instance count inside the
 * range; deregistering deletes the target's policies (Application Auto Scaling API reference).
 * The policies are stored and described, not run: nothing scales on metrics locally.
 */
const NAMESPACE = 'sagemaker';
const DIMENSION = 'sagemaker:variant:DesiredInstanceCount';
const RESOURCE_ID = /^endpoint\/([^/]+)\/variant\/([^/]+)$/;
const POLICY_TYPES = ['TargetTrackingScaling', 'StepScaling', 'PredictiveScaling'];

interface ScalableTarget {
  resourceId: string;
  minCapacity: number;
  maxCapacity: number;
  suspendedState?: Json;
  creationTime: number;
  arn: string;
}

interface ScalingPolicy {
  name: string;
  resourceId: string;
  arn: string;
  policyType: string;
  config: Json;
  creationTime: number;
}

const notFound = (message: string) => new ApiError('ObjectNotFoundException', message);

export class ApplicationAutoScaling {
  readonly targets = new Map<string, ScalableTarget>();
  readonly policies = new Map<string, ScalingPolicy>();

  constructor(
    private readonly core: Core,
    private readonly endpoints: SageMakerEndpoints,
    private readonly account = ACCOUNT_ID,
  ) {}

  isScaled(endpointName: string, variantName: string): boolean {
    return this.targets.has(`endpoint/${endpointName}/variant/${variantName}`);
  }

  /** A deleted endpoint's targets and policies go with it. */
  forgetEndpoint(endpointName: string): void {
    const prefix = `endpoint/${endpointName}/variant/`;
    for (const id of [...this.targets.keys()]) if (id.startsWith(prefix)) this.targets.delete(id);
    for (const [key, policy] of [...this.policies]) {
      if (policy.resourceId.startsWith(prefix)) this.policies.delete(key);
    }
  }

  operations(): Record<string, (input: Json, ctx: RequestContext) => unknown> {
    return {
      RegisterScalableTarget: (i, c) => this.register(i, c),
      DescribeScalableTargets: (i) => this.describeTargets(i),
      DeregisterScalableTarget: (i) => this.deregister(i),
      PutScalingPolicy: (i, c) => this.putPolicy(i, c),
      DescribeScalingPolicies: (i) => this.describePolicies(i),
      DeleteScalingPolicy: (i) => this.deletePolicy(i),
    };
  }

  /** Checks namespace and dimension, returns the resource id. */
  private identify(input: Json): string {
    const namespace = requireString(input, 'ServiceNamespace');
    const resourceId = requireString(input, 'ResourceId');
    const dimension = requireString(input, 'ScalableDimension');
    if (namespace !== NAMESPACE) {
      throw validation(`Service namespace ${namespace} is not supported by the local cloud; use sagemaker.`);
    }
    if (dimension !== DIMENSION) {
      throw validation(`Unsupported scalable dimension ${dimension} for service namespace ${namespace}.`);
    }
    if (!RESOURCE_ID.test(resourceId)) {
      throw validation(
        `Unsupported resource ID ${resourceId}: a SageMaker variant is endpoint/<endpoint-name>/variant/<variant-name>.`,
      );
    }
    return resourceId;
  }

  private describeKey(resourceId: string): string {
    return `service namespace: ${NAMESPACE}, resource ID: ${resourceId}, scalable dimension: ${DIMENSION}`;
  }

  private register(input: Json, ctx: RequestContext): unknown {
    const resourceId = this.identify(input);
    const [, endpointName, variantName] = RESOURCE_ID.exec(resourceId)!;
    const ep = this.endpoints.endpoints.get(endpointName!);
    const variant = ep?.variants.find((v) => v.name === variantName);
    if (!ep || !variant) {
      throw validation(`The endpoint variant ${resourceId} does not exist.`);
    }
    if (variant.serverless) {
      throw validation(
        `Variant ${variantName} is serverless; its dimension is sagemaker:variant:DesiredProvisionedConcurrency, not ${DIMENSION}.`,
      );
    }
    const existing = this.targets.get(resourceId);
    const min = optionalInt(input, 'MinCapacity') ?? existing?.minCapacity;
    const max = optionalInt(input, 'MaxCapacity') ?? existing?.maxCapacity;
    if (min === undefined || max === undefined) {
      throw validation('MinCapacity and MaxCapacity are required when registering a new scalable target.');
    }
    if (min < 1 || max < 1)
      throw validation('MinCapacity and MaxCapacity must be at least 1 for a SageMaker variant.');
    if (min > max)
      throw validation(`Minimum capacity ${min} cannot be greater than maximum capacity ${max}.`);
    const target: ScalableTarget = existing ?? {
      resourceId,
      minCapacity: min,
      maxCapacity: max,
      creationTime: this.core.clock.now(),
      arn: `arn:aws:application-autoscaling:${ctx.region}:${this.account}:scalable-target/${this.core.rng.ids.alphanumeric(32, '0123456789abcdef')}`,
    };
    target.minCapacity = min;
    target.maxCapacity = max;
    if (input.SuspendedState && typeof input.SuspendedState === 'object') {
      target.suspendedState = structuredClone(input.SuspendedState as Json);
    }
    this.targets.set(resourceId, target);
    if (ep.status === 'InService' && variant.desiredCount !== undefined) {
      const clamped = Math.min(max, Math.max(min, variant.desiredCount));
      variant.desiredCount = clamped;
      variant.currentCount = clamped;
    }
    return { ScalableTargetARN: target.arn };
  }

  private describeTargets(input: Json): unknown {
    const namespace = requireString(input, 'ServiceNamespace');
    const ids = Array.isArray(input.ResourceIds) ? new Set(input.ResourceIds as string[]) : undefined;
    const all =
      namespace !== NAMESPACE ? [] : [...this.targets.values()].filter((t) => !ids || ids.has(t.resourceId));
    const { page, next } = paginate(all, input.MaxResults, input.NextToken);
    return {
      ScalableTargets: page.map((t) => ({
        ServiceNamespace: NAMESPACE,
        ResourceId: t.resourceId,
        ScalableDimension: DIMENSION,
        MinCapacity: t.minCapacity,
        MaxCapacity: t.maxCapacity,
        RoleARN: `arn:aws:iam::${this.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
        CreationTime: epochSeconds(t.creationTime),
        SuspendedState: t.suspendedState ?? {
          DynamicScalingInSuspended: false,
          DynamicScalingOutSuspended: false,
          ScheduledScalingSuspended: false,
        },
        ScalableTargetARN: t.arn,
      })),
      NextToken: next,
    };
  }

  private deregister(input: Json): unknown {
    const resourceId = this.identify(input);
    if (!this.targets.delete(resourceId)) {
      throw notFound(`No scalable target found for ${this.describeKey(resourceId)}`);
    }
    for (const [key, policy] of this.policies)
      if (policy.resourceId === resourceId) this.policies.delete(key);
    return {};
  }

  private putPolicy(input: Json, ctx: RequestContext): unknown {
    const resourceId = this.identify(input);
    const name = requireString(input, 'PolicyName');
    if (name.length > 256) throw validation('PolicyName must be at most 256 characters.');
    if (!this.targets.has(resourceId)) {
      throw notFound(`No scalable target registered for ${this.describeKey(resourceId)}`);
    }
    const policyType = typeof input.PolicyType === 'string' ? input.PolicyType : 'StepScaling';
    if (!POLICY_TYPES.includes(policyType)) {
      throw validation(`PolicyType must be one of ${POLICY_TYPES.join(', ')}; got ${policyType}.`);
    }
    const configKey = `${policyType}PolicyConfiguration`;
    const config = input[configKey];
    if (!config || typeof config !== 'object') {
      throw validation(`A ${policyType} policy needs ${configKey}.`);
    }
    if (policyType === 'TargetTrackingScaling' && typeof (config as Json).TargetValue !== 'number') {
      throw validation('TargetTrackingScalingPolicyConfiguration.TargetValue is required.');
    }
    const key = `${resourceId}|${name}`;
    const existing = this.policies.get(key);
    const policy: ScalingPolicy = {
      name,
      resourceId,
      policyType,
      config: structuredClone(config as Json),
      creationTime: existing?.creationTime ?? this.core.clock.now(),
      arn:
        existing?.arn ??
        `arn:aws:autoscaling:${ctx.region}:${this.account}:scalingPolicy:${this.core.rng.ids.uuid()}:resource/sagemaker/${resourceId}:policyName/${name}`,
    };
    this.policies.set(key, policy);
    return { PolicyARN: policy.arn, Alarms: [] };
  }

  private describePolicies(input: Json): unknown {
    const namespace = requireString(input, 'ServiceNamespace');
    const names = Array.isArray(input.PolicyNames) ? new Set(input.PolicyNames as string[]) : undefined;
    const resourceId = typeof input.ResourceId === 'string' ? input.ResourceId : undefined;
    const all =
      namespace !== NAMESPACE
        ? []
        : [...this.policies.values()].filter(
            (p) => (!names || names.has(p.name)) && (!resourceId || p.resourceId === resourceId),
          );
    const { page, next } = paginate(all, input.MaxResults, input.NextToken);
    return {
      ScalingPolicies: page.map((p) => ({
        PolicyARN: p.arn,
        PolicyName: p.name,
        ServiceNamespace: NAMESPACE,
        ResourceId: p.resourceId,
        ScalableDimension: DIMENSION,
        PolicyType: p.policyType,
        [`${p.policyType}PolicyConfiguration`]: p.config,
        Alarms: [],
        CreationTime: epochSeconds(p.creationTime),
      })),
      NextToken: next,
    };
  }

  private deletePolicy(input: Json): unknown {
    const resourceId = this.identify(input);
    const name = requireString(input, 'PolicyName');
    if (!this.policies.delete(`${resourceId}|${name}`)) {
      throw notFound(`No scaling policy found for ${this.describeKey(resourceId)}, policy name: ${name}`);
    }
    return {};
  }
}

function optionalInt(input: Json, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw validation(`${field} must be an integer.`);
  return value;
}
