import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_SWEEP_MINUTES } from '../../src/app/tick';
import type { CallRecord } from '../../src/local/cloud/server';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

const ACTIVE = ['batch-a', 'batch-b', 'batch-c', 'batch-d', 'batch-e'];
const IDLE = 'batch-idle';

interface TickCalls {
  at: number;
  calls: CallRecord[];
}

const count = (tick: TickCalls, operation: string) =>
  tick.calls.filter((c) => c.operation === operation).length;

describe('the tick batches its reads across rollouts', () => {
  let r: Rollouts;
  const ticks: TickCalls[] = [];
  const sweeps: TickCalls[] = [];
  let tickStart = -1;

  beforeAll(async () => {
    r = await startRollouts({
      configPath: 'test/e2e/configs/five-groups.yml',
      // the calls each tick makes itself (not those of the events delivered after it)
      onRecord: (record) => {
        if ((record.kind === 'invoke' || record.kind === 'result') && record.functionName === 'canaryTick') {
          if (record.kind === 'invoke') tickStart = r.stack.cloud.calls.length;
          else {
            const calls = r.stack.cloud.calls.slice(tickStart);
            // the approval sweep (one ListModelPackages per group) runs on its own minutes only
            const sweep = calls.filter((c) => c.operation === 'ListModelPackages');
            if (sweep.length > 0) sweeps.push({ at: record.at, calls: sweep });
            ticks.push({ at: record.at, calls: calls.filter((c) => c.operation !== 'ListModelPackages') });
          }
        }
      },
    });
    for (const group of [...ACTIVE, IDLE]) {
      await r.createGroup(group);
      await r.registerAndApprove(group);
    }
    await r.runUntil(async () => {
      for (const group of [...ACTIVE, IDLE]) if ((await r.phase(`${group}:v1`)) !== 'Succeeded') return false;
      return true;
    });
    for (const group of [...ACTIVE, IDLE]) r.stack.cloud.setTraffic(`${group}-prod`, 600);
    for (const group of ACTIVE) await r.registerAndApprove(group, { 'sim.errorRate': '0' });
  });
  afterAll(() => r.close());

  it('with five canaries baking: one GetMetricData, one DescribeAlarms, one DescribeEndpoint per rollout', async () => {
    await r.runUntil(async () => {
      for (const group of ACTIVE) if ((await r.phase(`${group}:v2`)) !== 'Canary') return false;
      return true;
    });
    const from = ticks.length;
    await r.stack.run(5 * MINUTE);
    const baking = ticks.slice(from);
    expect(baking.length).toBeGreaterThanOrEqual(4);
    for (const tick of baking) {
      expect(count(tick, 'GetMetricData')).toBe(1);
      expect(count(tick, 'DescribeAlarms')).toBe(1);
      expect(count(tick, 'DescribeEndpoint')).toBe(ACTIVE.length);
      expect(tick.calls.map((c) => c.operation).sort()).toEqual(
        [...Array(ACTIVE.length).fill('DescribeEndpoint'), 'DescribeAlarms', 'GetMetricData'].sort(),
      );
    }
    for (const group of ACTIVE) expect(r.weights(`${group}-prod`)).toEqual({ v1: 90, v2: 10 });
  });

  it('the tick that passes a step for all five leads to one weight change each, sent by the executor', async () => {
    const from = ticks.length;
    const callsFrom = r.stack.cloud.calls.length;
    await r.runUntil(() => ACTIVE.every((group) => r.weights(`${group}-prod`).v2 === 50), 15 * MINUTE);
    const shifts = r.stack.cloud.calls
      .slice(callsFrom)
      .filter((c) => c.operation === 'UpdateEndpointWeightsAndCapacities' && !c.error).length;
    expect(shifts).toBe(ACTIVE.length);
    for (const tick of ticks.slice(from)) {
      // the tick decides; only the executor changes an endpoint
      expect(count(tick, 'UpdateEndpointWeightsAndCapacities')).toBe(0);
      expect(count(tick, 'GetMetricData')).toBeLessThanOrEqual(1);
      expect(count(tick, 'DescribeEndpoint')).toBeLessThanOrEqual(ACTIVE.length);
    }
  });

  it('a tick with nothing in flight makes no AWS call at all', async () => {
    await r.runUntil(async () => {
      for (const group of ACTIVE) if ((await r.phase(`${group}:v2`)) !== 'Succeeded') return false;
      return true;
    });
    await r.stack.run(2 * MINUTE);
    const from = ticks.length;
    await r.stack.run(3 * MINUTE);
    const idle = ticks.slice(from);
    expect(idle.length).toBeGreaterThanOrEqual(2);
    for (const tick of idle) expect(tick.calls).toEqual([]);
    for (const sweep of sweeps) {
      expect(Math.floor(sweep.at / MINUTE) % APPROVAL_SWEEP_MINUTES).toBe(0);
      expect(sweep.calls).toHaveLength(ACTIVE.length + 1);
    }
    expect(r.weights(`${IDLE}-prod`)).toEqual({ v1: 100 });
  });
});
