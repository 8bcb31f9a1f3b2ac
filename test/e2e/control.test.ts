import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JANE, MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

const GROUP = 'ctl-model';
const PROD = 'ctl-model-prod';
const CONFIG = 'test/e2e/configs/three-steps.yml';

const rejectedFor = (r: Rollouts, deploymentId: string) =>
  r.events('Command Rejected').filter((e) => e.detail.deploymentId === deploymentId);

describe('operator commands: pause, resume, promote, rollback after promotion, retry', () => {
  let r: Rollouts;
  let v2 = '';
  const V2 = `${GROUP}:v2`;

  beforeAll(async () => {
    r = await startRollouts({ configPath: CONFIG });
    await withV1InProd(r, GROUP, PROD);
    v2 = await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(V2)) === 'Canary');
  });
  afterAll(() => r.close());

  it('pause holds the weights across ticks well past the bake; a second pause is refused', async () => {
    expect(await r.command('pause', V2, 'investigating a dashboard')).toMatchObject({ outcome: 'applied' });
    expect(r.events('Deployment Paused').map((e) => e.detail.deploymentId)).toEqual([V2]);
    const ticksBefore = r.stack.records.filter((x) => x.kind === 'result' && x.functionName === 'canaryTick');
    await r.stack.run(35 * MINUTE);
    const ticks = r.stack.records.filter((x) => x.kind === 'result' && x.functionName === 'canaryTick');
    expect(ticks.length - ticksBefore.length).toBeGreaterThanOrEqual(35);
    expect(r.weights(PROD)).toEqual({ v1: 90, v2: 10 });
    expect(await r.phase(V2)).toBe('Canary');
    expect(r.events('Canary Step Passed')).toEqual([]);

    const again = await r.command('pause', V2);
    expect(again.outcome).toBe('rejected');
    expect(again.detail).toContain('already paused');
    expect(rejectedFor(r, V2)).toHaveLength(1);

    const history = await r.history(V2);
    const paused = history.find((h) => h.reason.startsWith('paused'))!;
    expect(paused).toMatchObject({ actor: JANE });
    expect(paused.reason).toContain('investigating a dashboard');
    expect(paused.requestId).toBeTruthy();
  });

  it('resume: stepping continues to the next step', async () => {
    expect(await r.command('resume', V2)).toMatchObject({ outcome: 'applied' });
    await r.runUntil(() => r.weights(PROD).v2 === 30, 15 * MINUTE);
    expect((await r.history(V2)).some((h) => h.reason.startsWith('resumed') && h.actor === JANE)).toBe(true);
  });

  it('promote with full: true during the canary skips the remaining steps', async () => {
    const seen = new Set<number>();
    expect(await r.command('promote', V2, 'looks great', { full: true })).toMatchObject({
      outcome: 'applied',
    });
    await r.runUntil(async () => {
      seen.add(r.weights(PROD).v2 ?? -1);
      return (await r.phase(V2)) === 'Succeeded';
    }, 15 * MINUTE);
    expect(seen.has(60)).toBe(false);
    expect(r.weights(PROD)).toEqual({ v2: 100 });
    const state = await r.state(GROUP);
    expect(state.prod?.version).toBe(2);
    const promoting = (await r.history(V2)).find((h) => h.to === 'Promoting')!;
    expect(promoting.reason).toContain(`promote by ${JANE}: looks great`);
    expect(await r.lifecycle(v2)).toMatchObject({ stage: 'Production', status: 'Deployed' });
  });

  it('rollback after promotion returns prod to v1 and blocks v2', async () => {
    expect(await r.command('rollback', V2, 'bad business numbers')).toMatchObject({ outcome: 'applied' });
    await r.runUntil(async () =>
      (await r.state(GROUP)).deployments.every((d) => d.phase !== 'ProdDeploying'),
    );
    const state = await r.state(GROUP);
    expect(state.prod?.version).toBe(1);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    expect(state.deployments.find((d) => d.id === V2)?.phase).toBe('RolledBack');
    expect(state.blocked.map((b) => b.version)).toEqual([2]);
    const event = r.events('Deployment Rolled Back').find((e) => e.detail.deploymentId === V2)!;
    expect(event.detail).toMatchObject({ to: 1 });
    expect(await r.lifecycle(v2)).toMatchObject({ status: 'RolledBack', approval: 'Rejected' });
    // v1's model was retired at the promotion: the rollback recreated it from its package
    expect(r.stack.cloud.sagemaker.models.has('ctl-model-v1')).toBe(true);
  });

  it('retry is refused until the version is approved anew, then accepted', async () => {
    const refused = await r.command('retry', V2);
    expect(refused.outcome).toBe('rejected');
    expect(refused.detail).toContain('Rejected in the registry');
    const before = await r.state(GROUP);

    // the new approval's own event is lost here, so only the retry can start the version again
    await r.setDelivery('modelPackageStateChange', false);
    await r.approve(v2);
    await r.stack.settle();
    await r.setDelivery('modelPackageStateChange', true);
    expect((await r.state(GROUP)).deployments.map((d) => d.id)).toEqual(before.deployments.map((d) => d.id));

    const accepted = await r.command('retry', V2, 'fixed the upstream feature');
    expect(accepted.outcome).toBe('applied');
    await r.runUntil(async () => (await r.phase(`${V2}#2`)) === 'Succeeded');
    const state = await r.state(GROUP);
    expect(state.prod?.version).toBe(2);
    expect(state.blocked).toEqual([]);
    expect(r.weights(PROD)).toEqual({ v2: 100 });
    const retried = await r.history(`${V2}#2`);
    expect(retried[0]).toMatchObject({ to: 'Queued' });
    expect(retried.some((h) => h.reason.includes(`retry of ${V2}`) && h.actor === JANE)).toBe(true);
  });
});

