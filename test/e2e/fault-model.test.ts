import {
  DescribePipelineExecutionCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-sagemaker';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../src/domain/model';
import { TransientError } from '../../src/errors';
import type { CloudEvent } from '../../src/local/cloud';
import { deps, setDeps } from '../../src/wiring';
import { crashSwitch } from './crash-injection';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

/**
 * Fault-injection model test: the real handlers, use cases and executor against the local cloud
 * while SageMaker throttles, fails with 500s, answers slowly, duplicates endpoint events, events are
 * held back and delivered late in reverse order, a handler dies right after any write, the
 * configuration loses canary steps mid-canary, alarms fire, operators intervene and pipelines ask
 * for deployments through callback steps and are stopped. The invariants are checked on what is
 * executed: the endpoint's weights, sampled every virtual minute, the CreateEndpoint and
 * UpdateEndpoint calls the local cloud recorded, and the answers SageMaker got for every token.
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
  | { type: 'crash'; afterWrites: number }
  | { type: 'reorder'; minutes: number }
  | { type: 'pipeline' }
  | { type: 'stopPipeline' }
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
    arbitrary: fc.record({ type: fc.constant('ship' as const), errorRate: fc.constantFrom(0, 0.3) }),
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
  { weight: 2, arbitrary: fc.record({ type: fc.constant('alarm' as const), on: fc.boolean() }) },
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
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('crash' as const),
      afterWrites: fc.integer({ min: 1, max: 12 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('reorder' as const), minutes: fc.integer({ min: 1, max: 20 }) }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('pipeline' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('stopPipeline' as const) }) },
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

/** Events SageMaker sends that the service's rules deliver (held back and reordered by 'reorder'). */
const SAGEMAKER_EVENTS = ['SageMaker Endpoint State Change', 'SageMaker Model Package State Change'];

/** Delivers events again, late and in reverse order, to every function whose rule matches. */
const deliverReversed = async (r: Rollouts, events: CloudEvent[]): Promise<void> => {
  for (const event of [...events].reverse()) {
    for (const rule of r.stack.wiring.eventRules) {
      const types = rule.pattern['detail-type'];
      if (rule.bus !== 'default' || !Array.isArray(types) || !types.includes(event['detail-type'])) continue;
      // a failed delivery is not retried here: the tick must reconcile what it missed
      await r.stack.invoke(rule.functionName, event, `late ${event['detail-type']}`).catch(() => undefined);
    }
  }
  await r.stack.settle();
};

/** The versions in an endpoint config, by its variants' names (v1, v2...). */
type ConfigVersions = Map<string, number[]>;

/**
 * Remembers every endpoint config the local cloud is given, deleted ones included: the oracle reads
 * them after the run, when a rollback's clean-up has long deleted the canary config.
 */
const rememberConfigs = (r: Rollouts): ConfigVersions => {
  const known: ConfigVersions = new Map();
  const configs = r.stack.cloud.sagemaker.configs;
  const set = configs.set.bind(configs);
  configs.set = (name, config) => {
    known.set(
      name,
      config.variants.map((v) => Number(/^v(\d+)$/.exec(v.VariantName)?.[1] ?? 0)),
    );
    return set(name, config);
  };
  return known;
};

/**
 * Forward deployments per endpoint and config: CreateEndpoint/UpdateEndpoint calls that succeeded
 * with a config whose newest version is at least the newest one the endpoint was sent before (a
 * rollback to an older config, the previous version's, is not a deployment of a version).
 */
const forwardDeployments = (r: Rollouts, configs: ConfigVersions): Map<string, number> => {
  const counts = new Map<string, number>();
  const newestSent = new Map<string, number>();
  for (const call of r.stack.cloud.calls) {
    if (call.error || !['CreateEndpoint', 'UpdateEndpoint'].includes(call.operation)) continue;
    const endpoint = call.names?.EndpointName ?? '?';
    const configName = call.names?.EndpointConfigName ?? '?';
    const versions = configs.get(configName);
    expect(versions, `${endpoint} <- ${configName}: a config the local cloud was never given`).toBeDefined();
    const newest = Math.max(0, ...(versions ?? []));
    if (newest < (newestSent.get(endpoint) ?? 0)) continue;
    newestSent.set(endpoint, newest);
    const key = `${endpoint} <- ${configName} (v${newest})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
};

const DEFAULT_SEED = 20_261_129;

/** What the runs exercised, summed over all of them: a model test whose faults never happen proves nothing. */
const exercised = {
  stoppedWithTraffic: 0,
  settled: 0,
  crashes: 0,
  lateEvents: 0,
  tokens: 0,
  answeredStopping: 0,
  deployments: 0,
};

const play = async (actions: Action[]): Promise<void> => {
  const crashes = crashSwitch();
  const r = await startRollouts({ duplicateEventRate: 0.3, seed: 7, onRecord: crashes.onRecord });
  const configs = rememberConfigs(r);
  // the test reads the table directly: a crashed handler's store refuses every call
  const store = deps().store;
  crashes.install(r.stack);
  const samples: Sample[] = [];
  /** when each version's deployment was first seen rolling back or ending without success */
  const stoppedAt = new Map<number, number>();
  const approved = new Set<number>();
  const packages: string[] = [];
  const executions: string[] = [];
  let version = 0;
  const observe = async (): Promise<boolean> => {
    const sample = sampleProd(r);
    if (sample) samples.push(sample);
    const state = await store.loadGroup(GROUP);
    for (const d of state?.deployments ?? []) {
      const stopped = d.phase === 'RollingBack' || (isTerminal(d.phase) && d.phase !== 'Succeeded');
      if (stopped && !stoppedAt.has(d.version)) stoppedAt.set(d.version, r.stack.cloud.clock.now());
    }
    return false;
  };
  const current = async () => {
    const state = await store.loadGroup(GROUP);
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
          packages.push(await r.registerAndApprove(GROUP, { 'sim.errorRate': String(a.errorRate) }));
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
          if (!id) break;
          const send = () =>
            r.command(a.verb, id, 'model test', a.verb === 'promote' && a.full ? { full: true } : {});
          // a control function that died answers 502: the operator sends the command again
          await send().catch(async (error: unknown) => {
            if (!(error instanceof TransientError)) throw error;
            await send();
          });
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
        case 'crash':
          crashes.arm(a.afterWrites);
          break;
        case 'reorder': {
          const from = r.stack.cloud.events.published.length;
          for (const rule of r.stack.wiring.eventRules.filter((rule) => rule.bus === 'default'))
            await r.setDelivery(rule.functionName, false);
          await r.stack.run(a.minutes * MINUTE, observe);
          for (const rule of r.stack.wiring.eventRules.filter((rule) => rule.bus === 'default'))
            await r.setDelivery(rule.functionName, true);
          const held = r.stack.cloud.events.published
            .slice(from)
            .filter((e) => SAGEMAKER_EVENTS.includes(e['detail-type']));
          exercised.lateEvents += held.length;
          await deliverReversed(r, held);
          break;
        }
        case 'pipeline': {
          const modelPackageArn = packages.at(-1);
          if (!modelPackageArn) break;
          r.stack.cloud.pipelines.define({
            name: 'train-and-deploy',
            callbackQueueUrl: r.stack.queueUrls.CallbackQueue!,
            callbackArguments: { task: 'deploy', modelPackageArn, stage: 'prod' },
          });
          const started = await r.sm.send(
            new StartPipelineExecutionCommand({ PipelineName: 'train-and-deploy' }),
          );
          executions.push(started.PipelineExecutionArn!);
          await r.stack.settle();
          break;
        }
        case 'stopPipeline': {
          const arn = executions.pop();
          if (!arn) break;
          const execution = await r.sm.send(
            new DescribePipelineExecutionCommand({ PipelineExecutionArn: arn }),
          );
          if (execution.PipelineExecutionStatus === 'Executing')
            await r.sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
          await r.stack.settle();
          break;
        }
        case 'wait':
          await r.stack.run(a.minutes * MINUTE, observe);
          break;
      }
      await observe();
    }
    // faults end; everything in flight must end, or wait with a named reason
    crashes.arm(0);
    r.stack.cloud.faults.clear();
    r.stack.cloud.setAlarmState(ALARM, 'OK');
    await r.stack.run(8 * 60 * MINUTE, observe);
    await observe();

    // every token SageMaker handed out got exactly one accepted answer, Stopping included
    for (const token of r.stack.cloud.pipelines.tokens()) {
      // a request retried with the same ClientRequestToken is the same answer (SageMaker takes it idempotently)
      const accepted = new Set(
        r.stack.cloud.pipelines
          .answers(token)
          .filter((a) => a.accepted)
          .map((a) => `${a.kind} ${a.clientRequestToken ?? a.at}`),
      );
      expect(accepted.size, `token ${token.slice(0, 4)}… answered ${[...accepted].join(', ')}`).toBe(1);
    }
    // no version is deployed twice to one endpoint, crashes, duplicates and late events included
    const deployments = forwardDeployments(r, configs);
    for (const [deployment, count] of deployments) {
      expect(count, `${deployment} sent ${count} times`).toBe(1);
    }
    exercised.crashes += crashes.crashes();
    exercised.tokens += r.stack.cloud.pipelines.tokens().length;
    exercised.answeredStopping += r.stack.cloud.pipelines
      .answers()
      .filter((a) => a.accepted && a.kind === 'failure').length;
    exercised.deployments += deployments.size;

    if (version === 0) return;
    const state = (await store.loadGroup(GROUP))!;
    for (const d of state.deployments) {
      if (!isTerminal(d.phase)) expect(d.reason, `${d.id} waits in ${d.phase} without a reason`).toBeTruthy();
      else if (d.phase !== 'Succeeded')
        expect(d.reason, `${d.id} ended ${d.phase} without a reason`).toBeTruthy();
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
  it('a completed gate rollback to the previous version is not a second deployment of it', async () => {
    // shrunk by hand from seed 20261129's run 15: the rollback's clean-up deletes the canary config
    await play([
      { type: 'ship', errorRate: 0 },
      { type: 'wait', minutes: 17 },
      { type: 'ship', errorRate: 0.3 },
    ]);
  }, 300_000);

  it('hold for random sequences of approvals, faults, alarms, operator commands and config changes', async () => {
    // FAULT_MODEL_RUNS=200 (with a random FAULT_MODEL_SEED) for a longer search than npm test's
    const numRuns = Number(process.env.FAULT_MODEL_RUNS ?? 10);
    const seed = Number(process.env.FAULT_MODEL_SEED ?? DEFAULT_SEED);
    await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 4, maxLength: 14 }), play), {
      numRuns,
      seed,
      endOnFailure: true,
    });
    if (seed === DEFAULT_SEED) {
      // what npm test's runs are known to exercise (another seed may draw fewer of them)
      expect(exercised.stoppedWithTraffic, 'a stopped candidate still on prod').toBeGreaterThan(0);
      expect(exercised.settled, 'runs that settled').toBeGreaterThan(0);
      expect(exercised.crashes, 'handlers crashed').toBeGreaterThan(0);
      expect(exercised.lateEvents, 'events delivered late, out of order').toBeGreaterThan(0);
      expect(exercised.tokens, 'pipeline callback tokens').toBeGreaterThan(0);
      expect(exercised.answeredStopping, 'failure answers (Stopping, failed deployments)').toBeGreaterThan(0);
      expect(exercised.deployments, 'CreateEndpoint/UpdateEndpoint deployments counted').toBeGreaterThan(0);
    }
    console.info(`fault model: ${numRuns} runs (seed ${seed}) exercised ${JSON.stringify(exercised)}`);
  }, 600_000);
});
