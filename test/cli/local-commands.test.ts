import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import { restoreProcessEnv } from '../support/process-env';
import { BIN, ROOT } from './child';

/*
 * `npm start -- --keep-running` as a user runs it, then the README's kept-cloud block, read from
 * README.md and run command by command as written, on the exported environment. The first command
 * runs in another "shell" (a child process with that environment and nothing else), which shows
 * the block is complete; the rest run the same CLI in this process, each child having cost about
 * a second of CPU to load it (the package's own bin is tested from an installed tarball in
 * cli/package.test.ts).
 */
const run = promisify(execFile);
const ALARM = 'churn-model-prod-business-kpi';

let kept: ChildProcess;
let output = '';
let env: Record<string, string> = {};
const savedEnv = { ...process.env };

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

/**
 * The CLI in this process (its `runCli`, as `src/cli/main.ts` calls it), on the exported
 * environment: beforeAll lays it over process.env too, where the SDK clients read it.
 */
const cliHere = async (...args: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text) },
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  return { code, stdout, stderr };
};

/** A shell line's words: double quotes group, `#` starts a comment. */
const words = (line: string): string[] => {
  const found: string[] = [];
  for (const match of line.replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g))
    found.push(match[1] ?? match[2]!);
  return found;
};

/** The `npx sagemaker-rollouts ...` lines of the README's kept-cloud block. */
const readmeBlock = (): string[] => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Keep working on the local cloud'));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const block = blocks.find((b) => b.includes('npx sagemaker-rollouts local register'))!;
  return block.split('\n').filter((line) => line.startsWith('npx sagemaker-rollouts '));
};

beforeAll(async () => {
  // fast enough that the walk waits on the kept cloud's own work, not on the wall clock
  kept = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/local/main.ts', '--keep-running', '--speed', '1200'],
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
  Object.assign(process.env, env);
}, 150_000);

afterAll(async () => {
  restoreProcessEnv(savedEnv);
  if (kept && kept.exitCode === null) {
    const exited = new Promise((done) => kept.once('exit', done));
    kept.kill('SIGINT');
    await exited;
  }
});

