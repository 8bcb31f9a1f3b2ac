import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../src/domain/model';
import { deps, setDeps } from '../../src/wiring';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

/**
 * Fault-injection model test: the real handlers, use cases and executor against the local cloud
 * while SageMaker throttles, fails with 500s, answers slowly, duplicates endpoint events, the
 * configuration loses canary steps mid-canary, alarms fire and operators intervene. The invariants
 * are checked on what reaches the endpoint: its weights, sampled every virtual minute.
 */

const GROUP = 'churn-model';
const PROD = 'churn-model-prod';
const ALARM = 'churn-model-prod-business-kpi';

type Action =
  | { type: 'ship'; errorRate: number }
  | { type: 'fault'; operation: string; error: 'ThrottlingException' | 'InternalFailure'; times: number }
  | { type: 'slow'; operation: string; latencyMs: number; times: number }
  | { type: 'alarm'; on: boolean }
  | { type: 'command'; verb: 'abort' | 'promote' | 'pause' | 'resume' | 'rollback'; full: boolean }
  | { type: 'fewerSteps' }
  | { type: 'wait'; minutes: number };

/** Operations only the service sends (the test's own registry and bus calls stay reliable). */
const writes = [
  'UpdateEndpoint',
  'UpdateEndpointWeightsAndCapacities',
  'CreateEndpointConfig',
  'CreateModel',
  'DescribeEndpoint',
  'DeleteEndpointConfig',
  'GetMetricData',
  'DescribeAlarms',
];

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant('ship' as const), errorRate: fc.constantFrom(0, 0, 0.3) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('fault' as const),
      operation: fc.constantFrom(...writes),
      error: fc.constantFrom('ThrottlingException' as const, 'InternalFailure' as const),
      times: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('slow' as const),
      operation: fc.constantFrom(...writes),
      latencyMs: fc.integer({ min: 1, max: 20 }),
      times: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('alarm' as const), on: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('command' as const),
      verb: fc.constantFrom(
        'abort' as const,
        'promote' as const,
        'pause' as const,
        'resume' as const,
        'rollback' as const,
      ),
      full: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('fewerSteps' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 25 }) }),
  },
);

interface Sample {
  at: number;
  weights: Record<string, { current: number; desired: number }>;
}

const sampleProd = (r: Rollouts): Sample | undefined => {
  const ep = r.stack.cloud.sagemaker.endpoints.get(PROD);
  if (!ep) return undefined;
  return {
    at: r.stack.cloud.clock.now(),
    weights: Object.fromEntries(
      ep.variants.map((v) => [v.name, { current: v.currentWeight, desired: v.desiredWeight }]),
    ),
  };
};

/** How often the invariants had something to check, so that the property cannot pass vacuously. */
const exercised = { stoppedWithTraffic: 0, settled: 0 };

