import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AssumedRoleCredentials,
  resetClients,
  sageMakerClient,
  sageMakerClientFor,
  sageMakerRuntimeClientFor,
} from '../../src/adapters/clients';
import { SageMakerStageEndpoints } from '../../src/adapters/sagemaker-endpoints';
import { EndpointBusyError } from '../../src/errors';

const sts = mockClient(STSClient);
const HOUR = 60 * 60 * 1000;
let now = Date.now();
let issued = 0;

const assumeRoleAnswer = () => {
  issued += 1;
  return {
    $metadata: {},
    Credentials: {
      AccessKeyId: `ASIA${issued}`,
      SecretAccessKey: `secret-${issued}`,
      SessionToken: `session-${issued}`,
      Expiration: new Date(now + HOUR),
    },
  };
};

beforeEach(() => {
  sts.reset();
  sts.on(AssumeRoleCommand).callsFake(async () => assumeRoleAnswer());
});

describe('AssumedRoleCredentials', () => {
  const role = { roleArn: 'arn:aws:iam::444455556666:role/deployer', externalId: 'ext-1' };

  it('assumes the role with RoleArn, ExternalId and the default session name, once while valid', async () => {
    const cache = new AssumedRoleCredentials(
      () => new STSClient({ region: 'us-east-1' }),
      () => now,
    );
    const provider = cache.provider(role);
    const [first, concurrent] = await Promise.all([provider(), provider()]);
    now += 50 * 60 * 1000;
    const later = await provider();
    expect(first).toEqual(concurrent);
    expect(later).toEqual(first);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: role.roleArn,
      ExternalId: 'ext-1',
      RoleSessionName: 'sagemaker-rollouts',
    });
    expect(first).toMatchObject({ secretAccessKey: first.secretAccessKey, sessionToken: first.sessionToken });
  });

  it('renews 5 minutes before expiry and keeps one entry per role and external id', async () => {
    const cache = new AssumedRoleCredentials(
      () => new STSClient({ region: 'us-east-1' }),
      () => now,
    );
    const first = await cache.get(role);
    now = first.expiration!.getTime() - 5 * 60 * 1000;
    const renewed = await cache.get(role);
    expect(renewed.accessKeyId).not.toBe(first.accessKeyId);
    await cache.get({ ...role, externalId: 'ext-2' });
    await cache.get({ roleArn: role.roleArn, sessionName: 'ops' });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 4);
    expect(sts).toHaveReceivedNthCommandWith(AssumeRoleCommand, 3, {
      RoleArn: role.roleArn,
      ExternalId: 'ext-2',
    });
    expect(sts.commandCalls(AssumeRoleCommand)[3]?.args[0].input).toEqual({
      RoleArn: role.roleArn,
      RoleSessionName: 'ops',
    });
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
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: crossAccount.roleArn,
      ExternalId: 'ext-prod',
      RoleSessionName: 'sagemaker-rollouts',
    });
    expect(await client.config.region()).toBe(process.env.AWS_REGION || 'us-east-1');
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
    process.env = saved;
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
    const assumed = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(assumed?.RoleArn).toBe(crossAccount.roleArn);
    expect(seen[0]?.authorization).toMatch(/Credential=ASIA\d+\//);
  });
});
