import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

const GROUP = 'bake-model';

/** What reached the prod endpoint, and when (virtual ms). */
const prodWrites = (r: Rollouts) =>
  r.stack.cloud.calls.filter(
    (c) =>
      !c.error && c.names?.EndpointName === `${GROUP}-prod` && /^(Create|Update)Endpoint$/.test(c.operation),
  );

/** When the deployment entered `phase`, from its history. */
const enteredAt = async (r: Rollouts, id: string, phase: string): Promise<number> => {
  const entry = (await r.history(id)).find((h) => h.to === phase);
  if (!entry) throw new Error(`${id} never entered ${phase}`);
  return entry.at;
};

describe('a bake between QA and prod (promotion.bakeMinutes), on the local cloud', () => {
  let r: Rollouts;
  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/bake.yml' });
    await r.createGroup(GROUP);
  });
  afterAll(() => r.close());

  it('holds the version in QA for the bake, then the tick sends it to prod within a minute of its end', async () => {
    await r.registerAndApprove(GROUP);
    const id = `${GROUP}:v1`;
    await r.runUntil(async () => (await r.phase(id)) === 'ReadyForProd');
    const passed = await enteredAt(r, id, 'ReadyForProd');
    const bakeEnd = passed + 30 * MINUTE;
    expect((await r.state(GROUP)).deployments[0]).toMatchObject({
      bakeUntil: bakeEnd,
      reason: `baking in QA: enters prod no sooner than ${new Date(bakeEnd).toISOString()} (promotion.bakeMinutes)`,
    });

    await r.runUntil(async () => (await r.phase(id)) === 'Succeeded', 60 * MINUTE);
    const writes = prodWrites(r);
    expect(writes.map((c) => c.operation)).toEqual(['CreateEndpoint']);
    expect(writes[0]!.at).toBeGreaterThanOrEqual(bakeEnd);
    expect(writes[0]!.at).toBeLessThan(bakeEnd + MINUTE);
    expect((await r.state(GROUP)).prod?.version).toBe(1);
  });

  it('promote during a bake is refused with its end; promote --full ends it at once, recorded with the actor', async () => {
    await r.registerAndApprove(GROUP);
    const id = `${GROUP}:v2`;
    await r.runUntil(async () => (await r.phase(id)) === 'ReadyForProd');
    const bakeEnd = (await enteredAt(r, id, 'ReadyForProd')) + 30 * MINUTE;
    const writesBefore = prodWrites(r).length;

    const plain = await r.command('promote', id);
    expect(plain).toEqual({
      outcome: 'rejected',
      detail: `${id} bakes in QA until ${new Date(bakeEnd).toISOString()}; promote --full ends the bake now`,
    });
    expect(await r.phase(id)).toBe('ReadyForProd');

    const sentAt = r.stack.now;
    expect(await r.command('promote', id, 'hotfix', { full: true })).toMatchObject({ outcome: 'applied' });
    const ended = (await r.history(id)).find((h) => h.reason.startsWith('bake ended before'));
    expect(ended).toMatchObject({ actor: 'arn:aws:iam::111122223333:user/jane.doe' });
    expect(ended?.reason).toMatch(/\(promote by arn:aws:iam::111122223333:user\/jane\.doe: hotfix\)$/);
    await r.runUntil(async () => prodWrites(r).length > writesBefore, 10 * MINUTE);
    expect(prodWrites(r)[writesBefore]!.at).toBeLessThan(sentAt + MINUTE);
    expect(prodWrites(r)[writesBefore]!.at).toBeLessThan(bakeEnd);
    await r.runUntil(async () => (await r.phase(id)) === 'Succeeded', 60 * MINUTE);
  });
});
