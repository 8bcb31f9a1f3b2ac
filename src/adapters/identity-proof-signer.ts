import {
  AUDIENCE_HEADER,
  COMMAND_HASH_HEADER,
  encodeIdentityProof,
  GET_CALLER_IDENTITY_BODY,
  GET_CALLER_IDENTITY_CONTENT_TYPE,
  type IdentityProof,
  sha256Hex,
} from '../domain/schemas/identity-proof';
import type { CredentialsProvider } from './clients';
import { signStsPost } from './sts-signed-post';

/**
 * Signs (does not send) an STS GetCallerIdentity request bound to one command: its signed
 * headers carry the hex SHA-256 of the exact body bytes and the stack's name. Returns the value
 * of the `x-rollouts-identity` header: the signed headers as base64url JSON, never the secret.
 */
export const signIdentityProof = async (options: {
  credentials: CredentialsProvider;
  region: string;
  stsEndpoint: URL;
  audience: string;
  body: string;
  signingDate?: Date | undefined;
}): Promise<string> => {
  const signed = await signStsPost({
    url: options.stsEndpoint,
    credentials: options.credentials,
    region: options.region,
    headers: {
      'content-type': GET_CALLER_IDENTITY_CONTENT_TYPE,
      [AUDIENCE_HEADER]: options.audience,
      [COMMAND_HASH_HEADER]: sha256Hex(options.body),
    },
    body: GET_CALLER_IDENTITY_BODY,
    signingDate: options.signingDate,
  });
  return encodeIdentityProof({ headers: signed.headers as IdentityProof['headers'] });
};
