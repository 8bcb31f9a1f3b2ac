import { randomUUID } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRequestError, CommandUrlSender } from '../../src/adapters/command-url-sender';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'auth-model';
const PROD = 'auth-model-prod';
const V2 = `${GROUP}:v2`;
const ACCOUNT = '111122223333';

/** A signed POST of any body, as a caller could craft it by hand. */
const signedPost = async (
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  body: string,
  tamper?: (headers: Record<string, string>) => string,
): Promise<{ status: number; json: Record<string, unknown> }> => {
  const target = new URL(url);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    headers: { host: target.host, 'content-type': 'application/json' },
    body,
  });
  const headers = signed.headers as Record<string, string>;
  const sent = tamper ? tamper(headers) : body;
  const response = await fetch(target, { method: 'POST', headers, body: sent });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
};

describe('operator commands through the IAM-authenticated command URL', () => {
  let r: Rollouts;

  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/authorized.yml' });
    await withV1InProd(r, GROUP, PROD);
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    // checked in prod at weight 0 first, then step 1's weights are applied
    await r.runUntil(async () => (await r.phase(V2)) === 'Canary' && r.weights(PROD).v2 === 10);
  }, 180_000);
  afterAll(() => r.close());

  const history = async () => r.history(V2);

  it('records the ARN of the principal that signed the request as the actor', async () => {
    const bob = r.stack.cloud.sts.createUser('bob');
    const sender = new CommandUrlSender(r.stack.commandUrl, {
      audience: r.stack.tableName,
      credentials: async () => bob,
    });
    const requestId = randomUUID();
    const reply = await sender.send({
      verb: 'pause',
      deploymentId: V2,
      reason: 'checking a dashboard',
      requestId,
    });
    expect(reply).toMatchObject({ outcome: 'applied', actor: `arn:aws:iam::${ACCOUNT}:user/bob` });
    const entry = (await history()).find((h) => h.requestId === requestId);
    expect(entry).toMatchObject({ actor: `arn:aws:iam::${ACCOUNT}:user/bob`, to: 'Canary' });
    expect(
      r.stack.cloud.calls.filter((c) => c.operation === 'InvokeFunctionUrl' && !c.error),
    ).not.toHaveLength(0);
  });

  it('a body naming another actor is refused and records nothing', async () => {
    const bob = r.stack.cloud.sts.createUser('bob');
    const before = (await history()).length;
    const forged = await signedPost(
      r.stack.commandUrl,
      bob,
      JSON.stringify({
        command: 'resume',
        deploymentId: V2,
        reason: 'as the release manager',
        requestId: 'forged-1',
        actor: `arn:aws:sts::${ACCOUNT}:assumed-role/release/release-manager`,
      }),
    );
    expect(forged.status).toBe(400);
    expect(String(forged.json.message)).toContain('actor: unknown field');
    expect(await history()).toHaveLength(before);
  });

  it('a request whose body changed after signing, unsigned, or signed with unknown keys never reaches the function', async () => {
    const bob = r.stack.cloud.sts.createUser('bob');
    const invocations = () =>
      r.stack.records.filter((x) => x.kind === 'invoke' && x.functionName === 'control').length;
    const before = invocations();
    const body = JSON.stringify({
      command: 'resume',
      deploymentId: V2,
      reason: 'go',
      requestId: 'tampered-1',
    });
    const tampered = await signedPost(r.stack.commandUrl, bob, body, () => body.replace('resume', 'abort'));
    expect(tampered.status).toBe(403);
    const unknown = await signedPost(
      r.stack.commandUrl,
      { accessKeyId: 'AKIANOTKNOWN', secretAccessKey: 'x' },
      body,
    );
    expect(unknown.status).toBe(403);
    const unsigned = await fetch(r.stack.commandUrl, { method: 'POST', body });
    expect(unsigned.status).toBe(403);
    expect(invocations()).toBe(before);
    expect((await history()).some((h) => h.requestId === 'tampered-1')).toBe(false);
  });

  it('an unauthorized verb is refused, and the refusal is in the history and on the bus', async () => {
    const bob = r.stack.cloud.sts.createUser('bob');
    const sender = new CommandUrlSender(r.stack.commandUrl, {
      audience: r.stack.tableName,
      credentials: async () => bob,
    });
    const requestId = randomUUID();
    const reply = await sender.send({ verb: 'promote', deploymentId: V2, reason: 'ship it', requestId });
    expect(reply.outcome).toBe('unauthorized');
    expect(reply.reason).toBe(`arn:aws:iam::${ACCOUNT}:user/bob is not authorized to promote`);
    const entry = (await history()).find((h) => h.requestId === requestId);
    expect(entry).toMatchObject({
      actor: `arn:aws:iam::${ACCOUNT}:user/bob`,
      from: 'Canary',
      to: 'Canary',
      reason: `promote refused: arn:aws:iam::${ACCOUNT}:user/bob is not authorized to promote`,
    });
    const rejected = r.events('Command Rejected').filter((e) => e.detail.requestId === requestId);
    expect(rejected).toHaveLength(1);
    expect(r.weights(PROD)).toEqual({ v1: 90, v2: 10 });
    expect(await r.phase(V2)).toBe('Canary');
  });

  it('a session of the release role (AssumeRole) may promote, recorded as the assumed-role ARN', async () => {
    const sts = new STSClient({ region: 'us-east-1' });
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/release`,
        RoleSessionName: 'release-manager',
      }),
    );
    const c = assumed.Credentials!;
    const sender = new CommandUrlSender(r.stack.commandUrl, {
      audience: r.stack.tableName,
      credentials: async () => ({
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken,
      }),
    });
    const requestId = randomUUID();
    const reply = await sender.send({
      verb: 'promote',
      deploymentId: V2,
      reason: 'release approved',
      requestId,
      full: true,
    });
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/release/release-manager`;
    expect(reply).toMatchObject({ outcome: 'applied', actor: session });
    expect((await history()).find((h) => h.requestId === requestId)).toMatchObject({ actor: session });
    await r.runUntil(async () => (await r.phase(V2)) === 'Succeeded', 60 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v2: 100 });
  });

  it('a signed GET is answered 405 and records nothing', async () => {
    const bob = r.stack.cloud.sts.createUser('bob');
    const target = new URL(r.stack.commandUrl);
    const signer = new SignatureV4({
      credentials: bob,
      region: 'us-east-1',
      service: 'lambda',
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'GET',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      headers: { host: target.host },
    });
    const before = (await history()).length;
    const response = await fetch(target, {
      method: 'GET',
      headers: signed.headers as Record<string, string>,
    });
    expect(response.status).toBe(405);
    expect(await history()).toHaveLength(before);
  });

  it('the sender reports a refused signature as a CommandRequestError', async () => {
    const sender = new CommandUrlSender(r.stack.commandUrl, {
      audience: r.stack.tableName,
      credentials: async () => ({ accessKeyId: 'AKIANOTKNOWN', secretAccessKey: 'x' }),
    });
    await expect(
      sender.send({ verb: 'pause', deploymentId: V2, reason: 'x', requestId: randomUUID() }),
    ).rejects.toBeInstanceOf(CommandRequestError);
  });
});
