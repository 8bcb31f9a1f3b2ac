import { InputValidationError } from '../../errors';
import * as z from '../../zod';
import { formatIssues } from './issues';

/**
 * Parses an input from outside (event, message, command) or throws an InputValidationError
 * whose message is `Invalid <what>: <path>: <message>; ...` and whose `issues` are the
 * `path: message` lines.
 */
export const parseInput = <S extends z.core.$ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.core.output<S> => {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const issues = formatIssues(result.error.issues);
  throw new InputValidationError(`Invalid ${what}: ${issues.join('; ')}`, issues, { cause: result.error });
};
