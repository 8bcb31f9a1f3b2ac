import { readFile } from 'node:fs/promises';
import * as z from 'zod';

/** A logistic-regression scorer: standardise each (transformed) feature, weigh, add the bias, squash. */
const weightsSchema = z
  .strictObject({
    name: z.string().min(1),
    version: z.string().min(1),
    features: z.array(z.string().min(1)).min(1),
    mean: z.array(z.number()),
    scale: z.array(z.number().positive()),
    transforms: z.array(z.enum(['identity', 'log'])),
    coefficients: z.array(z.number()),
    bias: z.number(),
  })
  .check((ctx) => {
    const n = ctx.value.features.length;
    for (const key of ['mean', 'scale', 'transforms', 'coefficients'] as const) {
      if (ctx.value[key].length !== n) {
        ctx.issues.push({
          code: 'custom',
          input: ctx.value[key],
          path: [key],
          message: `must have one entry per feature (${n})`,
        });
      }
    }
  });

export type Weights = z.infer<typeof weightsSchema>;

export class WeightsError extends Error {
  override readonly name = 'WeightsError';
}

/** A prediction that is not a probability: the model cannot score this input. */
export class PredictionError extends Error {
  override readonly name = 'PredictionError';
}

export async function loadWeights(path: string): Promise<Weights> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new WeightsError(`cannot read weights file ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new WeightsError(`weights file ${path} is not JSON`, { cause });
  }
  const parsed = weightsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WeightsError(`weights file ${path}: ${issue?.path.join('.') || '(root)'} ${issue?.message}`);
  }
  return parsed.data;
}

const TRANSFORMS = { identity: (x: number) => x, log: Math.log };

/** Probability (0..1) for one instance; throws PredictionError when the model yields no finite score. */
export function predict(weights: Weights, instance: readonly number[]): number {
  let z = weights.bias;
  weights.features.forEach((_, i) => {
    const x = TRANSFORMS[weights.transforms[i]!](instance[i]!);
    z += (weights.coefficients[i]! * (x - weights.mean[i]!)) / weights.scale[i]!;
  });
  if (!Number.isFinite(z)) {
    throw new PredictionError(`model ${weights.name} v${weights.version} produced no finite score`);
  }
  return 1 / (1 + Math.exp(-z));
}
