import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

type SignerCredentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** A SigV4-signed STS Query POST to `url` (host header included); signing only, nothing is sent. */
export const signStsPost = (request: {
  url: URL;
  credentials: SignerCredentials;
  region: string;
  headers: Record<string, string>;
  body: string;
  signingDate?: Date | undefined;
}) => {
  const { url } = request;
  const signer = new SignatureV4({
    credentials: request.credentials,
    region: request.region,
    service: 'sts',
    sha256: Sha256,
  });
  return signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, ...request.headers },
      body: request.body,
    },
    request.signingDate ? { signingDate: request.signingDate } : {},
  );
};
