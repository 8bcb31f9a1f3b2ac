export const ACCOUNT_ID = '111122223333';

/** An AWS-shaped error: `code` goes to `__type` / `x-amzn-errortype`, `queryCode` to `x-amzn-query-error`. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly queryCode: string | undefined;
  readonly extra: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: { status?: number; queryCode?: string; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.code = code;
    this.status = options.status ?? defaultStatus(code);
    this.queryCode = options.queryCode;
    this.extra = options.extra ?? {};
  }
}

function defaultStatus(code: string): number {
  if (code === 'InternalFailure' || code === 'InternalServerError') return 500;
  if (code === 'ServiceUnavailable') return 503;
  return 400;
}

export const validation = (message: string): ApiError => new ApiError('ValidationException', message);

export interface RequestContext {
  region: string;
  /** The account whose resources the request reaches (the signer's, when the local cloud keeps accounts apart). */
  account: string;
  accessKeyId: string | undefined;
}

/** JSON protocols encode timestamps as epoch seconds. */
export const epochSeconds = (ms: number): number => ms / 1000;

/** Accepts the JSON-protocol timestamp encodings (epoch seconds number, ISO string) and returns epoch ms. */
export function parseTimestamp(value: unknown, field: string): number {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string') {
    const asNumber = Number(value);
    if (value.trim() !== '' && Number.isFinite(asNumber)) return asNumber * 1000;
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw validation(`Invalid timestamp for ${field}: ${JSON.stringify(value)}`);
}

export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function xmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...`. */
export function parseCredentialScope(authorization: string | undefined): {
  accessKeyId?: string;
  region?: string;
  service?: string;
} {
  const match = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\//.exec(authorization ?? '');
  if (!match) return {};
  return { accessKeyId: match[1], region: match[2], service: match[3] };
}

export function requireString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw validation(
      `1 validation error detected: Value null at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/** Seeded, deterministic PRNG (mulberry32). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  alphanumeric(
    length: number,
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  ): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}

/** Page through a list with a numeric-offset NextToken. */
export function paginate<T>(
  items: T[],
  maxResults: unknown,
  nextToken: unknown,
): { page: T[]; next?: string } {
  const start = typeof nextToken === 'string' && nextToken !== '' ? Number(nextToken) : 0;
  if (!Number.isInteger(start) || start < 0) throw validation('Invalid pagination token.');
  const max = typeof maxResults === 'number' && maxResults > 0 ? maxResults : 100;
  const page = items.slice(start, start + max);
  return start + max < items.length ? { page, next: String(start + max) } : { page };
}
