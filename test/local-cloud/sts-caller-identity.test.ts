import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it } from 'vitest';
import { type Env, setup } from './helpers';

let env: Env | undefined;
afterEach(async () => {
  await env?.cloud.close();
  env = undefined;
});

const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

/** A GetCallerIdentity request signed by hand, with an extra signed header, as a proof of identity is. */
const signedCall = async (
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined },
  options: {
    signingDate?: Date;
    service?: string;
    body?: string;
    tamper?: (h: Record<string, string>) => void;
  } = {},
) => {
  const target = new URL(url);
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service: options.service ?? 'sts',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: '/',
      headers: {
        host: target.host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'x-rollouts-audience': 'stack-a',
      },
      body: BODY,
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const headers = { ...(signed.headers as Record<string, string>) };
  options.tamper?.(headers);
  const response = await fetch(target, { method: 'POST', headers, body: options.body ?? BODY });
  return { status: response.status, text: await response.text() };
};

describe('STS GetCallerIdentity in the local cloud', () => {
  it('names the signer of a valid request, as the SDK reads it, and extra signed headers are fine', async () => {
    env = await setup();
    const bob = env.cloud.sts.createUser('bob');
    const out = await signedCall(env.cloud.url, bob);
    expect(out.status).toBe(200);
    expect(out.text).toContain('<Arn>arn:aws:iam::111122223333:user/bob</Arn>');
    expect(out.text).toMatch(
      /^<GetCallerIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><GetCallerIdentityResult>/,
    );
    const sdk = await new STSClient({ ...env.config, credentials: bob }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(sdk).toMatchObject({ Arn: 'arn:aws:iam::111122223333:user/bob', Account: '111122223333' });
  });

  it('names an assumed-role session, which must carry its session token', async () => {
    env = await setup();
    const assumed = await env.sts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/release', RoleSessionName: 'jane' }),
    );
    const c = assumed.Credentials!;
    const session = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken,
    };
    const out = await signedCall(env.cloud.url, session);
    expect(out.text).toContain('<Arn>arn:aws:sts::111122223333:assumed-role/release/jane</Arn>');
    const withoutToken = await signedCall(env.cloud.url, session, {
      tamper: (h) => delete h['x-amz-security-token'],
    });
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.text).toContain('<Code>InvalidClientTokenId</Code>');
  });

  it.each([
    [
      'a changed signed header',
      { tamper: (h: Record<string, string>) => (h['x-rollouts-audience'] = 'stack-b') },
    ],
    ['a wrong secret', { secret: 'not-the-secret' }],
    ['a signature for another service', { service: 'lambda' }],
  ] as const)('refuses %s with 403 SignatureDoesNotMatch', async (_, options) => {
    env = await setup();
    const bob = env.cloud.sts.createUser('bob');
    const credentials = 'secret' in options ? { ...bob, secretAccessKey: options.secret } : bob;
    const out = await signedCall(env.cloud.url, credentials, 'secret' in options ? {} : options);
    expect(out.status).toBe(403);
    expect(out.text).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(out.text).toContain('<Type>Sender</Type>');
  });

  it('refuses a signature older than 15 minutes, or later than 15 minutes ahead, as AWS words it', async () => {
    env = await setup();
    const bob = env.cloud.sts.createUser('bob');
    const old = await signedCall(env.cloud.url, bob, { signingDate: new Date(Date.now() - 16 * 60_000) });
    expect(old.status).toBe(403);
    expect(old.text).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(old.text).toMatch(
      /Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)/,
    );
    const ahead = await signedCall(env.cloud.url, bob, { signingDate: new Date(Date.now() + 16 * 60_000) });
    expect(ahead.text).toContain('Signature not yet current');
    const recent = await signedCall(env.cloud.url, bob, { signingDate: new Date(Date.now() - 14 * 60_000) });
    expect(recent.status).toBe(200);
  });

  it('refuses an unknown key with InvalidClientTokenId and an unsigned request with MissingAuthenticationToken', async () => {
    env = await setup();
    const unknown = await signedCall(env.cloud.url, {
      accessKeyId: 'AKIANOTKNOWN0000',
      secretAccessKey: 'x',
    });
    expect(unknown.status).toBe(403);
    expect(unknown.text).toContain('<Code>InvalidClientTokenId</Code>');
    const unsigned = await fetch(env.cloud.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: BODY,
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });
});
