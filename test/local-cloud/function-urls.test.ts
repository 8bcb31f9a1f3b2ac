import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it } from 'vitest';
import type { FunctionUrlEvent } from '../../src/local/cloud';
import { type Env, setup } from './helpers';

let env: Env | undefined;
afterEach(async () => {
  await env?.cloud.close();
  env = undefined;
});

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

const post = async (
  url: string,
  credentials: Credentials,
  body: string,
  options: { signingDate?: Date; headers?: Record<string, string>; dropToken?: boolean } = {},
) => {
  const target = new URL(url);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers: { host: target.host, 'content-type': 'application/json', ...options.headers },
      body,
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const headers = { ...(signed.headers as Record<string, string>) };
  if (options.dropToken) delete headers['x-amz-security-token'];
  const response = await fetch(target, { method: 'POST', headers, body });
  return { status: response.status, text: await response.text() };
};

const LOCAL_USER = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('function URLs with AuthType AWS_IAM', () => {
  it('passes a correctly signed request to the function with the caller, and maps its response', async () => {
    env = await setup();
    const seen: FunctionUrlEvent[] = [];
    const url = env.cloud.functionUrls.register('fn', async (event) => {
      seen.push(event);
      return { statusCode: 201, headers: { 'content-type': 'text/plain' }, body: 'made' };
    });
    const out = await post(`${url}?x=1`, LOCAL_USER, '{"a":1}');
    expect(out).toEqual({ status: 201, text: 'made' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      version: '2.0',
      rawPath: '/',
      rawQueryString: 'x=1',
      queryStringParameters: { x: '1' },
      body: '{"a":1}',
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST' },
        authorizer: { iam: { userArn: 'arn:aws:iam::111122223333:user/local', accessKey: 'test' } },
      },
    });
    expect(env.cloud.calls.at(-1)).toMatchObject({ service: 'lambda', operation: 'InvokeFunctionUrl' });
  });

  it('returns any other result as a JSON body with 200, and 502 when the function throws', async () => {
    env = await setup();
    const ok = env.cloud.functionUrls.register('ok', async () => ({ answer: 42 }));
    const failing = env.cloud.functionUrls.register('failing', async () => {
      throw new Error('boom');
    });
    expect(await post(ok, LOCAL_USER, '{}')).toEqual({ status: 200, text: '{"answer":42}' });
    expect((await post(failing, LOCAL_USER, '{}')).status).toBe(502);
  });

  it('names an assumed-role session as GetCallerIdentity does, and requires its session token', async () => {
    env = await setup();
    const callers: string[] = [];
    const url = env.cloud.functionUrls.register('fn', async (event) => {
      callers.push(event.requestContext.authorizer.iam.userArn);
      return { ok: true };
    });
    const out = await env.sts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/release', RoleSessionName: 'jane' }),
    );
    const c = out.Credentials!;
    const session = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken,
    };
    expect((await post(url, session, '{}')).status).toBe(200);
    expect(callers).toEqual(['arn:aws:sts::111122223333:assumed-role/release/jane']);
    expect((await post(url, session, '{}', { dropToken: true })).status).toBe(403);
    expect(callers).toHaveLength(1);
  });

  it.each([
    ['an unknown access key', { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'test' }, {}],
    ['the wrong secret', { accessKeyId: 'test', secretAccessKey: 'nope' }, {}],
    ['a signature older than 15 minutes', LOCAL_USER, { signingDate: new Date(Date.now() - 16 * 60_000) }],
    [
      'a declared payload hash that is not the body’s',
      LOCAL_USER,
      {
        headers: {
          'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        },
      },
    ],
  ] as const)('refuses %s with 403, without running the function', async (_, credentials, options) => {
    env = await setup();
    let runs = 0;
    const url = env.cloud.functionUrls.register('fn', async () => {
      runs += 1;
      return {};
    });
    const out = await post(url, credentials, '{"verb":"promote"}', options);
    expect(out.status).toBe(403);
    expect(JSON.parse(out.text)).toHaveProperty('Message');
    expect(runs).toBe(0);
  });

  it('answers 404 for a function without a URL', async () => {
    env = await setup();
    expect((await post(`${env.cloud.url}/lambda-url/none/`, LOCAL_USER, '{}')).status).toBe(404);
  });
});
