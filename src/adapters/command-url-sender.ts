import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { IDENTITY_HEADER } from '../domain/schemas/identity-proof';
import { PermanentError, TransientError } from '../errors';
import type { CommandReply, ControlCommandSender, OperatorCommandRequest } from '../ports/events';
import { awsRegion, type CredentialsProvider } from './clients';
import { signIdentityProof } from './identity-proof-signer';
import { stsEndpointUrl } from './sts-endpoint';

/** `https://<url-id>.lambda-url.<region>.on.aws/`: the region a function URL lives in. */
const urlRegion = (url: URL): string | undefined =>
  /^[^.]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];

/** The command URL refused the request itself (unsigned, bad signature, no permission, invalid body). */
export class CommandRequestError extends PermanentError {
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Operator commands to the control function's URL (AuthType AWS_IAM), signed with SigV4 (service
 * `lambda`) by the SDK's own signer, with the default credential chain unless credentials are
 * given. Each command carries a proof of identity made with the same credentials (an STS
 * GetCallerIdentity request bound to the body and to the stack, `audience`: its table name); the
 * function records the principal STS names as the actor.
 */
export class CommandUrlSender implements ControlCommandSender {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly credentials: CredentialsProvider;
  private readonly region: string;
  private readonly audience: string;

  constructor(
    url: string,
    options: { audience: string; region?: string | undefined; credentials?: CredentialsProvider | undefined },
  ) {
    this.url = new URL(url);
    if (!/^https?:$/.test(this.url.protocol)) throw new PermanentError(`command URL ${url} is not http(s)`);
    this.credentials = options.credentials ?? defaultProvider();
    this.region = urlRegion(this.url) ?? options.region ?? awsRegion();
    this.audience = options.audience;
    this.signer = new SignatureV4({
      credentials: this.credentials,
      region: this.region,
      service: 'lambda',
      sha256: Sha256,
    });
  }

  async send(command: OperatorCommandRequest): Promise<CommandReply> {
    const body = JSON.stringify({
      command: command.verb,
      deploymentId: command.deploymentId,
      reason: command.reason,
      requestId: command.requestId,
      ...(command.full !== undefined ? { full: command.full } : {}),
      ...(command.stage !== undefined ? { stage: command.stage } : {}),
    });
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      ...(this.url.port ? { port: Number(this.url.port) } : {}),
      path: this.url.pathname,
      query: Object.fromEntries(this.url.searchParams),
      headers: {
        host: this.url.host,
        'content-type': 'application/json',
        [IDENTITY_HEADER]: await signIdentityProof({
          credentials: this.credentials,
          region: this.region,
          stsEndpoint: stsEndpointUrl(this.region),
          audience: this.audience,
          body,
        }),
      },
      body,
    });
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: signed.headers as Record<string, string>,
        body,
      });
    } catch (error) {
      throw new TransientError(`cannot reach the command URL ${this.url.origin}: ${String(error)}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let reply: Partial<CommandReply> & { message?: string; Message?: string } = {};
    try {
      reply = JSON.parse(text);
    } catch {
      // Lambda's own errors may be plain text
    }
    if (reply.outcome && [200, 403, 404, 409, 422].includes(response.status)) {
      return { outcome: reply.outcome, reason: reply.reason ?? '', actor: reply.actor ?? '' };
    }
    const why = reply.message ?? reply.Message ?? (text || response.statusText);
    if (response.status >= 500 || response.status === 429) {
      throw new TransientError(`the command URL answered ${response.status}: ${why}`);
    }
    throw new CommandRequestError(
      `the command URL refused the request (${response.status}): ${why}`,
      response.status,
    );
  }
}
