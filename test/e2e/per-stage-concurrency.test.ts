import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/domain/model';
import { MINUTE, type Rollouts, startRollouts, withV1InProd } from './rollout-harness';

/** When `id` first entered `phase`, from its history. */
const entered = (history: HistoryEntry[], phase: string): number => {
  const entry = history.find((h) => h.to === phase);
  if (!entry) throw new Error(`never entered ${phase}: ${history.map((h) => h.to).join(' -> ')}`);
  return entry.at;
};

/** Successful writes that reached an endpoint, with their virtual time. */
const endpointWrites = (r: Rollouts, endpointName: string) =>
  r.stack.cloud.calls.filter(
    (c) =>
      !c.error &&
      c.names?.EndpointName === endpointName &&
      /^(CreateEndpoint|UpdateEndpoint|UpdateEndpointWeightsAndCapacities)$/.test(c.operation),
  );

describe('concurrency policies per stage, on the local cloud', () => {
  let r: Rollouts;
  beforeAll(async () => {
    r = await startRollouts({ configPath: 'test/e2e/configs/per-stage.yml' });
  });
  afterAll(() => r.close());

  it('queue: the next version goes through QA during the canary, and enters prod only after it', async () => {
    const group = 'pipe-queue';
    await withV1InProd(r, group, `${group}-prod`);
    await r.registerAndApprove(group, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${group}:v2`)) === 'Canary');
    await r.registerAndApprove(group, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${group}:v3`)) === 'ReadyForProd');
    expect(await r.phase(`${group}:v2`)).toBe('Canary');
    const qaLive = r.stack.cloud.sagemaker.endpoints.get(`${group}-qa`)!;
    expect(qaLive.variants.map((v) => v.name)).toEqual(['v3']);

    try {
      await r.runUntil(async () => (await r.phase(`${group}:v3`)) === 'Canary', 120 * MINUTE);
    } catch (e) {
      const s = await r.state(group);
      throw new Error(
        `${(e as Error).message}: ${s.deployments.map((d) => `${d.id} ${d.phase} ${d.reason}`).join('; ')}`,
      );
    }
    const v2 = await r.history(`${group}:v2`);
    const v3 = await r.history(`${group}:v3`);
    const v2Done = entered(v2, 'Succeeded');
    // v3 was in QA while v2's canary ran, and reached prod only once v2 had ended
    expect(entered(v3, 'QaDeploying')).toBeLessThan(v2Done);
    expect(entered(v3, 'ReadyForProd')).toBeLessThan(v2Done);
    expect(entered(v3, 'ProdDeploying')).toBeGreaterThanOrEqual(v2Done);
    expect(v3.find((h) => h.to === 'ReadyForProd' && h.from === 'ReadyForProd')).toBeUndefined();
    // what reached prod: no write for v3 before v2 was promoted
    const firstV3Write = Math.min(
      ...endpointWrites(r, `${group}-prod`)
        .filter((c) => c.at >= entered(v3, 'ProdDeploying'))
        .map((c) => c.at),
    );
    expect(firstV3Write).toBeGreaterThanOrEqual(v2Done);
    expect((await r.state(group)).prod?.version).toBe(2);
  });

  it('supersede: the canary runs on while the newer version is in QA, and is rolled back once it is ready for prod', async () => {
    const group = 'pipe-supersede';
    await withV1InProd(r, group, `${group}-prod`);
    await r.registerAndApprove(group, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${group}:v2`)) === 'Canary');
    await r.registerAndApprove(group, { 'sim.errorRate': '0' });
    await r.runUntil(async () => (await r.phase(`${group}:v3`)) === 'QaDeploying');
    expect(await r.phase(`${group}:v2`)).toBe('Canary');
    // v2's first step has its weight, and keeps it while v3 is in QA
    await r.runUntil(async () => r.weights(`${group}-prod`).v2 === 10, 10 * MINUTE);
    expect(await r.phase(`${group}:v3`)).toBe('QaDeploying');

    await r.runUntil(async () => (await r.phase(`${group}:v3`)) === 'Canary', 60 * MINUTE);
    const v2 = await r.history(`${group}:v2`);
    const v3 = await r.history(`${group}:v3`);
    expect(v2.at(-1)).toMatchObject({ to: 'Superseded' });
    expect(v2.find((h) => h.to === 'RollingBack')?.reason).toBe('rolling back to v1: superseded by v3');
    // stopped when v3 passed QA, not when v3 was approved
    expect(entered(v2, 'RollingBack')).toBe(entered(v3, 'ReadyForProd'));
    expect(entered(v3, 'ProdDeploying')).toBeGreaterThanOrEqual(entered(v2, 'Superseded'));
    // v3's canary runs against v1, the version prod went back to
    await r.runUntil(async () => r.weights(`${group}-prod`).v3 === 10, 10 * MINUTE);
    expect(r.weights(`${group}-prod`)).toEqual({ v1: 90, v3: 10 });
  });
});
