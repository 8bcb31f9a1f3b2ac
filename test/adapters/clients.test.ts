import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AssumedRoleCredentials,
  applicationAutoScalingClientFor,
  cloudWatchClient,
  cloudWatchClientFor,
  resetClients,
  sageMakerClient,
  sageMakerClientFor,
  sageMakerRuntimeClientFor,
} from '../../src/adapters/clients';
import { SageMakerStageEndpoints } from '../../src/adapters/sagemaker-endpoints';
import { signedAssumeRole } from '../../src/adapters/sts-assume-role';
import { EndpointBusyError, PermanentError, TransientError } from '../../src/errors';
import { restoreProcessEnv } from '../support/process-env';

const HOUR = 60 * 60 * 1000;
let now = Date.now();
let issued = 0;

/** A regional STS endpoint answering AssumeRole as STS does (Query request, XML answer). */
interface StsCall {
  params: Record<string, string>;
  authorization: string | undefined;
  contentType: string | undefined;
}
const stsCalls: StsCall[] = [];
let stsAnswer: (() => { status: number; xml: string }) | undefined;
const assumeRoleXml = () => {
  issued += 1;
  return (
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>' +
    `<Credentials><AccessKeyId>ASIA${issued}</AccessKeyId><SecretAccessKey>secret-${issued}</SecretAccessKey>` +
    `<SessionToken>session-${issued}&amp;more</SessionToken><Expiration>${new Date(now + HOUR).toISOString()}</Expiration>` +
    '</Credentials></AssumeRoleResult></AssumeRoleResponse>'
  );
};
const stsError = (status: number, code: string, message: string) => ({
  status,
  xml: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`,
});
let stsServer: Server;
let stsUrl: URL;
const savedEnv = { ...process.env };

beforeAll(async () => {
  stsServer = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      stsCalls.push({
        params: Object.fromEntries(new URLSearchParams(body)),
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
      });
      const { status, xml } = stsAnswer?.() ?? { status: 200, xml: assumeRoleXml() };
      response.writeHead(status, { 'content-type': 'text/xml' });
      response.end(xml);
    });
  });
  await new Promise<void>((resolve) => stsServer.listen(0, '127.0.0.1', resolve));
  stsUrl = new URL(`http://127.0.0.1:${(stsServer.address() as AddressInfo).port}/`);
  process.env.AWS_ENDPOINT_URL_STS = stsUrl.href;
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  resetClients();
});

afterAll(async () => {
  restoreProcessEnv(savedEnv);
  resetClients();
  await new Promise<void>((resolve) => stsServer.close(() => resolve()));
});

beforeEach(() => {
  stsCalls.length = 0;
  stsAnswer = undefined;
});

const signed = () =>
  signedAssumeRole({
    region: 'eu-west-1',
    endpoint: stsUrl,
    credentials: async () => ({ accessKeyId: 'AKIDCALLER', secretAccessKey: 'caller-secret' }),
  });

describe('signedAssumeRole', () => {
  it('sends a Query AssumeRole signed for STS in the region, and reads the credentials', async () => {
    const credentials = await signed()({
      roleArn: 'arn:aws:iam::444455556666:role/deployer',
      sessionName: 'sagemaker-rollouts',
      externalId: 'ext-1',
    });
    expect(stsCalls[0]!.params).toEqual({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: 'arn:aws:iam::444455556666:role/deployer',
      RoleSessionName: 'sagemaker-rollouts',
      ExternalId: 'ext-1',
    });
    expect(stsCalls[0]!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(stsCalls[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDCALLER\/\d{8}\/eu-west-1\/sts\/aws4_request, SignedHeaders=/,
    );
    expect(credentials).toEqual({
      accessKeyId: `ASIA${issued}`,
      secretAccessKey: `secret-${issued}`,
      sessionToken: `session-${issued}&more`,
      expiration: new Date(now + HOUR),
    });
  });

  it('a refusal is permanent, throttling, a server error or an unreachable STS transient', async () => {
    const request = { roleArn: 'arn:aws:iam::444455556666:role/deployer', sessionName: 's' };
    stsAnswer = () => stsError(403, 'AccessDenied', 'not authorized to perform: sts:AssumeRole');
    const refused = await signed()(request).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermanentError);
    expect(String((refused as Error).message)).toContain('AccessDenied');
    expect(String((refused as Error).message)).toContain('STS AssumeRole');
    stsAnswer = () => stsError(400, 'Throttling', 'Rate exceeded');
    await expect(signed()(request)).rejects.toBeInstanceOf(TransientError);
    stsAnswer = () => ({ status: 503, xml: '' });
    await expect(signed()(request)).rejects.toBeInstanceOf(TransientError);
    stsAnswer = () => ({ status: 200, xml: '<AssumeRoleResponse></AssumeRoleResponse>' });
    await expect(signed()(request)).rejects.toThrow(/returned no credentials/);
    const unused = createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const port = (unused.address() as AddressInfo).port;
    await new Promise<void>((resolve) => unused.close(() => resolve()));
    const closed = signedAssumeRole({
      region: 'eu-west-1',
      endpoint: new URL(`http://127.0.0.1:${port}/`),
      credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }),
    });
    await expect(closed(request)).rejects.toBeInstanceOf(TransientError);
  });
});

