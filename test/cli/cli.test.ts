import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import type { GroupState } from '../../src/domain/model';
import { deps } from '../../src/wiring';
import { MINUTE, startWorld, type World } from '../e2e/helpers';

const ROOT = resolve(__dirname, '../..');
const BIN = resolve(ROOT, 'bin/sagemaker-rollouts.cjs');
const CHURN = 'churn-model';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let world: World;

/**
 * Runs the CLI as its own process against the local stack. While the child waits, this process
 * keeps the stack going: the control function only runs when the stack delivers the events the
 * child put on the bus.
 */
const cli = async (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> => {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...world.stack.env(), SAGEMAKER_ROLLOUTS_ACTOR: 'alice', ...env },
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
    await world.stack.settle();
    await Promise.race([closed, new Promise((done) => setTimeout(done, 25))]);
  }
  return { code, stdout, stderr };
};

const json = <T>(run: Run): T => {
  expect(run.stderr, run.stderr).not.toMatch(/error/i);
  return JSON.parse(run.stdout) as T;
};

const state = async (): Promise<GroupState> => world.state(CHURN);
const deployment = async (id: string) => (await state()).deployments.find((d) => d.id === id)!;
const prodWeights = () =>
  Object.fromEntries(
    (world.stack.cloud.sagemaker.endpoints.get('churn-model-prod')?.variants ?? []).map((v) => [
      v.name,
      v.currentWeight,
    ]),
  );

/** v1 serving prod, v(n) approved and in its first canary step. */
const startCanary = async (meta: Record<string, string> = {}): Promise<string> => {
  const arn = await world.createPackage(CHURN, { 'sim.errorRate': '0.001', ...meta });
  await world.approve(arn);
  const version = Number(arn.split('/').at(-1));
  const id = `${CHURN}:v${version}`;
  await world.stack.run(60 * MINUTE, async () => (await deployment(id))?.phase === 'Canary');
  expect((await deployment(id)).phase).toBe('Canary');
  // the canary config holds the candidate at weight 0: step 1's weights land next
  await world.stack.run(5 * MINUTE, () => {
    const ep = world.stack.cloud.sagemaker.endpoints.get('churn-model-prod');
    return (
      ep?.status === 'InService' && ep.variants.some((v) => v.name === `v${version}` && v.currentWeight > 0)
    );
  });
  return id;
};

beforeAll(async () => {
  world = await startWorld();
  await world.createGroup(CHURN);
  const v1 = await world.createPackage(CHURN, { 'sim.errorRate': '0.001' });
  await world.approve(v1);
  await world.stack.run(30 * MINUTE);
  expect((await state()).prod?.version).toBe(1);
  world.stack.cloud.setTraffic('churn-model-prod', 600);
});

afterAll(async () => {
  await world?.close();
});

