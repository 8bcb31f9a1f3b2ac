import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWeights, predict } from '../../examples/model-server/model';
import { type RunningModelServer, startModelServer } from '../../examples/model-server/server';

const GOOD = 'examples/model-server/weights/v1-good.json';
const BAD = 'examples/model-server/weights/v2-log-merchant-risk.json';

const running: RunningModelServer[] = [];
async function serve(weightsPath: string): Promise<RunningModelServer> {
  const server = await startModelServer({ weightsPath, port: 0 });
  running.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const invoke = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('example model server: SageMaker container contract', () => {
  it('answers GET /ping with 200 and an empty body once the weights are loaded', async () => {
    const { url } = await serve(GOOD);
    const res = await fetch(`${url}/ping`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('scores POST /invocations with the logistic model from the weights file', async () => {
    const { url } = await serve(GOOD);
    // At the feature means every standardised value is 0, so the score is sigmoid(bias) = sigmoid(-2).
    const res = await invoke(
      url,
      JSON.stringify({
        instances: [
          [120, 400, 0.3, 0.1],
          [900, 10, 0.9, 1],
        ],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const { predictions } = (await res.json()) as { predictions: number[] };
    expect(predictions[0]).toBeCloseTo(1 / (1 + Math.exp(2)), 10);
    // A large amount from a new account at a risky merchant scores far higher.
    expect(predictions[1]).toBeGreaterThan(0.9);
  });

  it('accepts CSV, one instance per line, with the same scores as JSON', async () => {
    const { url } = await serve(GOOD);
    const csv = await invoke(url, '120,400,0.3,0.1\n900,10,0.9,1\n', { 'content-type': 'text/csv' });
    const json = await invoke(
      url,
      JSON.stringify({
        instances: [
          [120, 400, 0.3, 0.1],
          [900, 10, 0.9, 1],
        ],
      }),
    );
    expect(csv.status).toBe(200);
    expect(await csv.json()).toEqual(await json.json());
  });

  it('answers 4XX with the reason for input it cannot take', async () => {
    const { url } = await serve(GOOD);
    const notJson = await invoke(url, '{nope');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: 'request body is not JSON' });
    const wrongWidth = await invoke(url, JSON.stringify({ instances: [[1, 2, 3]] }));
    expect(wrongWidth.status).toBe(400);
    expect(((await wrongWidth.json()) as { error: string }).error).toContain('instance 0 has 3 values');
    const csv = await invoke(url, '1,2,x,4', { 'content-type': 'text/csv' });
    expect(csv.status).toBe(400);
    expect(((await csv.json()) as { error: string }).error).toContain('column 3');
    const type = await invoke(url, 'a', { 'content-type': 'application/x-npy' });
    expect(type.status).toBe(415);
    const accept = await invoke(url, JSON.stringify({ instances: [[1, 2, 3, 4]] }), { accept: 'text/csv' });
    expect(accept.status).toBe(406);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
  });

  it('version 2 fails with 500 on the inputs its log transform cannot take, and only on those', async () => {
    const { url } = await serve(BAD);
    const fine = await invoke(url, JSON.stringify({ instances: [[120, 400, 0.25, 0]] }));
    expect(fine.status).toBe(200);
    const zeroRisk = await invoke(url, JSON.stringify({ instances: [[120, 400, 0, 0]] }));
    expect(zeroRisk.status).toBe(500);
    expect(((await zeroRisk.json()) as { error: string }).error).toBe(
      'model fraud-score v2 produced no finite score',
    );
    // The good version scores the same input.
    const good = await loadWeights(GOOD);
    expect(predict(good, [120, 400, 0, 0])).toBeGreaterThan(0);
  });

  it('answers /ping and /invocations with 503 when its weights cannot be loaded', async () => {
    const path = join(tmpdir(), `weights-${process.pid}-broken.json`);
    await writeFile(path, JSON.stringify({ name: 'x', version: '1', features: ['a'], mean: [0] }));
    const server = await serve(path);
    expect(server.loadError?.message).toContain('scale');
    const ping = await fetch(`${server.url}/ping`);
    expect(ping.status).toBe(503);
    expect((await invoke(server.url, '{}')).status).toBe(503);
  });

  it('runs as a process: `serve.ts serve --port N` listens on N with the given weights', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'examples/model-server/serve.ts', 'serve', '--weights', GOOD, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      expect((await fetch(`${url}/ping`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses a bad --port with exit code 2 and the reason', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'examples/model-server/serve.ts', '--port', 'eighty'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--port must be an integer');
  });
});