describe('AssumedRoleCredentials', () => {
  const role = { roleArn: 'arn:aws:iam::444455556666:role/deployer', externalId: 'ext-1' };

  it('assumes the role with RoleArn, ExternalId and the default session name, once while valid', async () => {
    const cache = new AssumedRoleCredentials(signed, () => now);
    const provider = cache.provider(role);
    const [first, concurrent] = await Promise.all([provider(), provider()]);
    now += 50 * 60 * 1000;
    const later = await provider();
    expect(first).toEqual(concurrent);
    expect(later).toEqual(first);
    expect(stsCalls.map((c) => c.params)).toEqual([
      {
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: role.roleArn,
        ExternalId: 'ext-1',
        RoleSessionName: 'sagemaker-rollouts',
      },
    ]);
    expect(first).toMatchObject({ secretAccessKey: first.secretAccessKey, sessionToken: first.sessionToken });
  });

  it('renews 5 minutes before expiry and keeps one entry per role and external id', async () => {
    const cache = new AssumedRoleCredentials(signed, () => now);
    const first = await cache.get(role);
    now = first.expiration!.getTime() - 5 * 60 * 1000;
    const renewed = await cache.get(role);
    expect(renewed.accessKeyId).not.toBe(first.accessKeyId);
    await cache.get({ ...role, externalId: 'ext-2' });
    await cache.get({ roleArn: role.roleArn, sessionName: 'ops' });
    expect(stsCalls).toHaveLength(4);
    expect(stsCalls[2]!.params).toMatchObject({ RoleArn: role.roleArn, ExternalId: 'ext-2' });
    expect(stsCalls[3]!.params).toMatchObject({ RoleArn: role.roleArn, RoleSessionName: 'ops' });
    expect(stsCalls[3]!.params).not.toHaveProperty('ExternalId');
  });
});

describe('clients per stage', () => {
  it('gives a cross-account stage a client whose credentials come from AssumeRole, cached per role', async () => {
    const crossAccount = { roleArn: 'arn:aws:iam::777788889999:role/prod-deployer', externalId: 'ext-prod' };
    const client = sageMakerClientFor(crossAccount);
    expect(sageMakerClientFor({ ...crossAccount })).toBe(client);
    expect(sageMakerClientFor()).toBe(sageMakerClient());
    expect(sageMakerClientFor(crossAccount)).not.toBe(sageMakerClient());

    const identity = await client.config.credentials();
    expect(identity.accessKeyId).toMatch(/^ASIA/);
    await sageMakerRuntimeClientFor(crossAccount).config.credentials();
    await client.config.credentials();
    expect(stsCalls.map((c) => c.params)).toEqual([
      expect.objectContaining({
        RoleArn: crossAccount.roleArn,
        ExternalId: 'ext-prod',
        RoleSessionName: 'sagemaker-rollouts',
      }),
    ]);
    expect(await client.config.region()).toBe(process.env.AWS_REGION || 'us-east-1');
  });
});

