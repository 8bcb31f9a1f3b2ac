import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { runCli } from '../../src/cli/cli';
import type { World } from '../e2e/helpers';

export const ROOT = resolve(__dirname, '../..');
export const BIN = resolve(ROOT, 'bin/sagemaker-rollouts.cjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  env?: Record<string, string | undefined>;
  advanceMs?: number;
}

/**
 * Keeps the local stack going until `finished` resolves: the control function only runs when the
 * stack delivers the events the CLI put on the bus. With `advanceMs`, simulated time also moves on
 * by that much per round (a rollout the CLI follows then progresses while it waits).
 */
const driveStackUntil = async (
  world: Pick<World, 'stack'>,
  finished: Promise<unknown>,
  options: RunOptions,
) => {
  let done = false;
  const marked = finished.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  while (!done) {
    if (options.advanceMs) await world.stack.run(options.advanceMs);
    else await world.stack.settle();
    await Promise.race([marked, new Promise((wait) => setTimeout(wait, 25))]);
  }
};

/** Runs the CLI as its own process against the local stack, as `bin/sagemaker-rollouts.cjs`. */
export const runCliChild = async (world: World, args: string[], options: RunOptions = {}): Promise<Run> => {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...world.stack.env(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const closed = new Promise<number | null>((done) => child.on('close', (exitCode) => done(exitCode)));
  await driveStackUntil(world, closed, options);
  return { code: await closed, stdout, stderr };
};

/**
 * Runs the CLI in this process (its `runCli`, as `src/cli/main.ts` calls it, with stdout a pipe)
 * against the local stack, which is already this process's environment. `env` is laid over
 * process.env for the run, because the SDK's default credential chain reads the keys from there.
 * It must not hold endpoints: the SDK clients the CLI shares with the in-process handlers are
 * made once, so an endpoint changed here would be ignored (run such cases with runCliChild).
 */
export const runCliHere = async (
  world: Pick<World, 'stack'>,
  args: string[],
  options: RunOptions = {},
): Promise<Run> => {
  const overrides = options.env ?? {};
  const endpoint = Object.keys(overrides).find((name) => name.startsWith('AWS_ENDPOINT_URL'));
  if (endpoint) throw new Error(`runCliHere cannot change ${endpoint}: use runCliChild`);
  const saved = Object.fromEntries(Object.keys(overrides).map((name) => [name, process.env[name]]));
  const assign = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  let stdout = '';
  let stderr = '';
  assign(overrides);
  try {
    const finished = runCli(args, {
      stdout: { write: (text: string) => (stdout += text), isTTY: false },
      stderr: { write: (text: string) => (stderr += text) },
      env: { ...process.env, ...world.stack.env(), ...overrides },
    });
    await driveStackUntil(world, finished, options);
    return { code: await finished, stdout, stderr };
  } finally {
    assign(saved);
  }
};

/** The CLI in this process with no local stack to drive: usage, help and what is refused before anything is sent. */
export const runCliAlone = async (args: string[]): Promise<Run> => {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text) },
    env: { ...process.env },
  });
  return { code, stdout, stderr };
};
