import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, startWorld, type World } from '../e2e/helpers';
import { runCliChild } from './child';

const CHURN = 'churn-model';
const QA_ENDPOINT = 'churn-model-qa';

let world: World;

beforeAll(async () => {
  world = await startWorld();
  await world.createGroup(CHURN);
});

afterAll(async () => {
  await world?.close();
});

describe('status says why a deployment does not move: the executor keeps meeting an error', () => {
  it('shows the last error and how long it has been retried, and forgets it once the endpoint converges', async () => {
    const throttles = ['CreateEndpoint', 'UpdateEndpoint'].map((operation) =>
      world.stack.cloud.faults.add({
        service: 'sagemaker',
        operation,
        resource: QA_ENDPOINT,
        error: 'ThrottlingException',
        message: 'Rate exceeded',
      }),
    );
    const arn = await world.createPackage(CHURN, { 'sim.errorRate': '0.001' });
    await world.approve(arn);
    const id = `${CHURN}:v1`;
    await world.stack.run(24 * MINUTE);
    const stuck = (await world.state(CHURN)).deployments.find((d) => d.id === id);
    expect(stuck?.phase).toBe('QaDeploying');

    const status = await runCliChild(world, ['status', CHURN]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(
        `${id}: executor retrying CreateEndpoint on ${QA_ENDPOINT} since 2\\dm\\d\\ds: ThrottlingException: Rate exceeded`,
      ),
    );
    const json = JSON.parse((await runCliChild(world, ['status', CHURN, '--json'])).stdout);
    expect(json.rows[0].retrying).toMatch(/^executor retrying CreateEndpoint on churn-model-qa since 2\dm/);

    // simulated time stands still: the wait times out, saying the same
    const waited = await runCliChild(world, [
      'status',
      id,
      '--wait',
      '--interval',
      '0.1',
      '--timeout',
      '0.3',
    ]);
    expect(waited.code, waited.stderr).toBe(3);
    expect(waited.stdout).toMatch(
      new RegExp(
        `${id} still QaDeploying when the wait timed out.*; executor retrying CreateEndpoint on ${QA_ENDPOINT} since 2\\dm\\d\\ds: ThrottlingException: Rate exceeded`,
      ),
    );
    expect(waited.stderr).toContain(`${id}: executor retrying CreateEndpoint on ${QA_ENDPOINT}`);

    for (const remove of throttles) remove();
    await world.stack.run(
      30 * MINUTE,
      async () => (await world.state(CHURN)).deployments.find((d) => d.id === id)?.phase !== 'QaDeploying',
    );
    expect((await world.state(CHURN)).deployments.find((d) => d.id === id)?.phase).not.toBe('QaDeploying');
    const moving = await runCliChild(world, ['status', CHURN]);
    expect(moving.code, moving.stderr).toBe(0);
    expect(moving.stdout).toContain(id);
    expect(moving.stdout).not.toContain('executor retrying');
  });
});
