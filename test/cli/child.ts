import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { World } from '../e2e/helpers';

export const ROOT = resolve(__dirname, '../..');
export const BIN = resolve(ROOT, 'bin/sagemaker-rollouts.cjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI as its own process against the local stack. While the child waits, this process
 * keeps the stack going: the control function only runs when the stack delivers the events the
 * child put on the bus. With `advanceMs`, simulated time also moves on by that much per round
 * (a rollout the child follows then progresses while it waits).
 */
export const runCliChild = async (
  world: World,
  args: string[],
  options: { env?: Record<string, string | undefined>; advanceMs?: number } = {},
): Promise<Run> => {
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
  let code: number | null | undefined;
  const closed = new Promise<void>((done) =>
    child.on('close', (exitCode) => {
      code = exitCode;
      done();
    }),
  );
  while (code === undefined) {
    if (options.advanceMs) await world.stack.run(options.advanceMs);
    else await world.stack.settle();
    await Promise.race([closed, new Promise((done) => setTimeout(done, 25))]);
  }
  return { code, stdout, stderr };
};
