import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/* What `npm start` prints: one line per scenario and the summary; timelines and metrics on request. */
const ROOT = resolve(__dirname, '../..');
const start = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'src/local/main.ts', '--scenario', 'first-deployment', ...args],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
  );
  return stdout;
};

describe('npm start output', () => {
  it('says how long it takes, then one line per scenario and the summary; no timeline, no metric JSON', async () => {
    const out = await start();
    const lines = out.split('\n');
    expect(lines[0]).toBe(
      'Playing 1 scenario(s) in 1 process(es): a few seconds each. --verbose prints each timeline.',
    );
    expect(lines[1]).toMatch(/^✔ first-deployment +promoted v1 {2}\(00:15:00 simulated, \d+\.\d s\)$/);
    expect(lines[2]).toMatch(/^played in \d+ s$/);
    expect(out).toContain('1/1 scenarios ended as expected');
    expect(out).not.toContain('"_aws"');
    expect(out).not.toContain('decision');
  }, 130_000);

  it('--verbose prints the timeline with the metric lines the handlers write', async () => {
    const out = await start('--verbose');
    expect(out).toContain('▶ first-deployment');
    expect(out).toMatch(/^ {2}00:\d\d:\d\d {2}decision {2}churn-model:v1: /m);
    expect(out).toMatch(/^ {2}00:\d\d:\d\d {2}metric {4}\{"_aws":/m);
    expect(out).toContain('✔ as expected: promoted v1');
  }, 130_000);
});
