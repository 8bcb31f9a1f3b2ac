import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);

const { ownSourcesOnlyMap } = createRequire(import.meta.url)('../../serverless/esbuild-plugins.cjs') as {
  ownSourcesOnlyMap: (map: Record<string, unknown>) => {
    sources: string[];
    names: string[];
    mappings: string;
  };
};

describe('ownSourcesOnlyMap', () => {
  it('keeps the service’s own mappings and leaves dependency code unmapped, one segment per run', () => {
    const map = {
      version: 3,
      sources: [
        '../node_modules/@aws-sdk/a.js',
        '../src/wiring.ts',
        '../node_modules/b.js',
        '../handlers/x.ts',
      ],
      sourcesContent: ['sdk', 'ours', 'dep', 'handler'],
      names: ['sdkName', 'deps', 'handler'],
      mappings: encode([
        [
          [0, 0, 0, 0, 0],
          [10, 0, 1, 0],
          [20, 1, 5, 2, 1],
          [30, 2, 0, 0],
          [40, 2, 1, 0],
          [50, 3, 7, 1, 2],
        ],
      ]),
    };
    const out = ownSourcesOnlyMap(map);
    expect(out.sources).toEqual(['../src/wiring.ts', '../handlers/x.ts']);
    expect(out.names).toEqual(['deps', 'handler']);
    expect(out).not.toHaveProperty('sourcesContent');
    expect(decode(out.mappings)).toEqual([[[0], [20, 0, 5, 2, 0], [30], [50, 1, 7, 1, 1]]]);
  });
});

/**
 * The plugins as the functions are built with them (serverless.yml, bench/cold-start.ts): a
 * bundled SDK client, run in a process of its own, against a local endpoint.
 */
describe('the function bundles’ SDK plugins', () => {
  const plugins = createRequire(import.meta.url)('../../serverless/esbuild-plugins.cjs') as Plugin[];
  const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const dir = mkdtempSync(join(tmpdir(), 'rollouts-plugins-'));
  const bundle = join(dir, 'invoke.js');
  let inputs: string[] = [];
  let server: Server;
  let url: string;
  const seen: { path: string | undefined; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    const entry = join(dir, 'invoke.ts');
    writeFileSync(
      entry,
      `import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
const client = new SageMakerRuntimeClient({ region: 'eu-west-1', maxAttempts: 1 });
client
  .send(new InvokeEndpointCommand({ EndpointName: 'churn-qa', Body: '{}', ContentType: 'application/json' }))
  .then(
    (out) => console.log(JSON.stringify({ body: Buffer.from(out.Body).toString('utf8') })),
    (error) => console.log(JSON.stringify({ error: error.name, message: error.message })),
  );
`,
    );
    const result = await build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      mainFields: ['module', 'main'],
      plugins,
      metafile: true,
      nodePaths: [join(repoRoot, 'node_modules')],
      logLevel: 'error',
    });
    inputs = Object.keys(result.metafile.inputs);
    server = createServer((request, response) => {
      seen.push({ path: request.url, authorization: request.headers.authorization });
      if (request.url === '/container-credentials') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            AccessKeyId: 'ASIACONTAINER',
            SecretAccessKey: 'container-secret',
            Token: 'container-token',
            Expiration: new Date(Date.now() + 3_600_000).toISOString(),
          }),
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"score":0.5}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((done) => server.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the bundle with only these variables (and PATH), so no profile or role leaks in. */
  const run = async (env: Record<string, string>) => {
    const home = mkdtempSync(join(tmpdir(), 'rollouts-home-'));
    // a shared credentials file the Node.js default chain would read: the bundle must not
    writeFileSync(
      join(home, 'credentials'),
      '[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n',
    );
    const { stdout } = await execFileAsync(process.execPath, [bundle], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
        AWS_ENDPOINT_URL: url,
        ...env,
      },
    });
    rmSync(home, { recursive: true, force: true });
    return JSON.parse(stdout) as { body?: string; error?: string; message?: string };
  };

  it('leave out the default chain’s other links, the event-stream codec and the SDK manifests', () => {
    const sdkInputs = inputs.filter((path) => path.includes('node_modules'));
    expect(sdkInputs.some((path) => path.includes('@aws-sdk/client-sagemaker-runtime'))).toBe(true);
    for (const left of [
      'credential-provider-node',
      'credential-provider-ini',
      'credential-provider-sso',
      'credential-provider-process',
      'credential-provider-web-identity',
      'credential-provider-imds',
      'nested-clients',
      'submodules/event-streams',
    ]) {
      expect(sdkInputs.filter((path) => path.includes(left))).toEqual([]);
    }
    const code = readFileSync(bundle, 'utf8');
    // the client's manifest is reduced to its name and version (the user agent's)
    expect(code).not.toContain('"devDependencies"');
    expect(code).toMatch(/"@aws-sdk\/client-sagemaker-runtime"/);
  });

  it('sign with the credentials Lambda puts in the environment, not a shared profile', async () => {
    const answer = await run({ AWS_ACCESS_KEY_ID: 'AKIDENVIRONMENT', AWS_SECRET_ACCESS_KEY: 'env-secret' });
    expect(answer).toEqual({ body: '{"score":0.5}' });
    const call = seen.at(-1)!;
    expect(call.path).toBe('/endpoints/churn-qa/invocations');
    expect(call.authorization).toMatch(/Credential=AKIDENVIRONMENT\/\d{8}\/eu-west-1\/sagemaker\//);

    const none = await run({});
    expect(none.error).toBe('CredentialsProviderError');
    expect(seen.at(-1)).toBe(call);
  });

  it('fall back to a container credentials endpoint when one is configured', async () => {
    const answer = await run({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${url}/container-credentials` });
    expect(answer).toEqual({ body: '{"score":0.5}' });
    expect(seen.at(-2)!.path).toBe('/container-credentials');
    expect(seen.at(-1)!.authorization).toMatch(/Credential=ASIACONTAINER\//);
  });
});
