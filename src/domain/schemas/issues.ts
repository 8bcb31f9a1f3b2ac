import type * as z from '../../zod';

const formatPath = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? '(root)' : path.map((segment) => String(segment)).join('.');

/**
 * Flattens zod issues into `path: message` lines. Unknown keys are reported at their own path,
 * and union / record-key failures carry the nested messages, so every line names one field.
 */
export const formatIssues = (
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): string[] => {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...path, key])}: unknown field`);
      continue;
    }
    if (issue.code === 'invalid_key') {
      const nested = formatIssues(issue.issues, []).map((line) => line.replace(/^\(root\): /, ''));
      lines.push(`${formatPath(path)}: invalid key (${nested.join('; ')})`);
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = issue.errors.map((branch) => formatIssues(branch, path));
      // When one branch got furthest (fewest issues), report its issues; otherwise the summary.
      const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
      lines.push(...(best.length > 0 ? best : [`${formatPath(path)}: ${issue.message}`]));
      continue;
    }
    if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
      lines.push(`${formatPath(path)}: required (expected ${issue.expected})`);
      continue;
    }
    lines.push(`${formatPath(path)}: ${issue.message}`);
  }
  return [...new Set(lines)];
};
