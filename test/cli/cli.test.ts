import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupState } from '../../src/domain/model';
import { MINUTE, startWorld, type World } from '../e2e/helpers';
import { type Run, runCliAlone, runCliChild, runCliHere } from './child';

const CHURN = 'churn-model';

let world: World;
let alice: { accessKeyId: string; secretAccessKey: string };
const ALICE = 'arn:aws:iam::111122223333:user/alice';

const asAlice = (env: Record<string, string | undefined>) => ({
  env: { AWS_ACCESS_KEY_ID: alice.accessKeyId, AWS_SECRET_ACCESS_KEY: alice.secretAccessKey, ...env },
});

/**
 * Runs the CLI in this process against the local stack, signing its commands with the keys of
 * the local IAM user alice (the default credential chain reads them from the environment).
 */
const cli = (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> =>
  runCliHere(world, args, asAlice(env));

/** The same, as its own process (`bin/sagemaker-rollouts.cjs`), as an operator runs it. */
const cliProcess = (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> =>
  runCliChild(world, args, asAlice(env));

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
  // the candidate is checked in prod at weight 0, then step 1's weights are applied
  await world.stack.run(
    60 * MINUTE,
    async () => (await deployment(id))?.phase === 'Canary' && (prodWeights()[`v${version}`] ?? 0) > 0,
  );
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
  alice = world.stack.cloud.sts.createUser('alice');
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
    const status = json<{ rows: Record<string, unknown>[] }>(await cliProcess(['status', '--json']));
    // the groups with work in flight, from the active-deployments index
    expect(status.rows.map((r) => r.group)).toEqual([CHURN]);
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

    // signed in its own process with alice's keys from the environment
    const pause = await cliProcess(['pause', id, '--reason', 'checking a KPI dip', '--json']);
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
      transition: { from: 'Canary', to: 'Promoting', actor: ALICE },
    });
    await world.stack.run(30 * MINUTE, async () => (await deployment(id)).phase === 'Succeeded');
    expect((await deployment(id)).phase).toBe('Succeeded');
    expect((await state()).prod?.version).toBe(2);
    expect(prodWeights()).toEqual({ v2: 100 });

    const history = json<{ entries: { actor: string; reason: string; requestId?: string; to: string }[] }>(
      await cliProcess(['history', id, '--json']),
    );
    const byAlice = history.entries.filter((e) => e.actor === ALICE);
    expect(byAlice.map((e) => e.reason)).toEqual([
      `paused (pause by ${ALICE}: checking a KPI dip)`,
      `pause refused: ${id} is already paused`,
      `resumed (resume by ${ALICE}: KPI recovered)`,
      `promoting: promote by ${ALICE}: enough evidence`,
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
    expect(history.stdout).toMatch(
      /Canary → RollingBack\s+prod\s+arn:aws:iam::111122223333:user\/alice\s+rolling back to v2: abort by arn:aws:iam::111122223333:user\/alice/,
    );
    expect(history.stdout).toMatch(/RollingBack → Aborted\s+prod\s+system/);
  });

  it('status --all shows finished rows with the weights they ended with; tables fit the terminal', async () => {
    // v1 and v2 were promoted in turn, v3 aborted back to v2; today prod serves v2 alone
    const all = json<{
      rows: { deploymentId: string; phase: string; finalWeights?: unknown; endpoint?: unknown }[];
    }>(await cli(['status', '--all', '--json']));
    const byId = Object.fromEntries(all.rows.map((r) => [r.deploymentId, r]));
    expect(byId[`${CHURN}:v1`]).toMatchObject({ phase: 'Succeeded', finalWeights: { v1: 100 } });
    expect(byId[`${CHURN}:v2`]).toMatchObject({ phase: 'Succeeded', finalWeights: { v2: 100 } });
    expect(byId[`${CHURN}:v3`]).toMatchObject({ phase: 'Aborted', finalWeights: { v2: 100 } });
    // a finished row is not described with today's endpoint
    expect(byId[`${CHURN}:v1`]?.endpoint).toBeUndefined();

    const widest = (text: string) =>
      Math.max(
        ...text
          .trimEnd()
          .split('\n')
          .map((line) => [...line].length),
      );
    const table = await cli(['status', '--all'], { COLUMNS: '110' });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`${CHURN}:v1\\s+prod\\s+Succeeded\\s+v1 100% \\(at end\\)`));
    expect(widest(table.stdout)).toBeLessThanOrEqual(110);

    const id = `${CHURN}:v3`;
    const wide = await cli(['history', id, '--wide'], { COLUMNS: '90' });
    const narrow = await cli(['history', id], { COLUMNS: '90' });
    expect(narrow.code).toBe(0);
    expect(widest(wide.stdout)).toBeGreaterThan(90);
    expect(widest(narrow.stdout)).toBeLessThanOrEqual(90);
    expect(narrow.stdout).toContain('…');
    expect(wide.stdout).not.toContain('…');
    // the cut text is the start of the full one, and the ids stay whole
    const reasonStart =
      'rolling back to v2: abort by arn:aws:iam::111122223333:user/alice: wrong feature set';
    expect(wide.stdout).toContain(reasonStart);
    expect(narrow.stdout).toMatch(/Canary → RollingBack/);
  });

  it('fails with a clear message and exit code 2 for an unknown deployment, 1 for a refusal', async () => {
    const urlCallsBefore = world.stack.cloud.calls.filter((c) => c.operation === 'InvokeFunctionUrl').length;
    const unknownVersion = await cli(['pause', `${CHURN}:v99`, '--reason', 'x']);
    expect(unknownVersion.code).toBe(2);
    expect(unknownVersion.stderr).toContain(
      `unknown deployment ${CHURN}:v99: group ${CHURN} has ${CHURN}:v1`,
    );

    const unknownGroup = await cli(['resume', 'no-such-model:v1', '--reason', 'x', '--json']);
    expect(unknownGroup.code).toBe(2);
    expect(JSON.parse(unknownGroup.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    expect(unknownGroup.stdout).toContain('no model package group \\"no-such-model\\"');

    // neither reached the command URL
    expect(world.stack.cloud.calls.filter((c) => c.operation === 'InvokeFunctionUrl')).toHaveLength(
      urlCallsBefore,
    );

    const refused = await cli(['resume', `${CHURN}:v1`, '--reason', 'not paused', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      outcome: 'rejected',
      reason: `${CHURN}:v1 is not paused`,
    });
  });

  it('reports an unreachable cloud with advice and exit code 4', async () => {
    const down = await cliProcess(['status'], { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('cannot reach');
    expect(down.stderr).toContain('--keep-running');
  });
});

describe('promote --full (Argo-compatible promote)', () => {
  it('promote advances one step; promote --full skips the remaining steps', async () => {
    const stepwise = await startCanary();
    const next = await cli(['promote', stepwise, '--reason', 'next step', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(json(next)).toMatchObject({ outcome: 'applied', transition: { from: 'Canary', to: 'Canary' } });
    expect((await deployment(stepwise)).canary).toMatchObject({ stepIndex: 1 });
    const abort = await cli(['abort', stepwise, '--reason', 'done with this one']);
    expect(abort.code, abort.stderr).toBe(0);
    await world.stack.run(30 * MINUTE, async () => (await deployment(stepwise)).phase === 'Aborted');

    const skipping = await startCanary();
    expect((await deployment(skipping)).canary).toMatchObject({ stepIndex: 0 });
    const full = await cli(['promote', skipping, '--full', '--reason', 'skip the rest', '--json']);
    expect(full.code, full.stderr).toBe(0);
    expect(json(full)).toMatchObject({
      outcome: 'applied',
      transition: { from: 'Canary', to: 'Promoting' },
    });
    await world.stack.run(30 * MINUTE, async () => (await deployment(skipping)).phase === 'Succeeded');
    expect(prodWeights()).toEqual({ [skipping.replace(`${CHURN}:`, '')]: 100 });

    const wrongVerb = await cli(['pause', skipping, '--full', '--reason', 'x']);
    expect(wrongVerb.code).toBe(2);
    expect(wrongVerb.stderr).toContain("unknown option '--full'");
  }, 120_000);
});

describe('operator CLI usage (in process)', () => {
  const run = runCliAlone;

  it('needs a reason and a deployment id before anything is sent', async () => {
    const noReason = await run(['abort', `${CHURN}:v1`]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('abort needs --reason');
    const notAnId = await run(['resume', 'churn-model-v1', '--reason', 'x']);
    expect(notAnId.code).toBe(2);
    expect(notAnId.stderr).toContain('"churn-model-v1" is not a deployment id');
    const unknownCommand = await run(['deploy', `${CHURN}:v1`]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'deploy'");
    const badFlag = await run(['status', '--colour']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("unknown option '--colour'");
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
      issues: expect.arrayContaining(['package.json:1:1: modelPackageGroups: required (expected record)']),
    });
  });
});