const play = async (actions: Action[]): Promise<void> => {
  const r = await startRollouts({ duplicateEventRate: 0.3, seed: 7 });
  const samples: Sample[] = [];
  /** when each version's deployment was first seen rolling back or ending without success */
  const stoppedAt = new Map<number, number>();
  const approved = new Set<number>();
  let version = 0;
  const observe = async (): Promise<boolean> => {
    const sample = sampleProd(r);
    if (sample) samples.push(sample);
    const state = await deps().store.loadGroup(GROUP);
    for (const d of state?.deployments ?? []) {
      const stopped = d.phase === 'RollingBack' || (isTerminal(d.phase) && d.phase !== 'Succeeded');
      if (stopped && !stoppedAt.has(d.version)) stoppedAt.set(d.version, r.stack.cloud.clock.now());
    }
    return false;
  };
  const current = async () => {
    const state = await deps().store.loadGroup(GROUP);
    return state?.deployments.filter((d) => !isTerminal(d.phase)).at(-1)?.id;
  };
  try {
    await r.createGroup(GROUP);
    r.stack.cloud.setTraffic(PROD, 600);
    for (const a of actions) {
      switch (a.type) {
        case 'ship':
          version += 1;
          approved.add(version);
          await r.registerAndApprove(GROUP, { 'sim.errorRate': String(a.errorRate) });
          break;
        case 'fault':
          r.stack.cloud.faults.add({ operation: a.operation, error: a.error, times: a.times });
          break;
        case 'slow':
          r.stack.cloud.faults.add({ operation: a.operation, latencyMs: a.latencyMs, times: a.times });
          break;
        case 'alarm':
          r.stack.cloud.setAlarmState(ALARM, a.on ? 'ALARM' : 'OK');
          break;
        case 'command': {
          const id = await current();
          if (id)
            await r.command(a.verb, id, 'model test', a.verb === 'promote' && a.full ? { full: true } : {});
          break;
        }
        case 'fewerSteps': {
          // the configuration is replaced (never edited in place: it is cached across stacks)
          const config = structuredClone(deps().config);
          const strategy = config.modelPackageGroups[GROUP]!.stages.prod.strategy;
          if (strategy.type === 'canary') strategy.steps.splice(1);
          setDeps({ ...deps(), config });
          break;
        }
        case 'wait':
          await r.stack.run(a.minutes * MINUTE, observe);
          break;
      }
      await observe();
    }
    // faults end; everything in flight must end, or wait with a named reason
    r.stack.cloud.faults.clear();
    r.stack.cloud.setAlarmState(ALARM, 'OK');
    await r.stack.run(8 * 60 * MINUTE, observe);
    await observe();

    if (version === 0) return;
    const state = await r.state(GROUP);
    for (const d of state.deployments) {
      if (!isTerminal(d.phase)) expect(d.reason, `${d.id} waits in ${d.phase} without a reason`).toBeTruthy();
    }
    for (const sample of samples) {
      const total = Object.values(sample.weights).reduce((sum, w) => sum + w.current, 0);
      expect(total, `prod weights sum to zero at ${sample.at}`).toBeGreaterThan(0);
      // nothing serves that was not approved
      for (const variant of Object.keys(sample.weights)) {
        expect(approved.has(Number(variant.slice(1))), `${variant} on prod was never approved`).toBe(true);
      }
    }
    // after a failed gate, an abort or a rollback, the candidate's weight never rises again
    for (const [v, since] of stoppedAt) {
      let last = Number.POSITIVE_INFINITY;
      let seen = 0;
      for (const sample of samples.filter((s) => s.at >= since)) {
        const w = sample.weights[`v${v}`];
        if (!w) continue;
        seen += 1;
        if (seen === 2) exercised.stoppedWithTraffic += 1;
        const weight = Math.max(w.current, w.desired);
        if (state.prod?.version === v) break; // served again after a new approval (none here) or never stopped
        expect(weight, `v${v} rose to ${weight} after it was stopped`).toBeLessThanOrEqual(last);
        last = weight;
      }
    }
    // with every deployment ended, prod serves the version the record says, alone, at 100 %
    if (state.deployments.every((d) => isTerminal(d.phase)) && state.prod) {
      exercised.settled += 1;
      const ep = r.stack.cloud.sagemaker.endpoints.get(PROD)!;
      expect(ep.status).toBe('InService');
      expect(ep.variants.map((v) => [v.name, v.currentWeight])).toEqual([[state.prod.variantName, 100]]);
    }
  } finally {
    await r.close();
  }
};

describe('fault-injection model: invariants on what reaches the endpoint', () => {
  it('hold for random sequences of approvals, faults, alarms, operator commands and config changes', async () => {
    await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 4, maxLength: 14 }), play), {
      numRuns: 10,
      seed: 20_261_129,
      endOnFailure: true,
    });
    expect(exercised.stoppedWithTraffic).toBeGreaterThan(0);
    expect(exercised.settled).toBeGreaterThan(0);
  }, 600_000);
});
