import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRegion } from '../../src/adapters/aws-region';
import { restoreProcessEnv } from '../support/process-env';
import { BIN, ROOT } from './child';

/*
 * Deploy and CLI pick the region as the AWS CLI does: --region, AWS_REGION, AWS_DEFAULT_REGION,
 * the profile's region in the shared config file, else us-east-1.
 */
let dir: string;
let configFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rollouts-region-'));
  configFile = join(dir, 'config');
  writeFileSync(configFile, '[default]\nregion = ap-south-1\n\n[profile ops]\nregion = eu-north-1\n');
  // fake keys for the local endpoint below; a profile's keys come from this file, not the environment
  writeFileSync(
    join(dir, 'credentials'),
    '[default]\naws_access_key_id = AKIDTEST\naws_secret_access_key = secret\n\n[ops]\naws_access_key_id = AKIDTEST\naws_secret_access_key = secret\n',
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('resolveRegion', () => {
  it('takes the flag, then AWS_REGION, AWS_DEFAULT_REGION, the profile, the default profile, us-east-1', async () => {
    const env = { AWS_CONFIG_FILE: configFile };
    const all = { ...env, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1', AWS_PROFILE: 'ops' };
    expect(await resolveRegion({ flag: 'sa-east-1', env: all })).toEqual({
      region: 'sa-east-1',
      source: '--region',
    });
    expect(await resolveRegion({ env: all })).toEqual({ region: 'eu-west-1', source: 'AWS_REGION' });
    const { AWS_REGION: _, ...noRegion } = all;
    expect(await resolveRegion({ env: noRegion })).toEqual({
      region: 'eu-central-1',
      source: 'AWS_DEFAULT_REGION',
    });
    expect(await resolveRegion({ env: { ...env, AWS_PROFILE: 'ops' } })).toEqual({
      region: 'eu-north-1',
      source: 'profile ops',
    });
    // the flag's profile wins over AWS_PROFILE
    expect(await resolveRegion({ profile: 'default', env: { ...env, AWS_PROFILE: 'ops' } })).toEqual({
      region: 'ap-south-1',
      source: 'profile default',
    });
    expect(await resolveRegion({ env })).toEqual({ region: 'ap-south-1', source: 'profile default' });
    expect(await resolveRegion({ env: { ...env, AWS_PROFILE: 'nobody' } })).toEqual({
      region: 'us-east-1',
      source: 'default',
    });
    expect(await resolveRegion({ env: { AWS_CONFIG_FILE: join(dir, 'missing') } })).toEqual({
      region: 'us-east-1',
      source: 'default',
    });
  });
});

/** The child's environment: nothing of ours (no AWS_*), a HOME with no ~/.aws. */
const cleanEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  return {
    ...env,
    HOME: dir,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    ...extra,
  };
};

const run = (command: string, args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });

describe('the operator CLI', () => {
  /** An AWS-compatible endpoint that records the region each request is signed for. */
  let server: Server;
  let url: string;
  const scopes: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(request.headers.authorization ?? '');
      scopes.push(`${request.headers['x-test-case'] ?? ''}${scope?.[2]}:${scope?.[1]}`);
      request.resume();
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
          message: 'Requested resource not found',
        }),
      );
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it.each([
    ['AWS_REGION', { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1' }, [], 'eu-west-1'],
    ['AWS_DEFAULT_REGION', { AWS_DEFAULT_REGION: 'eu-central-1' }, [], 'eu-central-1'],
    ['profile ops', { AWS_PROFILE: 'ops' }, [], 'eu-north-1'],
    ['profile default', { AWS_PROFILE: 'ops' }, ['--profile', 'default'], 'ap-south-1'],
    ['--region', { AWS_REGION: 'eu-west-1' }, ['--region', 'sa-east-1'], 'sa-east-1'],
  ] as const)(
    'signs for the region from %s, and names it when the table is missing',
    async (source, env, flags, region) => {
      const before = scopes.length;
      const result = await run(
        process.execPath,
        [BIN, 'status', 'churn-model', '--stage', 'test', ...flags],
        cleanEnv({
          ...env,
          AWS_ENDPOINT_URL: url,
          AWS_ACCESS_KEY_ID: 'AKIDTEST',
          AWS_SECRET_ACCESS_KEY: 'secret',
        }),
      );
      expect(result.stderr).toContain(
        `table sagemaker-rollouts-test not found in ${region}, from ${source}:`,
      );
      expect(result.code).toBe(4);
      const signed = scopes.slice(before);
      expect(signed.length).toBeGreaterThan(0);
      expect(new Set(signed)).toEqual(new Set([`dynamodb:${region}`]));
    },
    30_000,
  );
});

describe('osls', () => {
  const resolvedRegion = async (env: Record<string, string>, flags: string[] = []) => {
    // osls's own script: npx in front of it spent about half a second of CPU finding it
    const result = await run(
      process.execPath,
      [
        join(ROOT, 'node_modules/osls/bin/serverless.js'),
        'print',
        '--stage',
        'test',
        '--path',
        'provider.region',
        ...flags,
      ],
      cleanEnv({ ...env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' }),
    );
    if (result.code !== 0)
      throw new Error(`osls print failed (${result.code}):\n${result.stdout}${result.stderr}`);
    return result.stdout.trim();
  };

  it('deploys to the region the user’s environment names, as the CLI reads it', async () => {
    // one run (10-50 s of a busy core): serverless.yml's variable through serverless/region.cjs
    // to the profile's region; the rest of the order through the same file in-process below
    expect(await resolvedRegion({ AWS_PROFILE: 'ops' })).toBe('eu-north-1');
  }, 120_000);

  it('takes osls’s --region and --aws-profile, then AWS_REGION, AWS_DEFAULT_REGION and the profile', async () => {
    const { region } = require('../../serverless/region.cjs') as {
      region: (input: { options: Record<string, string> }) => Promise<string>;
    };
    const saved = { ...process.env };
    const withEnv = (env: Record<string, string>) => {
      for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
      Object.assign(process.env, { AWS_CONFIG_FILE: configFile }, env);
    };
    try {
      withEnv({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1', AWS_PROFILE: 'ops' });
      expect(await region({ options: {} })).toBe('eu-west-1');
      expect(await region({ options: { region: 'sa-east-1' } })).toBe('sa-east-1');
      withEnv({ AWS_DEFAULT_REGION: 'eu-central-1', AWS_PROFILE: 'ops' });
      expect(await region({ options: {} })).toBe('eu-central-1');
      withEnv({ AWS_PROFILE: 'ops' });
      expect(await region({ options: {} })).toBe('eu-north-1');
      expect(await region({ options: { 'aws-profile': 'default' } })).toBe('ap-south-1');
      expect(await region({ options: { region: 'sa-east-1' } })).toBe('sa-east-1');
      withEnv({});
      expect(await region({ options: {} })).toBe('ap-south-1');
    } finally {
      restoreProcessEnv(saved);
    }
  });
});
