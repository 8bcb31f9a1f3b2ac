import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { CrossAccountConfig } from '../config/schema';
import { PermanentError } from '../errors';
import { toRolloutsError } from './aws-errors';
import { stsEndpointUrl } from './sts-endpoint';
import { signStsPost } from './sts-signed-post';
import { xmlText } from './sts-xml';

export interface AssumedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}

export type AssumeRole = (request: {
  roleArn: string;
  sessionName: string;
  externalId?: string | undefined;
}) => Promise<AssumedCredentials>;

export interface SignedAssumeRoleOptions {
  region: string;
  /** the caller's own credentials (the function's execution role) */
  credentials?: () => Promise<AssumedCredentials>;
  endpoint?: URL;
  send?: typeof fetch;
}

/**
 * STS AssumeRole as a signed Query request (the API's documented form), its XML answer read for
 * the credentials. Sent without the STS client: the signer is in every bundle already, the
 * client and its Query/XML protocol would add 27 KB to each for this one call. One attempt:
 * a throttled or failed call is a TransientError, retried by the next event or tick.
 */
export const signedAssumeRole = (options: SignedAssumeRoleOptions): AssumeRole => {
  const credentials = options.credentials ?? defaultProvider();
  return async ({ roleArn, sessionName, externalId }) => {
    const url = options.endpoint ?? stsEndpointUrl(options.region);
    const context = { operation: 'STS AssumeRole', resource: roleArn };
    const body = new URLSearchParams({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: roleArn,
      RoleSessionName: sessionName,
      ...(externalId !== undefined ? { ExternalId: externalId } : {}),
    }).toString();
    let xml: string;
    let status: number;
    try {
      const signed = await signStsPost({
        url,
        credentials,
        region: options.region,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
      });
      const { host: _host, ...headers } = signed.headers;
      const response = await (options.send ?? fetch)(url, { method: 'POST', headers, body });
      status = response.status;
      xml = await response.text();
    } catch (error) {
      throw toRolloutsError(error, context);
    }
    if (status < 200 || status >= 300) {
      const code = xmlText(xml, 'Code') ?? `HTTP ${status}`;
      const failure = Object.assign(new Error(xmlText(xml, 'Message') ?? xml.slice(0, 200)), {
        name: code,
        $metadata: { httpStatusCode: status },
      });
      throw toRolloutsError(failure, context);
    }
    const accessKeyId = xmlText(xml, 'AccessKeyId');
    const secretAccessKey = xmlText(xml, 'SecretAccessKey');
    if (!accessKeyId || !secretAccessKey) {
      throw new PermanentError(`${context.operation} ${context.resource} returned no credentials`);
    }
    const expiration = xmlText(xml, 'Expiration');
    return {
      accessKeyId,
      secretAccessKey,
      sessionToken: xmlText(xml, 'SessionToken'),
      expiration: expiration ? new Date(expiration) : undefined,
    };
  };
};

/** The request a cross-account stage's role is assumed with. */
export const assumeRoleRequest = (config: CrossAccountConfig, defaultSessionName: string) => ({
  roleArn: config.roleArn,
  sessionName: config.sessionName ?? defaultSessionName,
  externalId: config.externalId,
});
