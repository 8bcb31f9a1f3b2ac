import * as z from '../zod';
import { describePayload, describeValue, NO_EXCERPTS, type PayloadPolicy } from './payload';
import { formatIssues } from './schemas/issues';

/**
 * The pre-traffic request set: requests sent to the candidate variant (InvokeEndpoint with
 * TargetVariant) before it takes any user traffic. Each answer must meet its expectation and,
 * when asked, match the baseline variant's answer to the same request within a tolerance.
 */
const jsonValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A value in the answer, found by JSON pointer: equal to a value, or within [min, max]. */
const valueExpectation = z.union([
  jsonValue,
  z
    .strictObject({ min: z.optional(z.number()), max: z.optional(z.number()) })
    .check(z.refine((range) => range.min !== undefined || range.max !== undefined, 'give min, max or both')),
]);

export const toleranceSchema = z.strictObject({
  /** Numbers may differ by this much ... */
  absolute: z._default(z.number().check(z.minimum(0)), 0),
  /** ... plus this fraction of the baseline's value. */
  relative: z._default(z.number().check(z.minimum(0)), 0),
});

export const requestSpecSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(64)),
  contentType: z._default(z.string(), 'application/json'),
  accept: z.optional(z.string()),
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
  expect: z.prefault(
    z.strictObject({
      status: z._default(z.int().check(z.minimum(100), z.maximum(599)), 200),
      bodyContains: z.optional(z.string()),
      /** JSON pointer (`/predictions/0`) -> expected value or range. */
      values: z.optional(
        z.record(
          z.string().check(z.regex(/^(\/[^/]*)*$/, 'must be a JSON pointer such as /predictions/0')),
          valueExpectation,
        ),
      ),
    }),
    {},
  ),
});

/**
 * A request set's requests: 1-50, names unique (outcomes are matched to requests by name). The
 * duplicate is named at its own `name`, with the request that used it first.
 */
export const requestListSchema = z.array(requestSpecSchema).check(
  z.minLength(1),
  z.maxLength(50),
  z.superRefine((requests, ctx) => {
    const firstIndex = new Map<string, number>();
    requests.forEach((request, index) => {
      const first = firstIndex.get(request.name);
      if (first === undefined) {
        firstIndex.set(request.name, index);
        return;
      }
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `request names must be unique: "${request.name}" is also the name of request #${first + 1}`,
      });
    });
  }),
);

export const requestSetSchema = z.strictObject({
  requests: requestListSchema,
  /** Also send each request to the baseline variant; the answers must match within the tolerance. */
  compareWithBaseline: z.optional(toleranceSchema),
});

export type RequestSpec = z.output<typeof requestSpecSchema>;
export type RequestSet = z.output<typeof requestSetSchema>;
export type Tolerance = z.output<typeof toleranceSchema>;

