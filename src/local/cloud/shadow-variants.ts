import { validation } from './protocol';
import type { ConfigVariant, Endpoint, Variant } from './sagemaker-endpoints';

type Json = Record<string, unknown>;

/**
 * `CreateEndpointConfig.ShadowProductionVariants`: "If you use this field, you can only specify one
 * variant for ProductionVariants and one variant for ShadowProductionVariants" (SageMaker API
 * reference); shadow tests exclude serverless endpoints (SageMaker developer guide, "Shadow tests
 * exclusions"). The wording of SageMaker's own error messages for these cases is not documented.
 */
export function shadowVariantsOf(input: Json, production: ConfigVariant[]): ConfigVariant[] {
  const raw = input.ShadowProductionVariants;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > 10) {
    throw validation(
      "1 validation error detected: Value at 'shadowProductionVariants' failed to satisfy constraint: Member must have length between 1 and 10",
    );
  }
  if (production.length !== 1 || raw.length !== 1) {
    throw validation(
      `With ShadowProductionVariants, specify exactly one production variant and one shadow variant (got ${production.length} and ${raw.length}).`,
    );
  }
  const shadows = raw as ConfigVariant[];
  const serverless = [...production, ...shadows].find((v) => v.ServerlessConfig);
  if (serverless) {
    throw validation(
      `Shadow variants are not supported on serverless endpoints: variant "${serverless.VariantName}" has a ServerlessConfig.`,
    );
  }
  return shadows;
}

/**
 * Share of the production variant's requests copied to a shadow variant: its weight relative to the
 * production variant's, at most all of them. (SageMaker's shadow tests expose this as a sampling
 * percentage; that endpoint-config weights carry it this way is our reading, not a documented rule.)
 */
export function samplingFraction(production: Variant, shadow: Variant): number {
  if (production.currentWeight <= 0) return shadow.currentWeight > 0 ? 1 : 0;
  return Math.min(1, shadow.currentWeight / production.currentWeight);
}

/** Shadow variants that get a copy of one request served by `served`, given a uniform draw per shadow. */
export function shadowCopies(ep: Endpoint, served: Variant, draw: () => number): Variant[] {
  return (ep.shadowVariants ?? []).filter((shadow) => draw() < samplingFraction(served, shadow));
}
