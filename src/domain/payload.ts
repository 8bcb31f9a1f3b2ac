import { shortHash } from './naming';

/**
 * Request bodies and model answers are customer data: reasons, logs, events and chat name them by
 * size and digest only. A group may allow excerpts (`debug.payloadExcerpts`) while debugging.
 */
export interface PayloadPolicy {
  excerpts: boolean;
}

export const NO_EXCERPTS: PayloadPolicy = { excerpts: false };

/** Hex digits of sha256 that name a payload: enough to tell two bodies apart, nothing of the content. */
export const PAYLOAD_DIGEST_LENGTH = 12;
const MAX_EXCERPT = 200;

export const payloadDigest = (text: string): string => `sha256 ${shortHash(text, PAYLOAD_DIGEST_LENGTH)}`;

const byteLength = (text: string): number => new TextEncoder().encode(text).length;

export const truncate = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** `empty`, `37 bytes, sha256 1a2b3c4d5e6f`, or with excerpts the text itself (shortened). */
export const describePayload = (text: string, policy: PayloadPolicy, maxExcerpt = MAX_EXCERPT): string => {
  if (text === '') return 'empty';
  return policy.excerpts
    ? JSON.stringify(truncate(text, maxExcerpt))
    : `${byteLength(text)} bytes, ${payloadDigest(text)}`;
};

/** A value taken from an answer: its JSON with excerpts, else only its kind. */
export const describeValue = (value: unknown, policy: PayloadPolicy): string => {
  if (policy.excerpts) return truncate(JSON.stringify(value) ?? String(value), MAX_EXCERPT);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
};

export interface FailedInvocation {
  statusCode: number;
  body: string;
  /** The service's error code, e.g. ModelError. */
  errorCode?: string | undefined;
  /** The service's message: a ModelError's message quotes the model's answer. */
  error?: string | undefined;
}

/** An InvokeEndpoint that did not succeed, e.g. `HTTP 500 ModelError (answer 21 bytes, sha256 …)`. */
export const describeFailedInvocation = (result: FailedInvocation, policy: PayloadPolicy): string => {
  if (policy.excerpts) return `HTTP ${result.statusCode}: ${truncate(result.error ?? result.body, 300)}`;
  const code = result.errorCode ? ` ${result.errorCode}` : '';
  return `HTTP ${result.statusCode}${code} (answer ${describePayload(result.body, policy)})`;
};
