import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LocalIdentity } from './sts';

/** SigV4 allows this much difference between the signing time and the service's clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export interface SignedRequest {
  method: string;
  /** the full path the client signed, starting with `/` */
  path: string;
  rawQuery: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** Why a signature was refused, in the terms AWS uses (the caller maps them to its protocol's errors). */
export type SigV4Refusal =
  | { kind: 'missing' }
  | { kind: 'unknown-key'; accessKeyId: string }
  | { kind: 'wrong-service'; service: string }
  | { kind: 'expired'; message: string }
  | { kind: 'mismatch' };

export type SigV4Result = { identity: LocalIdentity; accessKeyId: string } | { refused: SigV4Refusal };

const compact = (ms: number): string => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

/**
 * Verifies a SigV4-signed request as an AWS service does: a known access key (with its session
 * token), the service in the credential scope, a signing time within 15 minutes of the service's
 * clock, `host` among the signed headers, and the signature recomputed with the SDK's own signer
 * over the signed headers, path, query and body.
 */
export const verifySigV4 = async (
  request: SignedRequest,
  options: { service: string; identity: (accessKeyId: string) => LocalIdentity | undefined; now: number },
): Promise<SigV4Result> => {
  const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
  if (!match) return { refused: { kind: 'missing' } };
  const [, accessKeyId = '', day = '', region = '', service = '', signedHeaderList = '', signature = ''] =
    match;
  const identity = options.identity(accessKeyId);
  if (!identity) return { refused: { kind: 'unknown-key', accessKeyId } };
  if (service !== options.service) return { refused: { kind: 'wrong-service', service } };
  if (identity.sessionToken && request.headers['x-amz-security-token'] !== identity.sessionToken) {
    return { refused: { kind: 'unknown-key', accessKeyId } };
  }
  const amzDate = request.headers['x-amz-date'] ?? '';
  const signedAt = Date.parse(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  if (Number.isNaN(signedAt) || !amzDate.startsWith(day)) return { refused: { kind: 'mismatch' } };
  if (options.now - signedAt > MAX_CLOCK_SKEW_MS) {
    return {
      refused: {
        kind: 'expired',
        message: `Signature expired: ${amzDate} is now earlier than ${compact(options.now - MAX_CLOCK_SKEW_MS)} (${compact(options.now)} - 15 min.)`,
      },
    };
  }
  if (signedAt - options.now > MAX_CLOCK_SKEW_MS) {
    return {
      refused: {
        kind: 'expired',
        message: `Signature not yet current: ${amzDate} is still later than ${compact(options.now + MAX_CLOCK_SKEW_MS)} (${compact(options.now)} + 15 min.)`,
      },
    };
  }
  const declaredHash = request.headers['x-amz-content-sha256'];
  if (declaredHash && declaredHash !== createHash('sha256').update(request.body).digest('hex')) {
    return { refused: { kind: 'mismatch' } };
  }
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return { refused: { kind: 'mismatch' } };
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return { refused: { kind: 'mismatch' } };
    headers[name] = value;
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
    },
    region,
    service,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: (request.headers.host ?? '').replace(/:\d+$/, ''),
      headers,
      path: request.path,
      query: Object.fromEntries(new URLSearchParams(request.rawQuery)),
      body: request.body.toString('utf8'),
    },
    { signingDate: new Date(signedAt) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  if (
    expected.length !== signature.length ||
    !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  ) {
    return { refused: { kind: 'mismatch' } };
  }
  return { identity, accessKeyId };
};
