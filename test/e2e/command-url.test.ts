import { randomUUID } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRequestError, CommandUrlSender } from '../../src/adapters/command-url-sender';
import { signIdentityProof } from '../../src/adapters/identity-proof-signer';
import { stsEndpointUrl } from '../../src/adapters/sts-endpoint';
import { TransientError } from '../../src/errors';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'auth-model';
const PROD = 'auth-model-prod';
const V2 = `${GROUP}:v2`;
const ACCOUNT = '111122223333';
const FORGED = `arn:aws:sts::${ACCOUNT}:assumed-role/release/forged`;

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined };

/** A proof of identity made by hand, for any body, stack and signing time. */
const proofFor = (
  credentials: Credentials,
  body: string,
  options: { audience: string; signingDate?: Date },
): Promise<string> =>
  signIdentityProof({
    credentials: async () => credentials,
    region: 'us-east-1',
    stsEndpoint: stsEndpointUrl('us-east-1'),
    body,
    ...options,
  });

/** What a direct lambda:InvokeFunction can hand the control function: any event at all. */
const directInvokeEvent = (body: string, options: { claimedCaller?: string; proof?: string }) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: {
    'content-type': 'application/json',
    ...(options.proof ? { 'x-rollouts-identity': options.proof } : {}),
  },
  requestContext: {
    accountId: ACCOUNT,
    apiId: 'forged',
    ...(options.claimedCaller ? { authorizer: { iam: { userArn: options.claimedCaller } } } : {}),
    http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'x' },
    requestId: randomUUID(),
    timeEpoch: Date.UTC(2024, 0, 1),
  },
  body,
  isBase64Encoded: false,
});