describe('operator CLI against the local cloud', () => {
  it('status during a canary, a pause held across ticks, resume, promote, history', async () => {
    const id = await startCanary();

    // the child reads the table the in-process handlers write: the same dynalite, via stack.env()
    const env = world.stack.env();
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(env.AWS_ENDPOINT_URL_DYNAMODB);
    expect(process.env.TABLE_NAME).toBe(env.TABLE_NAME);
    const status = json<{ rows: Record<string, unknown>[] }>(await cli(['status', '--json']));
    expect(status.rows.map((r) => r.group)).toEqual((await deps().store.listGroups()).map((g) => g.group));
    expect(status.rows.find((r) => r.deploymentId === id)).toMatchObject({
      group: CHURN,
      stage: 'prod',
      phase: 'Canary',
      paused: false,
      prodVersion: 1,
      endpoint: { name: 'churn-model-prod', status: 'InService', weights: { v1: 90, v2: 10 } },
      expectedWeights: { v1: 90, v2: 10 },
      canary: { step: 1, totalSteps: 2 },
    });

    const pause = await cli(['pause', id, '--reason', 'checking a KPI dip', '--json']);
    expect(pause.code).toBe(0);
    expect(json(pause)).toMatchObject({ outcome: 'applied', verb: 'pause', phase: 'Canary' });
    // a paused canary keeps its weights however many ticks pass, its bake time included
    await world.stack.run(40 * MINUTE);
    const paused = await deployment(id);
    expect(paused.phase).toBe('Canary');
    expect(paused.canary).toMatchObject({ paused: true, stepIndex: 0 });
    expect(prodWeights()).toEqual({ v1: 90, v2: 10 });

    const human = await cli(['status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(`${id}\\s+prod\\s+Canary \\(paused\\)\\s+v1 90% / v2 10%\\s+\\[`),
    );
    expect(human.stdout).toContain('step 1/2');
    // not a terminal: no colour codes
    expect(human.stdout).not.toContain('\u001b[');

    const again = await cli(['pause', id, '--reason', 'twice']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`pause ${id} refused: ${id} is already paused`);

    const resume = await cli(['resume', id, '--reason', 'KPI recovered']);
    expect(resume.code).toBe(0);
    expect(resume.stdout).toContain(`resume ${id} applied`);
    // the second step's weights, once the endpoint has applied them
    await world.stack.run(60 * MINUTE, async () => prodWeights().v2 === 50);
    expect((await deployment(id)).canary?.stepIndex).toBe(1);
    expect(prodWeights()).toEqual({ v1: 50, v2: 50 });

    const promote = await cli(['promote', id, '--reason', 'enough evidence', '--json']);
    expect(promote.code).toBe(0);
    expect(json(promote)).toMatchObject({
      outcome: 'applied',
      transition: { from: 'Canary', to: 'Promoting', actor: 'alice' },
    });
    await world.stack.run(30 * MINUTE, async () => (await deployment(id)).phase === 'Succeeded');
    expect((await deployment(id)).phase).toBe('Succeeded');
    expect((await state()).prod?.version).toBe(2);
    expect(prodWeights()).toEqual({ v2: 100 });

    const history = json<{ entries: { actor: string; reason: string; requestId?: string; to: string }[] }>(
      await cli(['history', id, '--json']),
    );
    const byAlice = history.entries.filter((e) => e.actor === 'alice');
    expect(byAlice.map((e) => e.reason)).toEqual([
      'paused (pause by alice: checking a KPI dip)',
      `pause refused: ${id} is already paused`,
      'resumed (resume by alice: KPI recovered)',
      'promoting: promote by alice: enough evidence',
    ]);
    expect(new Set(byAlice.map((e) => e.requestId)).size).toBe(4);
    expect(history.entries.at(-1)?.to).toBe('Succeeded');
  });

  it('abort rolls the canary back to the version serving prod', async () => {
    const id = await startCanary();
    expect(prodWeights()).toEqual({ v2: 90, v3: 10 });

    const abort = await cli(['abort', id, '--reason', 'wrong feature set']);
    expect(abort.code).toBe(0);
    expect(abort.stdout).toContain(`abort ${id} applied: Canary → RollingBack`);
    await world.stack.run(30 * MINUTE, async () => (await deployment(id)).phase === 'Aborted');
    expect((await deployment(id)).phase).toBe('Aborted');
    expect((await state()).prod?.version).toBe(2);
    expect(prodWeights()).toEqual({ v2: 100 });

    const history = await cli(['history', id]);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/Canary → RollingBack\s+alice\s+rolling back to v2: abort by alice/);
    expect(history.stdout).toMatch(/RollingBack → Aborted\s+system/);
  });

  it('fails with a clear message and exit code 2 for an unknown deployment, 1 for a refusal', async () => {
    const unknownVersion = await cli(['pause', `${CHURN}:v99`, '--reason', 'x']);
    expect(unknownVersion.code).toBe(2);
    expect(unknownVersion.stderr).toContain(
      `unknown deployment ${CHURN}:v99: group ${CHURN} has ${CHURN}:v1`,
    );

    const unknownGroup = await cli(['resume', 'no-such-model:v1', '--reason', 'x', '--json']);
    expect(unknownGroup.code).toBe(2);
    expect(JSON.parse(unknownGroup.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    expect(unknownGroup.stdout).toContain('no model package group \\"no-such-model\\"');

    // neither reached the bus
    expect(
      world.stack.cloud.events.published.filter(
        (e) => e.source === 'sagemaker-rollouts.control' && (e.detail as { reason?: string }).reason === 'x',
      ),
    ).toEqual([]);

    const refused = await cli(['resume', `${CHURN}:v1`, '--reason', 'not paused', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      outcome: 'rejected',
      reason: `${CHURN}:v1 is not paused`,
    });
  });

  it('reports an unreachable cloud with advice and exit code 4', async () => {
    const down = await cli(['status'], { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('cannot reach');
    expect(down.stderr).toContain('--keep-running');
  });
});

describe('operator CLI usage (in process)', () => {
  const run = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      stdout: { write: (text: string) => (stdout += text), isTTY: false },
      stderr: { write: (text: string) => (stderr += text) },
      env: { ...process.env },
    });
    return { code, stdout, stderr };
  };

  it('needs a reason and a deployment id before anything is sent', async () => {
    const noReason = await run(['abort', `${CHURN}:v1`]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('abort needs --reason');
    const notAnId = await run(['resume', 'churn-model-v1', '--reason', 'x']);
    expect(notAnId.code).toBe(2);
    expect(notAnId.stderr).toContain('"churn-model-v1" is not a deployment id');
    const unknownCommand = await run(['deploy', `${CHURN}:v1`]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('unknown command "deploy"');
    const badFlag = await run(['status', '--colour']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("Unknown option '--colour'");
    expect((await run([])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes');
  });

  it('checks configuration files', async () => {
    const ok = await run(['config', 'check', 'src/local/scenarios/rollouts.local.yml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('churn-model, fraud-detector');
    const bad = await run(['config', 'check', 'package.json', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      issues: expect.arrayContaining(['modelPackageGroups: required (expected record)']),
    });
  });
});
