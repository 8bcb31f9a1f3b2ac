import type { VariantScaling } from '../domain/autoscaling';
import type { StageTarget } from './sagemaker';

export type { ScalingPolicySpec, VariantScaling } from '../domain/autoscaling';

/**
 * Application Auto Scaling of one endpoint variant (resource `endpoint/<endpoint>/variant/<variant>`,
 * dimension `sagemaker:variant:DesiredInstanceCount`). Policies belong to the variant name, so a
 * new variant starts without them unless they are carried over.
 */
export interface VariantAutoscaling {
  /** The variant's scalable target and policies; undefined when it is not registered. */
  read(endpointName: string, variantName: string): Promise<VariantScaling | undefined>;
  /** Registers (or updates) the target, then puts each policy. Repeating it is harmless. */
  apply(endpointName: string, variantName: string, scaling: VariantScaling): Promise<void>;
  /** Deregisters the target, which deletes its policies; a target that is not there counts as done. */
  remove(endpointName: string, variantName: string): Promise<void>;
}

/** Autoscaling of one stage's variants, in whichever account the stage lives. */
export interface AutoscalingFactory {
  forStage(target: StageTarget): VariantAutoscaling;
}
