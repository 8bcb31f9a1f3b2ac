import type * as z from '../../zod';

/**
 * One invalid field: where it is and what is wrong; `unknownKey` when the field should not be
 * there, `badKey` when its key (a record's) is what is wrong.
 */
export interface FieldIssue {
  path: PropertyKey[];
  message: string;
  unknownKey?: true;
  badKey?: true;
}

export const formatPath = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? '(root)' : path.map((segment) => String(segment)).join('.');

/**
 * Flattens zod issues into one issue per field. Unknown keys are reported at their own path,
 * and union / record-key failures carry the nested messages, so every issue names one field.
 */
export const fieldIssues = (
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): FieldIssue[] => {
  const found: FieldIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        found.push({ path: [...path, key], message: 'unknown field', unknownKey: true });
      continue;
    }
    if (issue.code === 'invalid_key') {
      const nested = fieldIssues(issue.issues, []).map(({ path: at, message }) =>
        at.length === 0 ? message : `${formatPath(at)}: ${message}`,
      );
      found.push({ path, message: `invalid key (${nested.join('; ')})`, badKey: true });
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = issue.errors.map((branch) => fieldIssues(branch, path));
      // When one branch got furthest (fewest issues), report its issues; otherwise the summary.
      const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
      found.push(...(best.length > 0 ? best : [{ path, message: issue.message }]));
      continue;
    }
    if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
      found.push({ path, message: `required (expected ${issue.expected})` });
      continue;
    }
    found.push({ path, message: issue.message });
  }
  const seen = new Set<string>();
  return found.filter((issue) => {
    const key = `${formatPath(issue.path)}\n${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

/** The issues as `path: message` lines. */
export const formatIssues = (
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): string[] => fieldIssues(issues, prefix).map(({ path, message }) => `${formatPath(path)}: ${message}`);
