import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandUrlSender } from '../../src/adapters/command-url-sender';
import { MINUTE, startWorld, type World } from './helpers';

const CHURN = 'churn-model';
const FRAUD = 'fraud-detector';
/** The README's sample tick: its `time` is a year after the local cloud's. */
const SAMPLE_TICK = JSON.parse(readFileSync(resolve(__dirname, '../../events/schedule.json'), 'utf8'));

let world: World;

beforeAll(async () => {
  world = await startWorld();
  await world.createGroup(CHURN);
  await world.createGroup(FRAUD);
  await world.approve(await world.createPackage(CHURN, { 'sim.errorRate': '0.001' }));
  await world.stack.run(30 * MINUTE);
  world.stack.cloud.setTraffic('churn-model-prod', 600);
});

afterAll(async () => {
  await world?.close();
});

describe('an event whose time is far from the clock', () => {
  it('is decided at the local cloud time: a paused canary and a waiting approval survive the sample tick', async () => {
    const v2 = await world.createPackage(CHURN, { 'sim.errorRate': '0.001' });
    await world.approve(v2);
    await world.stack.run(
      60 * MINUTE,
      async () => (await world.state(CHURN)).deployments.at(-1)?.phase === 'Canary',
    );
    const canary = `${CHURN}:v2`;
    const paused = await new CommandUrlSender(world.stack.commandUrl, {
      audience: world.stack.tableName,
      credentials: async () => ({ accessKeyId: 'test', secretAccessKey: 'test' }),
    }).send({ verb: 'pause', deploymentId: canary, reason: 'hold', requestId: 'r-1' });
    expect(paused.outcome).toBe('applied');
    await world.stack.settle();
    await world.approve(await world.createPackage(FRAUD, { 'sim.errorRate': '0' }));
    await world.stack.run(
      20 * MINUTE,
      async () => (await world.state(FRAUD)).deployments[0]?.phase === 'AwaitingApproval',
    );
    expect((await world.state(FRAUD)).deployments[0]?.phase).toBe('AwaitingApproval');
    expect((await world.state(CHURN)).deployments.find((d) => d.id === canary)?.canary?.paused).toBe(true);

    const before = world.stack.now;
    expect(Date.parse(SAMPLE_TICK.time) - before).toBeGreaterThan(300 * 24 * 60 * MINUTE);
    await world.stack.invoke('canaryTick', SAMPLE_TICK);
    await world.stack.settle();

    const churn = await world.state(CHURN);
    expect(churn.deployments.find((d) => d.id === canary)).toMatchObject({
      phase: 'Canary',
      canary: { paused: true },
    });
    const fraud = await world.state(FRAUD);
    expect(fraud.deployments[0]?.phase).toBe('AwaitingApproval');
    // no decision was dated in the sample's future
    expect(churn.updatedAt).toBeLessThanOrEqual(world.stack.now);
    expect(fraud.updatedAt).toBeLessThanOrEqual(world.stack.now);
  });
});
