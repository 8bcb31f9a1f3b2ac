/**
 * EventBridge event pattern matching: exact values, arrays as OR, nested objects, `prefix`, `suffix`,
 * `anything-but`, `exists`, `numeric`, `equals-ignore-case`, `wildcard`, `cidr` and `$or`.
 */
export type EventPattern = Record<string, unknown>;

export class InvalidPatternError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const MISSING = Symbol('missing');

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(rule)) throw new InvalidPatternError('$or must be an array of patterns');
      if (!rule.some((alt) => isObject(alt) && matchObject(alt, value))) return false;
      continue;
    }
    const field = isObject(value) && key in value ? value[key] : MISSING;
    if (isObject(rule)) {
      if (Array.isArray(field)) {
        if (!field.some((el) => isObject(el) && matchObject(rule, el))) return false;
      } else if (!isObject(field) || !matchObject(rule, field)) {
        return false;
      }
      continue;
    }
    if (!Array.isArray(rule)) throw new InvalidPatternError(`"${key}" must be an object or an array`);
    if (!matchLeaf(rule, field)) return false;
  }
  return true;
}

function matchLeaf(rules: unknown[], field: unknown): boolean {
  const values: unknown[] = field === MISSING ? [] : Array.isArray(field) ? field : [field];
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) {
      const present = field !== MISSING && !(Array.isArray(field) && field.length === 0);
      return rule.exists === present;
    }
    return values.some((v) => matchValue(rule, v));
  });
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (rule === null) return value === null;
  if (typeof rule === 'string' || typeof rule === 'boolean') return value === rule;
  if (typeof rule === 'number') return typeof value === 'number' && value === rule;
  if (!isObject(rule)) throw new InvalidPatternError(`unsupported rule ${JSON.stringify(rule)}`);
  const entries = Object.entries(rule);
  if (entries.length !== 1)
    throw new InvalidPatternError(`a matcher object must have one key: ${JSON.stringify(rule)}`);
  const [op, arg] = entries[0]!;
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && stringOp(arg, value, (s, a) => s.startsWith(a));
    case 'suffix':
      return typeof value === 'string' && stringOp(arg, value, (s, a) => s.endsWith(a));
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw new InvalidPatternError('equals-ignore-case needs a string');
      return typeof value === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      if (typeof arg !== 'string') throw new InvalidPatternError('wildcard needs a string');
      return typeof value === 'string' && wildcardRegex(arg).test(value);
    case 'numeric':
      return typeof value === 'number' && numericMatch(arg, value);
    case 'anything-but':
      return anythingBut(arg, value);
    case 'cidr':
      if (typeof arg !== 'string') throw new InvalidPatternError('cidr needs a string');
      return typeof value === 'string' && cidrMatch(arg, value);
    default:
      throw new InvalidPatternError(`unsupported matcher "${op}"`);
  }
}

function stringOp(arg: unknown, value: string, test: (s: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(value, arg);
  if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string') {
    return test(value.toLowerCase(), arg['equals-ignore-case'].toLowerCase());
  }
  throw new InvalidPatternError(`invalid prefix/suffix argument ${JSON.stringify(arg)}`);
}

function anythingBut(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return !arg.some((a) => matchValue(a, value));
  if (isObject(arg)) {
    // anything-but { prefix | suffix | equals-ignore-case | wildcard }: a string that does not match.
    return typeof value === 'string' && !matchValue(arg, value);
  }
  if (typeof arg === 'string' || typeof arg === 'number' || typeof arg === 'boolean' || arg === null) {
    return !matchValue(arg, value);
  }
  throw new InvalidPatternError('invalid anything-but argument');
}

function numericMatch(arg: unknown, value: number): boolean {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) {
    throw new InvalidPatternError('numeric needs [op, value, ...]');
  }
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof bound !== 'number') throw new InvalidPatternError('numeric bound must be a number');
    const ok =
      op === '='
        ? value === bound
        : op === '<'
          ? value < bound
          : op === '<='
            ? value <= bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : undefined;
    if (ok === undefined) throw new InvalidPatternError(`unknown numeric operator ${String(op)}`);
    if (!ok) return false;
  }
  return true;
}

function wildcardRegex(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) {
      source += escapeRegex(glob[++i]!);
    } else if (c === '*') {
      source += '.*';
    } else {
      source += escapeRegex(c);
    }
  }
  return new RegExp(`^${source}$`, 's');
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function cidrMatch(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = ipv4ToInt(base ?? '');
  const b = ipv4ToInt(ip);
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((acc, p) => ((acc << 8) | p) >>> 0, 0);
}

/** Validates a pattern by exercising every matcher once; throws InvalidPatternError. */
export function validatePattern(pattern: unknown): EventPattern {
  if (!isObject(pattern)) throw new InvalidPatternError('Event pattern must be a JSON object');
  const check = (node: Record<string, unknown>): void => {
    for (const [key, rule] of Object.entries(node)) {
      if (key === '$or') {
        if (!Array.isArray(rule) || rule.length < 2)
          throw new InvalidPatternError('$or needs at least two patterns');
        for (const alt of rule) {
          if (!isObject(alt)) throw new InvalidPatternError('$or entries must be objects');
          check(alt);
        }
      } else if (isObject(rule)) {
        check(rule);
      } else if (Array.isArray(rule)) {
        for (const r of rule) {
          if (isObject(r) && 'exists' in r) {
            if (typeof r.exists !== 'boolean') throw new InvalidPatternError('exists must be a boolean');
          } else {
            // Exercise the matcher against each value type so a malformed argument is reported up front.
            for (const sample of ['', 0, true, null]) matchValue(r, sample);
          }
        }
      } else {
        throw new InvalidPatternError(`"${key}" must be an object or an array`);
      }
    }
  };
  check(pattern);
  return pattern;
}
