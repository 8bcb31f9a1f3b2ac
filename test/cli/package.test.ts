import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json';
import { ROOT } from './child';

/*
 * The CLI as a user installs it: from `npm pack` output, installed with production dependencies
 * only (`npm install --omit=dev <tarball>`, no tsx), and also unpacked where no node_modules exists
 * on the way up, so that it runs with nothing but what the tarball holds.
 */
let dir: string;
let packageDir: string;
let tarball: string;
/** A file in dist/ that is not the bundle, such as the config copy `npm run package` writes there. */
const STRAY = join(ROOT, 'dist', `stray-${process.pid}.json`);

const run = (args: string[]) => {
  try {
    const stdout = execFileSync(process.execPath, [join(packageDir, 'bin/sagemaker-rollouts.cjs'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir },
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { code: failed.status, stdout: failed.stdout, stderr: failed.stderr };
  }
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rollouts-pack-'));
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  writeFileSync(STRAY, '{"accountId":"111122223333"}\n');
  // prepack bundles src/cli into dist/cli.cjs
  try {
    execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, stdio: 'pipe' });
  } finally {
    rmSync(STRAY, { force: true });
  }
  tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'))!;
  execFileSync('tar', ['xzf', join(dir, tarball), '-C', dir]);
  packageDir = join(dir, 'package');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed CLI stands alone', () => {
  it('holds exactly the bundle, its launcher, the README, the license and the config schema', () => {
    const files = readdirSync(packageDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(packageDir.length + 1))
      .sort();
    expect(files).toEqual([
      'LICENSE',
      'README.md',
      'bin/sagemaker-rollouts.cjs',
      'dist/cli.cjs',
      'package.json',
      'rollouts.config.schema.json',
    ]);
    expect(existsSync(STRAY)).toBe(false);
    expect(readdirSync(dir)).not.toContain('node_modules');
  });

  it('declares no runtime dependency: the bundle carries what it needs', () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies']) {
      expect(manifest[field] ?? {}, field).toEqual({});
    }
  });

  it("needs no module outside Node itself (but the SDK's optional signers it loads in a try)", () => {
    const bundle = readFileSync(join(packageDir, 'dist/cli.cjs'), 'utf8');
    const required = new Set([...bundle.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]!));
    const builtin = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
    const outside = [...required].filter((name) => !builtin.has(name));
    expect(outside.sort()).toEqual(['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a']);
  });

  it('prints its version, the help and per-command help', () => {
    const version = run(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${packageJson.version}\n` });

    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: sagemaker-rollouts [options] [command]');
    expect(help.stdout).toContain('Exit codes:');

    const status = run(['status', '--help']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Usage: sagemaker-rollouts status [options] [target]');
    expect(status.stdout).toContain('--wait');

    const promote = run(['promote', '--help']);
    expect(promote.stdout).toContain('--full');

    const wrong = run(['status', '--wat']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("unknown option '--wat'");
  });

  it('installs from the tarball with production dependencies only, and runs from node_modules/.bin', () => {
    // the registry is needed here, as for any user's install; the cache makes reruns quick
    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    execFileSync(
      'npm',
      [
        'install',
        '--omit=dev',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        join(dir, tarball),
      ],
      { cwd: project, stdio: 'pipe', timeout: 240_000 },
    );
    const bin = join(project, 'node_modules/.bin/sagemaker-rollouts');
    const installed = (args: string[]) =>
      execFileSync(bin, args, { cwd: project, env: { PATH: process.env.PATH, HOME: dir }, encoding: 'utf8' });
    expect(installed(['--version'])).toBe(`${packageJson.version}\n`);
    expect(installed(['status', '--help'])).toContain('--wait');
    // the package alone: nothing else was installed
    expect(readdirSync(join(project, 'node_modules')).sort()).toEqual([
      '.bin',
      '.package-lock.json',
      'sagemaker-rollouts',
    ]);
    // a reader that stops early ends the bundled CLI quietly too
    const piped = execFileSync('bash', ['-c', `"${bin}" --help | head -1; echo "exit \${PIPESTATUS[0]}"`], {
      cwd: project,
      env: { PATH: process.env.PATH, HOME: dir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(piped).toBe('Usage: sagemaker-rollouts [options] [command]\nexit 0\n');
  }, 300_000);

  it('reports missing credentials as a JSON error under --json, and --watch stops on it', () => {
    // no AWS variables and an empty HOME: the SDK finds no credentials
    for (const args of [
      ['status', '--json'],
      ['status', '--watch', '--interval', '0.2', '--json'],
    ]) {
      const failed = run([...args, '--region', 'us-east-1']);
      expect(failed.code, args.join(' ')).toBe(4);
      const lines = failed.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ ok: false, exitCode: 4 });
      expect(JSON.parse(lines[0]!).error).toContain('no usable AWS credentials');
      expect(failed.stderr).toBe('');
    }
  });
});
