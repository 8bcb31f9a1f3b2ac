import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from './child';

/** Runs the launcher with its stdout read end closed before it writes anything. */
const runWithStdoutClosed = (args: string[]) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code, signal) => done({ code, signal, stderr }));
  });

describe('a reader that stops early', () => {
  it('ends the CLI quietly with exit 0 when stdout is closed', async () => {
    for (const args of [['--help'], ['status', '--help'], ['--version']]) {
      const run = await runWithStdoutClosed(args);
      expect(run, args.join(' ')).toEqual({ code: 0, signal: null, stderr: '' });
    }
  }, 30_000);

  it('`--help | head -1` prints the first line, nothing on stderr, exit 0', () => {
    const shell = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" --help | head -1; echo "cli exit \${PIPESTATUS[0]}" >&2`],
      { cwd: ROOT, encoding: 'utf8', timeout: 20_000 },
    );
    expect(shell.stdout).toBe('Usage: sagemaker-rollouts [options] [command]\n');
    expect(shell.stderr).toBe('cli exit 0\n');
  });
});