describe('a kept local cloud to work in', () => {
  it('is a new cloud on the example config, played no scenario, and prints a complete environment', () => {
    expect(output).not.toContain('▶');
    expect(env).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      TABLE_NAME: 'sagemaker-rollouts-local',
      EVENT_BUS_NAME: 'sagemaker-rollouts-local',
      ROLLOUTS_CONFIG_PATH: join(ROOT, 'src/local/scenarios/rollouts.local.yml'),
    });
    expect(env.ROLLOUTS_LOCAL_CLOCK).toMatch(/^\d+@\d+x1200$/);
    expect(env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.EXECUTOR_QUEUE_URL).toContain(env.AWS_ENDPOINT_URL);
    expect(output).not.toContain('NodeVersionSupportWarning');
  });

  it('runs the README block command by command, as written', async () => {
    const lines = readmeBlock();
    /** What each command of the block prints (stdout), in order. */
    const expected: [RegExp, RegExp][] = [
      [
        /local register churn-model --error-rate 0.001 +# -> churn-model:v1/,
        /^registered churn-model:v1 .*PendingManualApproval/,
      ],
      [/local approve churn-model:v1/, /^churn-model:v1 Approved/],
      [/status churn-model:v1 --wait/, /churn-model:v1 .*(succeeded|promoted)/i],
      [/local traffic churn-model-prod 600/, /^churn-model-prod: 600 requests per minute/],
      [/local register churn-model --error-rate 0.001 +# -> churn-model:v2/, /^registered churn-model:v2 /],
      [/local approve churn-model:v2/, /^churn-model:v2 Approved/],
      [/status churn-model:v2 --wait/, /churn-model:v2 .*(succeeded|promoted)/i],
      [/local alarm .* ALARM --reason "KPI dip"/, /^churn-model-prod-business-kpi -> ALARM/],
      [/local alarm .* OK/, /^churn-model-prod-business-kpi -> OK/],
      [
        /local fault UpdateEndpoint --error ThrottlingException --times 2/,
        /^UpdateEndpoint fails 2 time\(s\)/,
      ],
      [/local clear-faults/, /^faults cleared/],
      [/local reject churn-model:v2/, /^churn-model:v2 Rejected/],
      [/local time/, /^2024-01-01T\d\d:\d\d:\d\d/],
    ];
    expect(lines).toHaveLength(expected.length);
    const cw = new CloudWatchClient({
      endpoint: env.AWS_ENDPOINT_URL,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    for (const [index, line] of lines.entries()) {
      const [command, printed] = expected[index]!;
      expect(line).toMatch(command);
      const [npx, bin, ...args] = words(line);
      expect([npx, bin]).toEqual(['npx', 'sagemaker-rollouts']);
      const result = index === 0 ? await cli(...args) : await cliHere(...args);
      expect(result.code, `${line}\n${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout, line).toMatch(printed);
      if (line.includes('--reason "KPI dip"')) {
        const described = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [ALARM] }));
        expect(described.MetricAlarms?.[0]).toMatchObject({ StateValue: 'ALARM', StateReason: 'KPI dip' });
      }
    }
    const status = JSON.parse((await cliHere('status', 'churn-model', '--all', '--json')).stdout) as {
      rows: { deploymentId: string; prodVersion?: number }[];
    };
    expect(status.rows.map((row) => row.deploymentId)).toEqual(
      expect.arrayContaining(['churn-model:v1', 'churn-model:v2']),
    );
  }, 400_000);

  it('refuses a group, endpoint, alarm or fault operation that does not exist, with the nearest name and exit 2', async () => {
    const cases: [string[], string][] = [
      [['status', 'churn-modl'], 'no model package group "churn-modl" (did you mean churn-model?)'],
      [['status', 'churn-modl:v1'], 'no model package group "churn-modl" (did you mean churn-model?)'],
      [['pause', 'fraud-detectr:v1', '--reason', 'x'], '"fraud-detectr" (did you mean fraud-detector?)'],
      [
        ['local', 'register', 'churn-modle'],
        'no model package group "churn-modle" (did you mean churn-model?)',
      ],
      [
        ['local', 'approve', 'churn-modle:v1'],
        'no model package group "churn-modle" (did you mean churn-model?)',
      ],
      [
        ['local', 'traffic', 'churn-modl-prod', '600'],
        'no endpoint "churn-modl-prod" (did you mean churn-model-prod?)',
      ],
      [['local', 'traffic', 'fraud-detector-prod', '600'], 'endpoint fraud-detector-prod does not exist yet'],
      [
        ['local', 'alarm', 'churn-model-prod-busines-kpi', 'OK'],
        `no alarm "churn-model-prod-busines-kpi" (did you mean ${ALARM}?)`,
      ],
      [['local', 'alarm', 'no-such-alarm', 'OK'], `no alarm "no-such-alarm"; there are: ${ALARM}`],
      [
        ['local', 'fault', 'UpdateEndpiont'],
        'UpdateEndpiont is not an operation any service in the local cloud serves (did you mean UpdateEndpoint?)',
      ],
      [['local', 'fault', 'InvokeEndpoint', '--service', 'sqs'], 'InvokeEndpoint is not an operation of sqs'],
      [['local', 'fault', 'CreateEndpoint', '--times', '0'], 'expected a count between 1 and'],
    ];
    // in this process: the README walk above runs each command as its own process
    for (const [args, message] of cases) {
      const refused = await cliHere(...args);
      expect(refused.stderr, args.join(' ')).toContain(message);
      expect(refused.code, args.join(' ')).toBe(2);
    }
  }, 120_000);

  it('runs a function with `osls invoke local` and a sample event, with the README command as written', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const command = /```sh\n(npx osls invoke local [^`]*?)```/.exec(readme)?.[1];
    expect(command).toContain('-f canaryTick -p events/schedule.json');
    // the shell the README is pasted into: the exported block, nothing else of ours
    const invoked = await run('bash', ['-c', command!], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        SLS_TELEMETRY_DISABLED: '1',
        // its own build folder: `osls package` in another test file may run at the same time
        ROLLOUTS_ESBUILD_WORK_FOLDER: '.local/esbuild-invoke-local',
        ...env,
      },
      timeout: 240_000,
    });
    expect(invoked.stdout).toMatch(/"outcome": "ok"/);
    // it ran on the kept cloud: its groups all judged (none failed), at the cloud's simulated time
    expect(invoked.stdout).toMatch(/"failedGroups": \[\]/);
    expect(`${invoked.stdout}${invoked.stderr}`).toMatch(/"decidedAt":"2024-01-01T/);
  }, 300_000);

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
