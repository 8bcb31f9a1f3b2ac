import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/cli';
import { APPEAR_WITHIN_MS } from '../../src/cli/wait';
import { MINUTE, startWorld, type World } from '../e2e/helpers';
import { runCliChild, runCliHere } from './child';

const CHURN = 'churn-model';
const FRAUD = 'fraud-detector';

let world: World;

const deployment = async (group: string, id: string) =>
  (await world.state(group)).deployments.find((d) => d.id === id)!;

/** v(n) of churn-model approved with `errorRate`, run until its canary started. */
const startCanary = async (errorRate: string): Promise<string> => {
  const arn = await world.createPackage(CHURN, { 'sim.errorRate': errorRate });
  await world.approve(arn);
  const id = `${CHURN}:v${arn.split('/').at(-1)}`;
  await world.stack.run(60 * MINUTE, async () => (await deployment(CHURN, id))?.phase === 'Canary');
  expect((await deployment(CHURN, id)).phase).toBe('Canary');
  return id;
};

/**
 * `status <id> --wait` while simulated time moves on a minute per round: in this process, or
 * with `asProcess` as its own process (`bin/sagemaker-rollouts.cjs`).
 */
const waitFor = (id: string, { asProcess = false } = {}) =>
  (asProcess ? runCliChild : runCliHere)(world, ['status', id, '--wait', '--interval', '0.1', '--json'], {
    advanceMs: MINUTE,
  });

beforeAll(async () => {
  world = await startWorld();
  await world.createGroup(CHURN);
  await world.createGroup(FRAUD);
  const v1 = await world.createPackage(CHURN, { 'sim.errorRate': '0.001' });
  await world.approve(v1);
  await world.stack.run(30 * MINUTE);
  expect((await world.state(CHURN)).prod?.version).toBe(1);
  world.stack.cloud.setTraffic('churn-model-prod', 600);
});

afterAll(async () => {
  await world?.close();
});

describe('status --wait: the exit code says how a deployment ended', () => {
  it('exits 0 once the canary is promoted', async () => {
    const id = await startCanary('0.001');
    const run = await waitFor(id, { asProcess: true });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      deploymentId: id,
      outcome: 'succeeded',
      phase: 'Succeeded',
    });
    expect((await deployment(CHURN, id)).phase).toBe('Succeeded');
    expect((await world.state(CHURN)).prod?.version).toBe(2);
  });

  it('exits 5 when the gate rolls the canary back, with the reason', async () => {
    const id = await startCanary('0.3');
    const run = await waitFor(id);
    expect(run.code, run.stderr).toBe(5);
    const outcome = JSON.parse(run.stdout);
    expect(outcome).toMatchObject({ deploymentId: id, outcome: 'unsuccessful', phase: 'RolledBack' });
    expect(outcome.reason).toContain('gate failed');
    expect((await world.state(CHURN)).prod?.version).toBe(2);
  });

  it('exits 6 for a paused canary, and 3 when the timeout passes first', async () => {
    const id = await startCanary('0.001');
    // simulated time stands still: the canary bakes for 10 simulated minutes, never reached
    const stuck = await runCliHere(world, ['status', id, '--wait', '--interval', '0.1', '--timeout', '0.5']);
    expect(stuck.code, stuck.stderr).toBe(3);
    expect(stuck.stdout).toContain(`${id} still Canary when the wait timed out`);

    // status shows the step it is in now, not the reason of its last phase change (step 1/2)
    const next = await runCliHere(world, ['promote', id, '--reason', 'looks good']);
    expect(next.code, next.stderr).toBe(0);
    const stepped = await runCliHere(world, ['status', id]);
    expect(stepped.stdout).toContain(`${id}: step 2/2: 50% to v`);
    expect(stepped.stdout).not.toContain('step 1/2');

    const pause = await runCliHere(world, ['pause', id, '--reason', 'KPI dip']);
    expect(pause.code, pause.stderr).toBe(0);
    const paused = await waitFor(id);
    expect(paused.code, paused.stderr).toBe(6);
    expect(JSON.parse(paused.stdout)).toMatchObject({
      outcome: 'needs-operator',
      phase: 'Canary',
      paused: true,
      reason: expect.stringMatching(/^paused \(pause by .+: KPI dip\)$/),
    });
    // who paused it and why, in the table's reason line and in --wait's words
    const table = await runCliHere(world, ['status', id]);
    expect(table.stdout).toMatch(new RegExp(`${id}: paused \\(pause by .+: KPI dip\\)`));
    const said = await runCliHere(world, ['status', id, '--wait', '--interval', '0.1']);
    expect(said.code).toBe(6);
    expect(said.stdout).toMatch(/is paused: paused \(pause by .+: KPI dip\); resume, promote or abort it/);

    const abort = await runCliHere(world, ['abort', id, '--reason', 'done testing']);
    expect(abort.code, abort.stderr).toBe(0);
    const aborted = await waitFor(id);
    expect(aborted.code).toBe(5);
    expect(JSON.parse(aborted.stdout)).toMatchObject({ outcome: 'unsuccessful', phase: 'Aborted' });
  });

  it('waits for a version approved a moment ago until the service records it, then exits 6 while it awaits approval (manual mode)', async () => {
    const arn = await world.createPackage(FRAUD, { 'sim.errorRate': '0' });
    await world.approve(arn);
    const id = `${FRAUD}:v1`;
    // `approve && status --wait` as a pipeline runs it: the approval event is not handled yet
    let stdout = '';
    let stderr = '';
    const finished = runCli(['status', id, '--wait', '--interval', '0.05'], {
      stdout: { write: (text: string) => (stdout += text), isTTY: false },
      stderr: { write: (text: string) => (stderr += text) },
      env: { ...process.env, ...world.stack.env() },
    });
    await vi.waitFor(() => expect(stderr).toContain(`${id}: not recorded yet`), { timeout: 10_000 });
    expect((await world.stack.cloud.events.published).length).toBeGreaterThan(0);
    await expect(world.state(FRAUD)).rejects.toThrow(`no state for ${FRAUD}`);
    await world.stack.run(
      60 * MINUTE,
      async () => (await deployment(FRAUD, id))?.phase === 'AwaitingApproval',
    );
    expect(await finished, stderr).toBe(6);
    expect(stderr).toContain(`${id}: QaDeploying`);
    expect(stdout).toContain(`${id} awaits approval`);
    expect((await deployment(FRAUD, id)).phase).toBe('AwaitingApproval');
  });

  it('exits 2 for a deployment still not recorded when the wait ends, with a JSON error under --json', async () => {
    const run = await runCliHere(world, [
      'status',
      `${CHURN}:v99`,
      '--wait',
      '--interval',
      '0.05',
      '--timeout',
      '0.3',
      '--json',
    ]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    expect(JSON.parse(run.stdout).error).toContain(`unknown deployment ${CHURN}:v99`);
  });

  it('exits 2 at once for a version the group has already passed', async () => {
    const started = Date.now();
    const run = await runCliHere(world, ['status', `${CHURN}:v1#2`, '--wait', '--interval', '0.05']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`unknown deployment ${CHURN}:v1#2`);
    expect(run.stderr).not.toContain('not recorded yet');
    // not held for APPEAR_WITHIN_MS (2 minutes)
    expect(Date.now() - started).toBeLessThan(APPEAR_WITHIN_MS / 2);
  });
});
