import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from './child';

/*
 * `npm start -- --keep-running` as a user runs it, then the CLI's `local` commands from another
 * "shell" (child processes with the exported environment) drive a new version to promotion.
 */
const run = promisify(execFile);
const ALARM = 'churn-model-prod-business-kpi';

let kept: ChildProcess;
let output = '';
let env: Record<string, string> = {};

const cli = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      timeout: 180_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

beforeAll(async () => {
  kept = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/local/main.ts',
      '--scenario',
      'alarm-rollback',
      '--keep-running',
      '--quiet',
      '--speed',
      '300',
    ],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  kept.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  kept.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const started = Date.now();
  while (!output.includes('Ctrl-C to stop')) {
    if (kept.exitCode !== null || Date.now() - started > 120_000)
      throw new Error(`the local cloud did not stay up:\n${output}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  env = Object.fromEntries([...output.matchAll(/^ {2}export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}, 150_000);

afterAll(async () => {
  if (kept && kept.exitCode === null) {
    const exited = new Promise((done) => kept.once('exit', done));
    kept.kill('SIGINT');
    await exited;
  }
});

describe('a kept local cloud to work in', () => {
  it('ends clean and prints a complete environment', () => {
    // the scenario ends with the business alarm firing: reset, or every new canary rolls back
    expect(output).toContain(`Ready for new work: alarm ${ALARM}: ALARM -> OK`);
    expect(env).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      TABLE_NAME: 'sagemaker-rollouts-local',
      EVENT_BUS_NAME: 'sagemaker-rollouts-local',
    });
    expect(env.ROLLOUTS_LOCAL_CLOCK).toMatch(/^\d+@\d+x300$/);
    expect(env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).not.toContain('NodeVersionSupportWarning');
  });

  it('local commands register, approve and feed a new version to promotion; alarms are set with SetAlarmState', async () => {
    const registered = await cli('local', 'register', 'churn-model', '--error-rate', '0.001', '--json');
    expect(registered.code, registered.stderr).toBe(0);
    const { deploymentId, version } = JSON.parse(registered.stdout) as {
      deploymentId: string;
      version: number;
    };
    expect(version).toBe(3);

    expect((await cli('local', 'traffic', 'churn-model-prod', '600')).code).toBe(0);
    const approved = await cli('local', 'approve', deploymentId);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`${deploymentId} Approved`);

    const waited = await cli(
      'status',
      deploymentId,
      '--wait',
      '--interval',
      '0.3',
      '--timeout',
      '150',
      '--json',
    );
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ outcome: 'succeeded', phase: 'Succeeded' });
    const status = JSON.parse((await cli('status', 'churn-model', '--json')).stdout) as {
      rows: { prodVersion: number }[];
    };
    expect(status.rows[0]?.prodVersion).toBe(3);

    const alarmed = await cli('local', 'alarm', ALARM, 'ALARM', '--reason', 'KPI dip');
    expect(alarmed.code, alarmed.stderr).toBe(0);
    const cw = new CloudWatchClient({
      endpoint: env.AWS_ENDPOINT_URL,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const described = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [ALARM] }));
    expect(described.MetricAlarms?.[0]).toMatchObject({ StateValue: 'ALARM', StateReason: 'KPI dip' });

    const unknown = await cli('local', 'alarm', 'no-such-alarm', 'OK');
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('no-such-alarm');
    const badFault = await cli('local', 'fault', 'CreateEndpoint', '--times', '0');
    expect(badFault.code).toBe(2);
  }, 240_000);

  it('refuses local commands where no local cloud is named', async () => {
    const saved = env;
    env = { AWS_REGION: 'us-east-1' };
    try {
      const refused = await cli('local', 'traffic', 'churn-model-prod', '600');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('local commands work on the local cloud only');
    } finally {
      env = saved;
    }
  });
});
