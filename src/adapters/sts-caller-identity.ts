import { GET_CALLER_IDENTITY_BODY, type IdentityProof } from '../domain/schemas/identity-proof';
import { IdentityProofError, TransientError } from '../errors';
import type { CallerIdentityVerifier } from '../ports/identity';
import { xmlText } from './sts-xml';

/** Errors STS answers when it is overloaded: the client should resend. */
const STS_BUSY = new Set(['Throttling', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalFailure']);

/**
 * Proofs of identity checked by STS itself (the method of Vault's AWS IAM auth and of
 * aws-iam-authenticator): the signed GetCallerIdentity request is sent, as signed, to this
 * function's own regional STS endpoint; STS verifies the signature (extra signed headers
 * included) and names the signer. GetCallerIdentity needs no IAM permission.
 */
export class StsCallerIdentity implements CallerIdentityVerifier {
  readonly stsHost: string;

  constructor(
    private readonly endpoint: URL,
    private readonly send: typeof fetch = fetch,
  ) {
    this.stsHost = endpoint.host;
  }

  async callerOf(proof: IdentityProof): Promise<string> {
    const { host: _host, ...headers } = proof.headers;
    let response: Response;
    try {
      response = await this.send(this.endpoint, {
        method: 'POST',
        headers: headers as Record<string, string>,
        body: GET_CALLER_IDENTITY_BODY,
      });
    } catch (error) {
      throw new TransientError(`STS ${this.endpoint.host} cannot be reached to check the proof of identity`, {
        cause: error,
      });
    }
    const xml = await response.text();
    const code = xmlText(xml, 'Code');
    if (response.status >= 500 || response.status === 429 || (code && STS_BUSY.has(code))) {
      throw new TransientError(
        `STS answered ${response.status} ${code ?? ''} to the proof of identity`.trim(),
      );
    }
    if (!response.ok) {
      throw new IdentityProofError(
        `STS refused the proof of identity: ${code ?? response.status}: ${xmlText(xml, 'Message') ?? ''}`.trim(),
      );
    }
    const arn = xmlText(xml, 'Arn');
    if (!arn) throw new TransientError('STS answered GetCallerIdentity without an Arn');
    return arn;
  }
}
