/**
 * Autoscaling carried across versions. Each version runs as a new variant name, and Application
 * Auto Scaling keys targets and policies by variant, so the candidate gets the replaced variant's
 * settings explicitly: its minimum sized for the share of traffic it takes, the same maximum (it
 * must be able to carry everything once promoted) and the same policies.
 */
export interface VariantScaling {
  minCapacity: number;
  maxCapacity: number;
  policies: ScalingPolicySpec[];
}

export interface ScalingPolicySpec {
  name: string;
  type: 'TargetTrackingScaling' | 'StepScaling';
  /** `TargetTrackingScalingPolicyConfiguration` or `StepScalingPolicyConfiguration`, as the API holds it. */
  configuration: Record<string, unknown>;
}

export interface CarryOver {
  /** Scaling of the variant being replaced, as read before the rollout touched it. */
  baseline: VariantScaling;
  baselineVariant: string;
  candidateVariant: string;
  /** Instances the baseline runs now (its autoscaled size); defaults to its minimum. */
  baselineInstances?: number;
  /** Candidate's share of the traffic, 0..1. */
  candidateShare: number;
}

/**
 * The candidate's target and policies for a traffic share: minimum ceil(baseline instances x
 * share), at least 1 and at most the maximum; policies copied with any metric dimension naming the
 * baseline variant renamed to the candidate.
 */
export function candidateScaling(input: CarryOver): VariantScaling {
  const share = Math.min(1, Math.max(0, input.candidateShare));
  const { baseline } = input;
  const instances = Math.max(baseline.minCapacity, input.baselineInstances ?? baseline.minCapacity);
  const minCapacity = Math.min(baseline.maxCapacity, Math.max(1, Math.ceil(instances * share - 1e-9)));
  return {
    minCapacity,
    maxCapacity: baseline.maxCapacity,
    policies: baseline.policies.map((policy) => ({
      name: policy.name,
      type: policy.type,
      configuration: renameVariant(
        policy.configuration,
        input.baselineVariant,
        input.candidateVariant,
      ) as Record<string, unknown>,
    })),
  };
}

/**
 * Copy of a policy configuration where every `{Name: 'VariantName', Value: from}` dimension (in a
 * customized metric or a metric math query) names `to` instead.
 */
export function renameVariant(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((item) => renameVariant(item, from, to));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (record.Name === 'VariantName' && record.Value === from && Object.keys(record).length === 2) {
    return { Name: 'VariantName', Value: to };
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, renameVariant(v, from, to)]));
}