describe('clients per stage region', () => {
  it('gives a stage in another region clients there, cached per region and role; the home region’s are the service’s', async () => {
    const home = process.env.AWS_REGION || 'us-east-1';
    const eu = sageMakerClientFor(undefined, 'eu-west-1');
    expect(await eu.config.region()).toBe('eu-west-1');
    expect(sageMakerClientFor(undefined, 'eu-west-1')).toBe(eu);
    expect(sageMakerClientFor(undefined, home)).toBe(sageMakerClient());
    expect(await sageMakerRuntimeClientFor(undefined, 'eu-west-1').config.region()).toBe('eu-west-1');
    expect(await cloudWatchClientFor(undefined, 'eu-west-1').config.region()).toBe('eu-west-1');
    expect(await applicationAutoScalingClientFor(undefined, 'eu-west-1').config.region()).toBe('eu-west-1');
    expect(cloudWatchClientFor(undefined, home)).toBe(cloudWatchClient());

    const crossAccount = { roleArn: 'arn:aws:iam::777788889999:role/eu-deployer' };
    const euCross = sageMakerClientFor(crossAccount, 'eu-west-1');
    expect(euCross).not.toBe(eu);
    expect(sageMakerClientFor(crossAccount, 'eu-west-1')).toBe(euCross);
    expect(sageMakerClientFor(crossAccount)).not.toBe(euCross);
    expect(await euCross.config.region()).toBe('eu-west-1');
    expect((await euCross.config.credentials()).accessKeyId).toMatch(/^ASIA/);
    expect(stsCalls.map((c) => c.params)).toEqual([
      expect.objectContaining({ RoleArn: crossAccount.roleArn }),
    ]);
  });
});

describe('resetClients', () => {
  it('makes the next use build new clients', () => {
    const before = sageMakerClient();
    const crossAccount = { roleArn: 'arn:aws:iam::444455556666:role/reset' };
    const beforeCross = sageMakerClientFor(crossAccount);
    expect(sageMakerClient()).toBe(before);
    resetClients();
    expect(sageMakerClient()).not.toBe(before);
    expect(sageMakerClientFor(crossAccount)).not.toBe(beforeCross);
  });
});

describe('endpoint from AWS_ENDPOINT_URL_SAGEMAKER and real error responses', () => {
  let server: Server;
  const seen: { target: string | undefined; authorization: string | undefined }[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const target = request.headers['x-amz-target'] as string | undefined;
        seen.push({ target, authorization: request.headers.authorization });
        const name = (JSON.parse(body) as { EndpointName: string }).EndpointName;
        const message =
          target === 'SageMaker.DescribeEndpoint'
            ? `Could not find endpoint "arn:aws:sagemaker:us-east-1:111122223333:endpoint/${name}".`
            : `Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:111122223333:endpoint/${name}".`;
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ __type: 'ValidationException', message }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ENDPOINT_URL_SAGEMAKER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    process.env.AWS_REGION = 'us-east-1';
  });

  afterAll(async () => {
    restoreProcessEnv(saved);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends to the configured endpoint with assumed-role credentials and parses SageMaker errors', async () => {
    // A role not used above, so its client is created after the variable was set.
    const crossAccount = { roleArn: 'arn:aws:iam::123456789012:role/qa-deployer' };
    const endpoints = new SageMakerStageEndpoints(
      sageMakerClientFor(crossAccount),
      new SageMakerRuntimeClient({ region: 'us-east-1' }),
    );
    expect(await endpoints.describe('churn-qa')).toBeNull();
    await expect(endpoints.delete('churn-qa')).rejects.toBeInstanceOf(EndpointBusyError);
    expect(seen.map((s) => s.target)).toEqual(['SageMaker.DescribeEndpoint', 'SageMaker.DeleteEndpoint']);

    resetClients();
    const defaultEndpoints = new SageMakerStageEndpoints(
      sageMakerClientFor(),
      new SageMakerRuntimeClient({ region: 'us-east-1' }),
    );
    expect(await defaultEndpoints.describe('churn-prod')).toBeNull();
    expect(seen[2]?.target).toBe('SageMaker.DescribeEndpoint');
    expect(seen[2]?.authorization).toContain('Credential=test/');
    expect(stsCalls[0]?.params.RoleArn).toBe(crossAccount.roleArn);
    expect(seen[0]?.authorization).toMatch(/Credential=ASIA\d+\//);
  });
});
