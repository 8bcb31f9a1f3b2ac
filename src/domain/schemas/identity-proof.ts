import { createHash } from 'node:crypto';
import { IdentityProofError } from '../../errors';
import * as z from '../../zod';

/**
 * Proof of identity for an operator command: an STS GetCallerIdentity request signed (not sent)
 * by the caller with the credentials that sign the command, whose signed headers bind it to the
 * exact command body and to this stack. The control function sends it to STS itself: STS answers
 * with the signer's ARN only if the signature holds, so only the holder of those credentials can
 * make a proof that names them, and a proof serves for one command only.
 */
export const IDENTITY_HEADER = 'x-rollouts-identity';
/** Signed header: hex SHA-256 of the exact command body bytes. */
export const COMMAND_HASH_HEADER = 'x-rollouts-command-sha256';
/** Signed header: the stack the command is for (its table name), so a proof for another stack is refused. */
export const AUDIENCE_HEADER = 'x-rollouts-audience';
export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
export const GET_CALLER_IDENTITY_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';
/** Tighter than the 15 minutes STS allows: a captured proof is usable for a short while only. */
export const MAX_PROOF_AGE_MS = 5 * 60_000;

const REQUIRED_SIGNED = ['content-type', 'host', 'x-amz-date', AUDIENCE_HEADER, COMMAND_HASH_HEADER] as const;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=\w{1,128}\/\d{8}\/[a-z0-9-]{1,32}\/sts\/aws4_request, ?SignedHeaders=([a-z0-9;-]{1,512}), ?Signature=[0-9a-f]{64}$/;

/** The headers of the signed GetCallerIdentity request, and nothing else. */
export const identityProofSchema = z.strictObject({
  headers: z.strictObject({
    authorization: z.string().check(z.regex(AUTHORIZATION, 'must be a SigV4 authorization for service sts')),
    'content-type': z.literal(GET_CALLER_IDENTITY_CONTENT_TYPE),
    host: z.string().check(z.regex(/^[a-z0-9.-]{1,253}(:\d{1,5})?$/, 'must be a host name')),
    'x-amz-date': z
      .string()
      .check(z.regex(/^\d{8}T\d{6}Z$/, 'must be an ISO 8601 basic date (YYYYMMDDTHHMMSSZ)')),
    'x-amz-content-sha256': z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256'))),
    'x-amz-security-token': z.optional(z.string().check(z.minLength(1), z.maxLength(8192))),
    [AUDIENCE_HEADER]: z.string().check(z.minLength(1), z.maxLength(255)),
    [COMMAND_HASH_HEADER]: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256')),
  }),
});

export type IdentityProof = z.infer<typeof identityProofSchema>;

export const sha256Hex = (bytes: Uint8Array | string): string =>
  createHash('sha256').update(bytes).digest('hex');

export const encodeIdentityProof = (proof: IdentityProof): string =>
  Buffer.from(JSON.stringify(proof), 'utf8').toString('base64url');

const amzDateMs = (amzDate: string): number =>
  Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));

/**
 * Decodes the proof header and checks, before anything is sent to STS, that it proves what it
 * must: a GetCallerIdentity signature for this function's STS endpoint, made at most five minutes
 * from `now`, over signed headers that name this exact body and this stack. Throws
 * IdentityProofError naming what is wrong.
 */
export const checkIdentityProof = (
  header: string | undefined,
  expected: { body: Uint8Array; audience: string; stsHost: string; now: number },
): IdentityProof => {
  if (!header) {
    throw new IdentityProofError(
      `no proof of identity: sign an STS GetCallerIdentity request bound to the command and send it in ${IDENTITY_HEADER} (the rollouts CLI and CommandUrlSender do)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch (error) {
    throw new IdentityProofError(`${IDENTITY_HEADER} is not base64url JSON`, { cause: error });
  }
  const parsed = z.safeParse(identityProofSchema, json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new IdentityProofError(`${IDENTITY_HEADER} is invalid: ${issues.join('; ')}`, {
      cause: parsed.error,
    });
  }
  const proof = parsed.data;
  const { headers } = proof;
  const signed = (AUTHORIZATION.exec(headers.authorization)?.[1] ?? '').split(';');
  const unsigned = REQUIRED_SIGNED.filter((name) => !signed.includes(name));
  if (unsigned.length > 0) {
    throw new IdentityProofError(`the proof of identity does not sign ${unsigned.join(', ')}`);
  }
  const missing = signed.filter((name) => !(name in headers));
  if (missing.length > 0) {
    throw new IdentityProofError(
      `the proof of identity signs headers it does not carry: ${missing.join(', ')}`,
    );
  }
  if (headers[COMMAND_HASH_HEADER] !== sha256Hex(expected.body)) {
    throw new IdentityProofError(
      'the proof of identity was made for another command (its body hash differs)',
    );
  }
  if (headers[AUDIENCE_HEADER] !== expected.audience) {
    throw new IdentityProofError(
      `the proof of identity was made for stack ${headers[AUDIENCE_HEADER]}, not ${expected.audience}`,
    );
  }
  if (headers.host !== expected.stsHost) {
    throw new IdentityProofError(
      `the proof of identity is signed for ${headers.host}; this function verifies with ${expected.stsHost}`,
    );
  }
  const signedAt = amzDateMs(headers['x-amz-date']);
  if (Number.isNaN(signedAt) || Math.abs(expected.now - signedAt) > MAX_PROOF_AGE_MS) {
    throw new IdentityProofError(
      `the proof of identity was signed at ${headers['x-amz-date']}, more than ${MAX_PROOF_AGE_MS / 60_000} minutes from now`,
    );
  }
  return proof;
};