/** A signed POST of any body, as a caller could craft it by hand. */
const signedPost = async (
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  body: string,
  tamper?: (headers: Record<string, string>) => string,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> => {
  const target = new URL(url);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    headers: { host: target.host, 'content-type': 'application/json', ...extraHeaders },
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

  /** Everything a refused command must leave as it was. */
  const snapshot = async () => ({
    history: (await history()).length,
    rejected: r.events('Command Rejected').length,
    published: r.stack.cloud.events.published.length,
    phase: await r.phase(V2),
    paused: (await r.state(GROUP)).deployments.find((d) => d.id === V2)?.canary?.paused,
    weights: r.weights(PROD),
  });

  it('a direct invoke claiming to be the release role, without a proof of identity, is refused and changes nothing', async () => {
    const before = await snapshot();
    const body = JSON.stringify({
      command: 'abort',
      deploymentId: V2,
      reason: 'forged',
      requestId: 'forged-abort',
    });
    const reply = (await r.stack.invoke('control', directInvokeEvent(body, { claimedCaller: FORGED }))) as {
      statusCode: number;
      body: string;
    };
    expect(reply.statusCode).toBe(403);
    expect(JSON.parse(reply.body).reason).toContain('no proof of identity');
    // counted, so that an alarm can watch for forgeries
    expect(
      r.stack.records.filter((x) => x.kind === 'metric' && x.line.includes('"CommandIdentityRefused"')),
    ).not.toHaveLength(0);
    await r.stack.settle();
    expect(await snapshot()).toEqual(before);
    expect((await history()).some((h) => h.actor === FORGED)).toBe(false);
  });

  it("a direct invoke claiming the release role with the intern's own proof is refused: the claim must name the prover", async () => {
    const intern = r.stack.cloud.sts.createUser('intern');
    const before = await snapshot();
    const body = JSON.stringify({
      command: 'abort',
      deploymentId: V2,
      reason: 'forged',
      requestId: 'forged-2',
    });
    const proof = await proofFor(intern, body, { audience: r.stack.tableName });
    const reply = (await r.stack.invoke(
      'control',
      directInvokeEvent(body, { claimedCaller: FORGED, proof }),
    )) as {
      statusCode: number;
      body: string;
    };
    expect(reply.statusCode).toBe(403);
    expect(JSON.parse(reply.body).reason).toContain(
      `signed by ${FORGED} but its proof of identity by arn:aws:iam::${ACCOUNT}:user/intern`,
    );
    await r.stack.settle();
    expect(await snapshot()).toEqual(before);
  });

  it('a direct invoke with a genuine proof acts as the prover, never as whom the event names', async () => {
    const intern = r.stack.cloud.sts.createUser('intern');
    const body = JSON.stringify({
      command: 'abort',
      deploymentId: V2,
      reason: 'as myself',
      requestId: 'intern-abort',
    });
    const proof = await proofFor(intern, body, { audience: r.stack.tableName });
    const reply = (await r.stack.invoke('control', directInvokeEvent(body, { proof }))) as {
      statusCode: number;
      body: string;
    };
    // abort is given to nobody in this group (no default): deny by default
    expect(reply.statusCode).toBe(403);
    expect(JSON.parse(reply.body)).toMatchObject({
      outcome: 'unauthorized',
      actor: `arn:aws:iam::${ACCOUNT}:user/intern`,
      reason: `arn:aws:iam::${ACCOUNT}:user/intern is not authorized to abort`,
    });
    expect(await r.phase(V2)).toBe('Canary');
  });

  it.each([
    ['bound to another body', { otherBody: true }, 'made for another command'],
    [
      'bound to another stack',
      { audience: 'sagemaker-rollouts-prod' },
      'made for stack sagemaker-rollouts-prod',
    ],
    ['signed six minutes ago', { ageMs: 6 * 60_000 }, 'more than 5 minutes from now'],
  ] as const)(
    'a command through the URL whose proof is %s is refused and changes nothing',
    async (_, how, why) => {
      const bob = r.stack.cloud.sts.createUser('bob');
      const before = await snapshot();
      const body = JSON.stringify({
        command: 'resume',
        deploymentId: V2,
        reason: 'go',
        requestId: randomUUID(),
      });
      const proof = await proofFor(bob, 'otherBody' in how ? body.replace('resume', 'abort') : body, {
        audience: 'audience' in how ? how.audience : r.stack.tableName,
        ...('ageMs' in how ? { signingDate: new Date(Date.now() - how.ageMs) } : {}),
      });
      const out = await signedPost(r.stack.commandUrl, bob, body, undefined, {
        'x-rollouts-identity': proof,
      });
      expect(out.status).toBe(403);
      expect(String(out.json.reason)).toContain(why);
      expect(await snapshot()).toEqual(before);
    },
  );

  it('a command whose stage changed after its proof was made (rollback --in qa sent as --in prod) is refused and changes nothing', async () => {
    const bob = r.stack.cloud.sts.createUser('bob');
    const before = await snapshot();
    const command = { command: 'rollback', deploymentId: V2, reason: 'QA only', requestId: randomUUID() };
    const proof = await proofFor(bob, JSON.stringify({ ...command, stage: 'qa' }), {
      audience: r.stack.tableName,
    });
    const out = await signedPost(
      r.stack.commandUrl,
      bob,
      JSON.stringify({ ...command, stage: 'prod' }),
      undefined,
      {
        'x-rollouts-identity': proof,
      },
    );
    expect(out.status).toBe(403);
    expect(String(out.json.reason)).toContain('made for another command');
    expect(await snapshot()).toEqual(before);
  });

  it('when STS cannot answer, the command fails as transient (5XX) and changes nothing; a resend then works', async () => {
    const bob = r.stack.cloud.sts.createUser('bob');
    const sender = new CommandUrlSender(r.stack.commandUrl, {
      audience: r.stack.tableName,
      credentials: async () => bob,
    });
    const before = await snapshot();
    const removeFault = r.stack.cloud.faults.add({
      service: 'sts',
      operation: 'GetCallerIdentity',
      error: 'ServiceUnavailable',
      times: 1,
    });
    const command = { verb: 'pause', deploymentId: V2, reason: 'again', requestId: randomUUID() };
    await expect(sender.send(command)).rejects.toBeInstanceOf(TransientError);
    removeFault();
    expect(await snapshot()).toEqual(before);
    // already paused: refused by the rollout's state, recorded with bob as the actor
    expect(await sender.send(command)).toMatchObject({
      outcome: 'rejected',
      actor: `arn:aws:iam::${ACCOUNT}:user/bob`,
    });
  });

  it('the same promote sent twice at once and once more later (one requestId) advances the 2-step canary once; every reply is the first', async () => {
    const sts = new STSClient({ region: 'us-east-1' });
    const assumed = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/release`, RoleSessionName: 'resender' }),
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
    // paused at step 1 (10 %) by the first test: promote moves to step 2 (30 %), a second would end the canary
    expect(r.weights(PROD)).toEqual({ v1: 90, v2: 10 });
    const requestId = randomUUID();
    const promote = { verb: 'promote', deploymentId: V2, reason: 'step on', requestId };
    const [first, concurrent] = await Promise.all([sender.send(promote), sender.send(promote)]);
    await r.stack.settle();
    const published = r.stack.cloud.events.published.length;
    const resent = await sender.send(promote);
    await r.stack.settle();
    expect(first).toMatchObject({
      outcome: 'applied',
      actor: `arn:aws:sts::${ACCOUNT}:assumed-role/release/resender`,
    });
    expect(concurrent).toEqual(first);
    expect(resent).toEqual(first);
    expect(r.stack.cloud.events.published.length).toBe(published);
    await r.runUntil(() => r.weights(PROD).v2 === 30, 5 * MINUTE);
    // still paused (the first test paused it): nothing moves it further
    await r.stack.run(3 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 70, v2: 30 });
    expect(await r.phase(V2)).toBe('Canary');
    const entries = (await history()).filter((h) => h.requestId === requestId);
    expect(entries.filter((h) => h.reason.startsWith('promoted to the next step'))).toHaveLength(1);
    expect(entries.map((h) => h.reason)).toEqual([
      expect.stringContaining('promote by'),
      'step 2/2: 30% to v2',
    ]);

    // another command with the same requestId is refused, and changes nothing either
    const publishedBefore = r.stack.cloud.events.published.length;
    const reused = await sender.send({ ...promote, reason: 'and again' });
    expect(reused.outcome).toBe('reused');
    expect(reused.reason).toContain(`requestId ${requestId} was already used for another command`);
    await r.stack.settle();
    expect(r.weights(PROD)).toEqual({ v1: 70, v2: 30 });
    expect(r.stack.cloud.events.published.length).toBe(publishedBefore);
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
