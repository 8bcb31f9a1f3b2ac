import { closest } from '../closest-name';
import { UsageError } from './errors';

/** `no endpoint "churn-modl-prod" (did you mean churn-model-prod?); there are: a, b`, exit code 2. */
export class UnknownNameError extends UsageError {
  constructor(
    what: string,
    name: string,
    known: readonly string[],
    words: { prefix?: string | undefined; advice?: string | undefined } = {},
  ) {
    const { prefix, advice } = words;
    const guess = closest(name, known);
    const listed = [...new Set(known)].sort();
    super(
      `${prefix ? `${prefix}: ` : ''}no ${what} "${name}"${guess ? ` (did you mean ${guess}?)` : ''}` +
        (listed.length > 0 ? `; there are: ${listed.join(', ')}` : '') +
        (advice ? `. ${advice}` : ''),
    );
  }
}
