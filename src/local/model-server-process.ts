import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The example model server (examples/model-server) as a child process, as a container runs
 * behind a SageMaker endpoint: `serve.ts serve --weights <file> --port <n>`.
 */
export interface ModelServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export class ModelServerStartError extends Error {
  override readonly name = 'ModelServerStartError';
}

const SERVE = resolve(__dirname, '../../examples/model-server/serve.ts');

export async function startModelServerProcess(options: {
  weightsPath: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  startTimeoutMs?: number;
}): Promise<ModelServerProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      SERVE,
      'serve',
      '--weights',
      options.weightsPath,
      '--port',
      String(options.port ?? 0),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(
        new ModelServerStartError(
          `model server did not start within ${options.startTimeoutMs ?? 15_000} ms: ${err}`,
        ),
      );
    }, options.startTimeoutMs ?? 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        done(match[1]!);
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new ModelServerStartError(`model server exited with code ${code}: ${err.trim()}`));
    });
  });
  return { url, pid: child.pid!, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}
