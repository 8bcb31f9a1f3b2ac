import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, startWorld, type World } from '../e2e/helpers';
import { runCliHere } from './child';

// manual mode: once its QA endpoint converges the deployment waits, still in QA, for approval
const FRAUD = 'fraud-detector';
const QA_ENDPOINT = 'fraud-detector-qa';

let world: World;

beforeAll(async () => {
  world = await startWorld();
  await world.createGroup(FRAUD);
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
    const arn = await world.createPackage(FRAUD, { 'sim.errorRate': '0' });
    await world.approve(arn);
    const id = `${FRAUD}:v1`;
    await world.stack.run(24 * MINUTE);
    const stuck = (await world.state(FRAUD)).deployments.find((d) => d.id === id);
    expect(stuck?.phase).toBe('QaDeploying');

    const status = await runCliHere(world, ['status', FRAUD]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(
        `${id}: executor retrying CreateEndpoint on ${QA_ENDPOINT} since 2\\dm\\d\\ds: ThrottlingException: Rate exceeded`,
      ),
    );
    const json = JSON.parse((await runCliHere(world, ['status', FRAUD, '--json'])).stdout);
    expect(json.rows[0].retrying).toMatch(
      /^executor retrying CreateEndpoint on fraud-detector-qa since 2\dm/,
    );

    // simulated time stands still: the wait times out, saying the same
    const waited = await runCliHere(world, ['status', id, '--wait', '--interval', '0.1', '--timeout', '0.3']);
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
      async () =>
        (await world.state(FRAUD)).deployments.find((d) => d.id === id)?.phase === 'AwaitingApproval',
    );
    expect((await world.state(FRAUD)).deployments.find((d) => d.id === id)?.phase).toBe('AwaitingApproval');
    // the same QA endpoint, the same deployment in flight: only the recorded error is gone
    const moving = await runCliHere(world, ['status', FRAUD, '--json']);
    expect(moving.code, moving.stderr).toBe(0);
    expect(JSON.parse(moving.stdout).rows).toEqual([
      expect.objectContaining({ deploymentId: id, stage: 'qa', phase: 'AwaitingApproval' }),
    ]);
    expect(moving.stdout).not.toContain('executor retrying');
  });
});
