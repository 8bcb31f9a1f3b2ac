import { isPrincipalArn, type ReceivedCommand } from '../domain/schemas/control-command';
import { checkIdentityProof } from '../domain/schemas/identity-proof';
import { IdentityProofError } from '../errors';
import type { CallerIdentityVerifier } from '../ports/identity';

/**
 * Who sent this command, as STS names the signer of its proof of identity. Whatever the event
 * claims (a direct invocation can claim any caller) counts only if it names the same principal.
 * `now`: the function's wall clock, which signatures are judged by (the local cloud's virtual
 * time is not).
 */
export const identifyCaller = async (
  verifier: CallerIdentityVerifier,
  received: ReceivedCommand,
  expected: { audience: string; now: number },
): Promise<string> => {
  const proof = checkIdentityProof(received.identityProof, {
    body: received.bytes,
    audience: expected.audience,
    stsHost: verifier.stsHost,
    now: expected.now,
  });
  const arn = await verifier.callerOf(proof);
  if (!isPrincipalArn(arn)) throw new IdentityProofError(`STS named ${arn}, which is not a principal ARN`);
  if (received.urlCaller !== undefined && received.urlCaller !== arn) {
    throw new IdentityProofError(
      `the request is signed by ${received.urlCaller} but its proof of identity by ${arn}`,
    );
  }
  return arn;
};