describe('operator commands: a breach while paused, abort, invalid commands', () => {
  let r: Rollouts;
  beforeAll(async () => {
    r = await startRollouts({ configPath: CONFIG });
    await withV1InProd(r, GROUP, PROD);
  });
  afterAll(() => r.close());

  it('a gate breach while paused still rolls back', async () => {
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'Canary');
    expect(await r.command('pause', `${GROUP}:v2`)).toMatchObject({ outcome: 'applied' });
    await r.stack.run(5 * MINUTE);
    r.stack.cloud.setAlarmState('ctl-model-kpi', 'ALARM');
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack', 20 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    r.stack.cloud.setAlarmState('ctl-model-kpi', 'OK');
  });

  it('abort during the canary rolls back to the baseline', async () => {
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v3`)) === 'Canary');
    expect(await r.command('abort', `${GROUP}:v3`, 'wrong feature set')).toMatchObject({
      outcome: 'applied',
    });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v3`)) === 'Aborted', 20 * MINUTE);
    expect(r.weights(PROD)).toEqual({ v1: 100 });
    expect((await r.state(GROUP)).prod?.version).toBe(1);
    expect(r.events('Deployment Aborted').map((e) => e.detail.deploymentId)).toContain(`${GROUP}:v3`);
    const history = await r.history(`${GROUP}:v3`);
    expect(history.find((h) => h.to === 'RollingBack')).toMatchObject({ actor: JANE });
  });

  it.each([
    ['an unknown version', 'resume', `${GROUP}:v42`],
    ['an unconfigured group', 'abort', 'other-model:v1'],
  ] as const)(
    'answers %s with 404, publishing nothing (no chat message for ids of any making)',
    async (_, verb, id) => {
      const published = r.stack.cloud.events.published.length;
      const result = await r.command(verb, id);
      expect(result).toEqual({ outcome: 'unknown', detail: `unknown deployment ${id}` });
      expect(r.stack.cloud.events.published.length).toBe(published);
      expect(rejectedFor(r, id)).toEqual([]);
    },
  );

  it.each([
    ['promote of an aborted deployment', 'promote', `${GROUP}:v3`, 'is Aborted'],
    ['resume of a deployment that is not paused', 'resume', `${GROUP}:v3`, 'is not paused'],
    ['abort of a finished deployment', 'abort', `${GROUP}:v1`, 'already ended Succeeded'],
    ['retry of a succeeded deployment', 'retry', `${GROUP}:v1`, 'only a failed, aborted or rolled back'],
  ] as const)('rejects %s with a reason and an event; nothing changes', async (_, verb, id, why) => {
    const before = await r.state(GROUP);
    const endpoints = JSON.stringify([...r.stack.cloud.sagemaker.endpoints.values()]);
    const rejectedBefore = rejectedFor(r, id).length;
    const result = await r.command(verb, id);
    expect(result.outcome).toBe('rejected');
    expect(result.detail).toContain(why);
    const events = rejectedFor(r, id);
    expect(events).toHaveLength(rejectedBefore + 1);
    expect(events.at(-1)!.detail).toMatchObject({ command: verb, actor: JANE });
    expect(String(events.at(-1)!.detail.reason)).toContain(why);
    const log = r.stack.records.filter((x) => x.kind === 'log' && x.level !== 'info');
    expect(log.some((x) => x.kind === 'log' && JSON.stringify(x).includes(why))).toBe(true);
    const after = await r.state(GROUP);
    expect(after.deployments.map((d) => [d.id, d.phase, d.canary?.paused])).toEqual(
      before.deployments.map((d) => [d.id, d.phase, d.canary?.paused]),
    );
    expect(after.prod).toEqual(before.prod);
    expect(after.blocked).toEqual(before.blocked);
    expect(after.outbox).toEqual([]);
    expect(JSON.stringify([...r.stack.cloud.sagemaker.endpoints.values()])).toBe(endpoints);
  });
});
