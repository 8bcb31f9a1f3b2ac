import { requestListSchema, toleranceSchema } from '../domain/request-set';
import * as z from '../zod';

/**
 * Shadow phase before the canary steps: the candidate runs as a SageMaker shadow variant, gets
 * `samplingPercent` of production requests as copies (its answers go nowhere) and is judged by the
 * canary gates against the production variant for `bakeMinutes`.
 */
export const shadowSchema = z.strictObject({
  samplingPercent: z.int().check(z.minimum(1), z.maximum(100)),
  bakeMinutes: z.number().check(z.minimum(1), z.maximum(7 * 24 * 60)),
});

/**
 * Pre-traffic check in prod: once the endpoint holding baseline and candidate (at weight 0) is
 * InService, requests go to the candidate with TargetVariant; a failure ends the deployment before
 * any user reached the candidate. The requests are inline or in a JSON request-set file (path
 * relative to the configuration file).
 */
export const preTrafficSchema = z
  .strictObject({
    requests: z.optional(requestListSchema),
    requestSetFile: z.optional(
      z.string().check(z.regex(/^[^/].*\.json$/, 'must be a relative path to a .json request-set file')),
    ),
    compareWithBaseline: z.optional(toleranceSchema),
  })
  .check(
    z.refine(
      (p) => (p.requests === undefined) !== (p.requestSetFile === undefined),
      'give either requests or requestSetFile',
    ),
  );

export type ShadowConfig = z.output<typeof shadowSchema>;
export type PreTrafficConfig = z.output<typeof preTrafficSchema>;
