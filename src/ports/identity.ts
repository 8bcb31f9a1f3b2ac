import type { IdentityProof } from '../domain/schemas/identity-proof';

/** STS, asked who signed a proof of identity. */
export interface CallerIdentityVerifier {
  /** The host the proofs must be signed for (this function's STS endpoint). */
  readonly stsHost: string;
  /**
   * Sends the signed GetCallerIdentity request to STS and returns the ARN STS names. Throws
   * IdentityProofError when STS refuses the signature, TransientError when STS cannot answer.
   */
  callerOf(proof: IdentityProof): Promise<string>;
}
