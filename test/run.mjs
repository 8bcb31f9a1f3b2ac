#!/usr/bin/env node
// `npm test`: the typecheck, Biome and the tests side by side. tsc and Biome use one core each for
// about half a minute; run before the tests, they left the other core idle. Their output is held
// back and printed when each ends, so it does not cut into the test report. Arguments go to
// vitest (`npm test -- test/cli`). The exit code is the first failure's, typecheck first.
import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` };

const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const children = new Set();

/** Runs a command; resolves with its exit code (1 when it could not start or was killed). */
const run = (name, command, args, { quiet }) =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env,
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    children.add(child);
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const finish = (code) => {
      children.delete(child);
      if (quiet) {
        if (code === 0) process.stderr.write(`${name}: ok (${seconds()})\n`);
        else process.stderr.write(`\n${name} failed (exit ${code}, ${seconds()}):\n${output}\n`);
      }
      resolve(code);
    };
    child.on('error', (error) => {
      output += `${error.message}\n`;
      finish(1);
    });
    child.on('close', (code) => finish(code ?? 1));
  });

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}

const codes = await Promise.all([
  // incremental: a run after a first one checks only what changed since (about 10 s of CPU
  // instead of 25); the state is kept in .local, which git ignores
  run(
    'typecheck (tsc --noEmit)',
    'tsc',
    ['--noEmit', '--incremental', '--tsBuildInfoFile', '.local/tsc.tsbuildinfo'],
    {
      quiet: true,
    },
  ),
  run('lint (biome check .)', 'biome', ['check', '.'], { quiet: true }),
  run('tests', 'vitest', ['run', ...process.argv.slice(2)], { quiet: false }),
]);
const failed = codes.find((code) => code !== 0);
if (failed !== undefined) {
  const names = ['typecheck', 'lint', 'tests'].filter((_, index) => codes[index] !== 0);
  process.stderr.write(`npm test failed: ${names.join(', ')}\n`);
}
process.exit(failed ?? 0);