export class RequestSetError extends Error {
  override readonly name = 'RequestSetError';
  constructor(
    message: string,
    readonly issues: string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Validates a request-set document (a file's parsed JSON); every invalid field is named. */
export function parseRequestSet(value: unknown, source: string): RequestSet {
  const result = requestSetSchema.safeParse(value);
  if (!result.success) {
    const issues = formatIssues(result.error.issues);
    throw new RequestSetError(`Invalid request set ${source}: ${issues.join('; ')}`, issues, {
      cause: result.error,
    });
  }
  return result.data;
}

/** The request body as sent: JSON bodies serialised, text as is. */
export const requestBody = (request: RequestSpec): string =>
  typeof request.body === 'string' ? request.body : JSON.stringify(request.body);

export interface Answer {
  status: number;
  body: string;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Whether one answer meets its request's expectation. The reason names what failed (status,
 * JSON pointer, the expectation from the configuration); the answer itself only by size and digest
 * unless the policy allows excerpts.
 */
export function checkExpectation(request: RequestSpec, answer: Answer, policy = NO_EXCERPTS): Verdict {
  const { expect } = request;
  const theAnswer = `answer ${describePayload(answer.body, policy)}`;
  if (answer.status !== expect.status) {
    return fail(`answered HTTP ${answer.status}, expected ${expect.status} (${theAnswer})`);
  }
  if (expect.bodyContains !== undefined && !answer.body.includes(expect.bodyContains)) {
    return fail(`answer does not contain "${expect.bodyContains}" (${theAnswer})`);
  }
  const values = Object.entries(expect.values ?? {});
  if (values.length === 0) return { ok: true };
  const parsed = parseJson(answer.body);
  if (!parsed.ok) return fail(`answer is not JSON (${theAnswer})`);
  for (const [pointer, expected] of values) {
    const actual = resolvePointer(parsed.value, pointer);
    if (!actual.found) return fail(`answer has no value at ${pointer}`);
    const problem = valueProblem(actual.value, expected);
    if (problem) return fail(`${pointer} is ${describeValue(actual.value, policy)}, expected ${problem}`);
  }
  return { ok: true };
}

/**
 * "Same input, same output": the candidate's answer against the baseline's. JSON answers are
 * compared structurally, numbers within `absolute + relative x |baseline|`; other answers must be
 * identical. The first difference is named by its JSON pointer.
 */
export function compareAnswers(
  candidate: string,
  baseline: string,
  tolerance: Tolerance,
  policy = NO_EXCERPTS,
): Verdict {
  const c = parseJson(candidate);
  const b = parseJson(baseline);
  if (!c.ok || !b.ok) {
    return candidate === baseline
      ? { ok: true }
      : fail(
          `answers differ: candidate ${describePayload(candidate, policy)}, baseline ${describePayload(baseline, policy)}`,
        );
  }
  const difference = firstDifference(c.value, b.value, '', tolerance, policy);
  return difference ? fail(difference) : { ok: true };
}

export interface RequestOutcome {
  request: RequestSpec;
  candidate: Answer;
  /** Present when the set compares with the baseline. */
  baseline?: Answer;
}

export type RequestSetVerdict = { passed: true } | { passed: false; failures: string[] };

/**
 * Judges every request. Each failure names the request (its place in the set, its name and a
 * digest of its body) so the reason stands alone without quoting customer data.
 */
export function judgeRequestSet(
  set: RequestSet,
  outcomes: RequestOutcome[],
  policy = NO_EXCERPTS,
): RequestSetVerdict {
  const failures: string[] = [];
  for (const [index, request] of set.requests.entries()) {
    const outcome = outcomes.find((o) => o.request.name === request.name);
    const body = describePayload(requestBody(request), policy, 120);
    const label = `request #${index + 1} "${request.name}" (body ${body})`;
    if (!outcome) {
      failures.push(`${label}: not sent`);
      continue;
    }
    const expectation = checkExpectation(request, outcome.candidate, policy);
    if (!expectation.ok) {
      failures.push(`${label}: candidate ${expectation.reason}`);
      continue;
    }
    if (set.compareWithBaseline) {
      if (!outcome.baseline) {
        failures.push(`${label}: no baseline answer to compare with`);
        continue;
      }
      if (outcome.baseline.status !== outcome.candidate.status) {
        failures.push(
          `${label}: candidate answered HTTP ${outcome.candidate.status}, baseline HTTP ${outcome.baseline.status}`,
        );
        continue;
      }
      const same = compareAnswers(
        outcome.candidate.body,
        outcome.baseline.body,
        set.compareWithBaseline,
        policy,
      );
      if (!same.ok) failures.push(`${label}: ${same.reason}`);
    }
  }
  return failures.length === 0 ? { passed: true } : { passed: false, failures };
}

// ---- helpers ------------------------------------------------------------------------------------

const fail = (reason: string): Verdict => ({ ok: false, reason });

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** RFC 6901 JSON pointer lookup. */
function resolvePointer(value: unknown, pointer: string): { found: true; value: unknown } | { found: false } {
  if (pointer === '') return { found: true, value };
  let current: unknown = value;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= current.length) return { found: false };
      current = current[Number(key)];
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

/** What was expected, when the value does not meet it. */
function valueProblem(actual: unknown, expected: z.output<typeof valueExpectation>): string | undefined {
  if (expected === null || typeof expected !== 'object') {
    return Object.is(actual, expected) ? undefined : JSON.stringify(expected);
  }
  const range = `${expected.min ?? '-inf'}..${expected.max ?? '+inf'}`;
  if (typeof actual !== 'number') return `a number in ${range}`;
  if (expected.min !== undefined && actual < expected.min) return `a number in ${range}`;
  if (expected.max !== undefined && actual > expected.max) return `a number in ${range}`;
  return undefined;
}

function firstDifference(
  c: unknown,
  b: unknown,
  path: string,
  tolerance: Tolerance,
  policy: PayloadPolicy,
): string | undefined {
  const at = path === '' ? '(whole answer)' : path;
  if (typeof c === 'number' && typeof b === 'number') {
    const allowed = tolerance.absolute + tolerance.relative * Math.abs(b);
    const diff = Math.abs(c - b);
    if (diff <= allowed + 1e-12) return undefined;
    const values = policy.excerpts ? `candidate ${c}, baseline ${b} ` : '';
    return `${at}: ${values}(differ by ${round(diff)}, allowed ${round(allowed)})`;
  }
  if (Array.isArray(c) && Array.isArray(b)) {
    if (c.length !== b.length) return `${at}: candidate has ${c.length} items, baseline ${b.length}`;
    for (let i = 0; i < c.length; i++) {
      const d = firstDifference(c[i], b[i], `${path}/${i}`, tolerance, policy);
      if (d) return d;
    }
    return undefined;
  }
  if (isRecord(c) && isRecord(b)) {
    const keys = new Set([...Object.keys(c), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      const child = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!Object.hasOwn(c, key)) return `${child}: missing from the candidate's answer`;
      if (!Object.hasOwn(b, key)) return `${child}: not in the baseline's answer`;
      const d = firstDifference(c[key], b[key], child, tolerance, policy);
      if (d) return d;
    }
    return undefined;
  }
  if (Object.is(c, b)) return undefined;
  const candidate = describeValue(c, policy);
  const baseline = describeValue(b, policy);
  return policy.excerpts
    ? `${at}: candidate ${candidate}, baseline ${baseline}`
    : `${at}: candidate and baseline differ (${candidate} vs ${baseline})`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

const round = (n: number): number => Number(n.toPrecision(6));
