import * as z from '../../zod';

/** The body of a message on the executor's queue: the group whose endpoints to converge. */
export const convergenceRequestSchema = z.strictObject({
  group: z.string().check(z.minLength(1), z.maxLength(63)),
});

export type ConvergenceRequest = z.infer<typeof convergenceRequestSchema>;
