import { describe, expect, it } from 'vitest';
import type { GateReadings } from '../../src/domain/model';
import {
  commandsOf,
  failCanary,
  GROUP,
  groupConfig,
  id,
  MIN,
  PROD_ENDPOINT,
  packageArn,
  readings,
  ship,
  toCanary,
  World,
} from './world';

/**
 * What a deployment leaves behind for the people who read it: its history (every phase change and
 * step, with its reason, its actor and the weights then), the events it publishes and what it writes
 * to the model registry. Each scenario reads the whole trail, in order.
 */

type Row = [from: string | null, to: string, reason: string | RegExp, weights?: Record<string, number>];

const trail = (w: World, d: string) =>
  commandsOf(w.commands, 'RecordHistory')
    .filter((c) => c.entry.deploymentId === d)
    .map((c) => c.entry);

/** from, to, reason (text or pattern) and the weights recorded, of every history entry of `d` */
const expectTrail = (w: World, d: string, rows: Row[]) =>
  expect(trail(w, d).map((e) => [e.from, e.to, e.reason, e.weights])).toEqual(
    rows.map(([from, to, reason, weights]) => [
      from,
      to,
      typeof reason === 'string' ? reason : expect.stringMatching(reason),
      weights,
    ]),
  );

const published = (w: World, d: string, type: string) =>
  commandsOf(w.commands, 'Publish')
    .filter((c) => c.event.deploymentId === d && c.event.type === type)
    .map((c) => c.event.detail);

const registryWrites = (w: World, version: number) =>
  commandsOf(w.commands, 'UpdateRegistry')
    .filter((c) => c.packageArn === packageArn(version))
    .map((c) => ({ lifecycle: c.lifecycle, reject: c.reject }));

/** the judge's summary of healthy readings: several findings, joined with "; " */
const SUMMARY =
  /^evidence \d+:1 that the candidate's 5XX rate is under 2x the baseline's \(20:1 passes\); candidate 0\.20 % vs baseline 0\.20 % over 10,000 and 90,000 requests; candidate p99 latency/;

describe('the history of a canary, from its request to promotion', () => {
  it('with a pre-traffic check: every step, its weights, the promotion and what the registry is told', () => {
    const w = new World(groupConfig({ prodSmokeTest: true }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.settle('prod');
    w.send({ type: 'PreTrafficChecked', deploymentId: id(2), ok: true, detail: 'answered 200' });
    w.settle('prod');
    for (let i = 0; i < 2; i += 1) {
      w.later(5 * MIN).canary(id(2), readings.healthy());
      w.settle('prod');
    }
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Succeeded');
    expectTrail(w, id(2), [
      [null, 'Queued', 'requested by approval'],
      ['Queued', 'QaDeploying', 'deploying v2 to QA'],
      ['QaDeploying', 'ReadyForProd', 'QA verified (no smoke test configured)'],
      ['ReadyForProd', 'ProdDeploying', 'canary config: v1 100% / v2 0%'],
      [
        'ProdDeploying',
        'ProdVerifying',
        'v2 in prod at weight 0; invoking it with TargetVariant: smoke test',
        { v1: 100, v2: 0 },
      ],
      [
        'ProdVerifying',
        'Canary',
        'pre-traffic check passed: answered 200; step 1/2: 10% to v2',
        { v1: 90, v2: 10 },
      ],
      [
        'Canary',
        'Canary',
        new RegExp(`^step 1/2 \\(10%\\) passed: ${SUMMARY.source.slice(1)}`),
        { v1: 90, v2: 10 },
      ],
      ['Canary', 'Canary', 'step 2/2: 50% to v2', { v1: 50, v2: 50 }],
      [
        'Canary',
        'Canary',
        new RegExp(`^step 2/2 \\(50%\\) passed: ${SUMMARY.source.slice(1)}`),
        { v1: 50, v2: 50 },
      ],
      ['Canary', 'Promoting', 'promoting: all 2 steps passed'],
      ['Promoting', 'Succeeded', 'v2 serves all production traffic'],
    ]);
    // each passed step is published with its place, weight, readings and the judge's summary
    const steps = published(w, id(2), 'Canary Step Passed');
    expect(steps).toEqual([
      expect.objectContaining({ step: 1, steps: 2, weight: 10, summary: expect.stringMatching(SUMMARY) }),
      expect.objectContaining({ step: 2, steps: 2, weight: 50, summary: expect.stringMatching(SUMMARY) }),
    ]);
    expect(steps[0]!.readings).toMatchObject({ candidate: { invocations: 10_000 }, evidence: {} });
    expect(published(w, id(2), 'Deployment Promoted')).toEqual([
      expect.objectContaining({ endpointName: PROD_ENDPOINT, previousVersion: 1 }),
    ]);
    expect(registryWrites(w, 2).map((u) => u.lifecycle)).toEqual([
      { stage: 'QA', status: 'Deployed', description: 'no smoke test configured' },
      { stage: 'Production', status: 'Deployed', description: 'serving all production traffic' },
    ]);
    expect(registryWrites(w, 1).at(-1)).toEqual({
      lifecycle: { stage: 'Production', status: 'Superseded', description: 'superseded by v2' },
      reject: undefined,
    });
  });

  it('without a pre-traffic check, step 1 starts as soon as the canary config is live', () => {
    const w = new World();
    ship(w, 1);
    expectTrail(w, id(1), [
      [null, 'Queued', 'requested by approval'],
      ['Queued', 'QaDeploying', 'deploying v1 to QA'],
      ['QaDeploying', 'ReadyForProd', 'QA verified (no smoke test configured)'],
      ['ReadyForProd', 'ProdDeploying', 'first prod deployment: v1 alone'],
      ['ProdDeploying', 'Succeeded', 'v1 serves all production traffic'],
    ]);
    expect(published(w, id(1), 'Deployment Promoted')).toEqual([
      expect.objectContaining({ endpointName: PROD_ENDPOINT, previousVersion: undefined }),
    ]);
    toCanary(w, 2);
    expect(trail(w, id(2)).at(-1)).toMatchObject({
      from: 'ProdDeploying',
      to: 'Canary',
      reason: 'no pre-traffic check configured; step 1/2: 10% to v2',
      weights: { v1: 90, v2: 10 },
    });
  });
});

/** Healthy per-minute readings, as CloudWatch gives them, for every minute from `from` to `to`. */
const healthyMinutes = (from: number, to: number): GateReadings => {
  const ats: number[] = [];
  for (let at = from; at < to; at += MIN) ats.push(at);
  const variant = (invocations: number, errors5xx: number) => ({
    invocations: invocations * ats.length,
    errors5xx: errors5xx * ats.length,
    errorRate: errors5xx / invocations,
    latencyMs: 40,
    minutes: ats.map((at) => ({ at, invocations, errors5xx, latencyMs: 40 })),
  });
  return {
    candidate: variant(2_000, 4),
    baseline: variant(18_000, 36),
    alarmsInAlarm: [],
    windowStart: from,
    windowEnd: to,
  };
};

describe('a canary step passes only on what it has seen', () => {
  it('the bake over, a step waits until CloudWatch has settled its last minutes (the ingestion lag)', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    const start = w.dep(d).canary!.startedAt;
    // 5 min of bake are over, but the default 3 min ingestion lag leaves its last 3 unsettled
    w.later(5 * MIN).canary(d, healthyMinutes(start, w.now));
    expect(w.dep(d).canary!.stepIndex).toBe(0);
    w.later(2 * MIN).canary(d, healthyMinutes(start, w.now));
    expect(w.dep(d).canary!.stepIndex).toBe(0);
    w.later(MIN).canary(d, healthyMinutes(start, w.now));
    expect(w.dep(d).canary!.stepIndex).toBe(1);
    expect(trail(w, d).at(-2)?.reason).toMatch(/^step 1\/2 \(10%\) passed: /);
  });

  it('a step that started mid-minute bakes its full time, to the second', () => {
    const w = new World();
    ship(w, 1);
    w.later(30_000);
    const d = toCanary(w, 2);
    expect(w.dep(d).canary!.bakeUntil).toBe(w.now + 5 * MIN);
    w.later(5 * MIN - 10_000).canary(d, readings.healthy());
    expect(w.dep(d).canary!.stepIndex).toBe(0);
    w.later(10_000).canary(d, readings.healthy());
    expect(w.dep(d).canary!.stepIndex).toBe(1);
  });
});

/** v1 serves prod, v2 is at canary step 1 (10 %) */
const canaryOfV2 = (w: World): string => {
  ship(w, 1);
  return toCanary(w, 2);
};

const firstRows = (version: number, to = 'no pre-traffic check configured'): Row[] => [
  [null, 'Queued', 'requested by approval'],
  ['Queued', 'QaDeploying', `deploying v${version} to QA`],
  ['QaDeploying', 'ReadyForProd', 'QA verified (no smoke test configured)'],
  ['ReadyForProd', 'ProdDeploying', `canary config: v1 100% / v${version} 0%`],
  ['ProdDeploying', 'Canary', `${to}; step 1/2: 10% to v${version}`, { v1: 90, v2: 10 }],
];

describe('how a canary ends early, in its history and the registry', () => {
  it('a failed gate: the reason names the step and every finding; the registry rejects with it', () => {
    const w = new World();
    const d = canaryOfV2(w);
    w.later(MIN).canary(d, readings.failing());
    w.settleAll();
    const gate =
      /^gate failed at step 1\/2 \(10%\): candidate 5XX 10\.00 % \(50 of 500\) vs baseline 0\.02 % \(1 of 4,500\), evidence >1,000,000,000:1 against the candidate, limit 159:1; candidate 5XX 10\.00 % \(50 of 500\) above the 5\.00 % ceiling/;
    const rollingBack = new RegExp(`^rolling back to v1: ${gate.source.slice(1)}`);
    expectTrail(w, d, [
      ...firstRows(2),
      ['Canary', 'RollingBack', rollingBack, { v1: 100, v2: 0 }],
      ['RollingBack', 'RolledBack', new RegExp(`${rollingBack.source}.*; prod back on v1$`)],
    ]);
    // the readings the verdict was made on stay with the decision
    expect(trail(w, d).at(-2)?.readings).toMatchObject({ candidate: { invocations: 500, errors5xx: 50 } });
    const [, rejected] = registryWrites(w, 2).slice(-2);
    expect(rejected!.lifecycle).toEqual({
      stage: 'Production',
      status: 'RolledBack',
      description: expect.stringMatching(rollingBack),
    });
    expect(rejected!.reject?.description).toMatch(
      new RegExp(`^rolled back by sagemaker-rollouts: ${rollingBack.source.slice(1)}`),
    );
    // the block keeps its reason, cut to a bounded length
    const [block] = w.state.blocked;
    expect(block).toMatchObject({ version: 2, at: w.now });
    expect(block!.reason).toMatch(new RegExp(`^rolled back \\(${gate.source.slice(1)}`));
    expect(block!.reason).toHaveLength(256);
    expect(published(w, d, 'Deployment Rolled Back')).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(rollingBack), readings: expect.anything() }),
    ]);
  });

  it('no data and noData=fail: rolled back, saying it was not a statistical verdict', () => {
    const w = new World(groupConfig({ gates: { noData: { action: 'fail' } } }));
    const d = canaryOfV2(w);
    w.later(5 * MIN).canary(d, readings.noData());
    w.settleAll();
    const why =
      'not a statistical verdict: no verdict at step 1/2 (10%): candidate served 0 of the 60 settled requests needed to judge (3 / maxErrorRate)';
    expectTrail(w, d, [
      ...firstRows(2),
      ['Canary', 'RollingBack', `rolling back to v1: ${why}`, { v1: 100, v2: 0 }],
      ['RollingBack', 'RolledBack', `rolling back to v1: ${why}; prod back on v1`],
    ]);
    expect(w.state.blocked.map((b) => [b.version, b.reason])).toEqual([[2, `rolled back (${why})`]]);
  });

  it('no data and noData=extend: each extension recorded with its readings, then rolled back', () => {
    const w = new World(groupConfig({ gates: { noData: { action: 'extend', maxExtensions: 2 } } }));
    const d = canaryOfV2(w);
    for (let i = 0; i < 3; i += 1) w.later(5 * MIN).canary(d, readings.noData());
    w.settleAll();
    const noData = 'candidate served 0 of the 60 settled requests needed to judge (3 / maxErrorRate)';
    const why = `not a statistical verdict: no verdict at step 1/2 (10%) after 2 extensions: ${noData}`;
    expectTrail(w, d, [
      ...firstRows(2),
      ['Canary', 'Canary', `bake extended (1/2) at step 1/2 (10%): ${noData}`],
      ['Canary', 'Canary', `bake extended (2/2) at step 1/2 (10%): ${noData}`],
      ['Canary', 'RollingBack', `rolling back to v1: ${why}`, { v1: 100, v2: 0 }],
      ['RollingBack', 'RolledBack', `rolling back to v1: ${why}; prod back on v1`],
    ]);
    expect(trail(w, d)[5]?.readings).toMatchObject({ candidate: { invocations: 0 } });
    expect(w.phase(d)).toBe('RolledBack');
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
  });

  it('past its maximum duration a canary rolls back, and the readings that showed it decide nothing more', () => {
    const w = new World(groupConfig({ maxDurationMinutes: 22, gates: { noData: { maxExtensions: 10 } } }));
    const d = canaryOfV2(w);
    for (let i = 0; i < 4; i += 1) w.later(5 * MIN).canary(d, readings.noData());
    // exactly the maximum duration is not past it
    w.tick(2 * MIN);
    expect(w.phase(d)).toBe('Canary');
    // the bake is over too, but the canary is overdue: no fifth extension
    w.later(3 * MIN).canary(d, readings.noData());
    w.settleAll();
    const why = 'not a statistical verdict: canary exceeded its maximum duration of 22 min';
    const extended = (n: number): Row => [
      'Canary',
      'Canary',
      `bake extended (${n}/10) at step 1/2 (10%): candidate served 0 of the 60 settled requests needed to judge (3 / maxErrorRate)`,
    ];
    expectTrail(w, d, [
      ...firstRows(2),
      extended(1),
      extended(2),
      extended(3),
      extended(4),
      ['Canary', 'RollingBack', `rolling back to v1: ${why}`, { v1: 100, v2: 0 }],
      ['RollingBack', 'RolledBack', `rolling back to v1: ${why}; prod back on v1`],
    ]);
  });

  it('the maximum duration bounds the canary, not the promotion after it', () => {
    const w = new World(groupConfig({ maxDurationMinutes: 11 }));
    const d = canaryOfV2(w);
    w.later(5 * MIN).canary(d, readings.healthy());
    w.settle('prod');
    w.later(5 * MIN).canary(d, readings.healthy());
    expect(w.phase(d)).toBe('Promoting');
    w.tick(30 * MIN);
    expect(w.phase(d)).toBe('Promoting');
    w.settle('prod');
    expect(w.phase(d)).toBe('Succeeded');
  });

  it('a pre-traffic check that does not complete ends Failed once the maximum duration is over, not before', () => {
    const w = new World(groupConfig({ prodSmokeTest: true, maxDurationMinutes: 20 }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.settle('prod');
    expect(w.phase(id(2))).toBe('ProdVerifying');
    w.tick(20 * MIN);
    expect(w.phase(id(2))).toBe('ProdVerifying');
    w.tick(1);
    w.settleAll();
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toBe(
      'rolling back to v1: the pre-traffic check did not complete within 20 min; prod back on v1',
    );
    expect(w.state.blocked).toEqual([]);
  });

  it('without a maximum duration, a tick leaves a pre-traffic check running', () => {
    const w = new World(groupConfig({ prodSmokeTest: true }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.settle('prod');
    w.tick(MIN);
    expect(w.phase(id(2))).toBe('ProdVerifying');
  });

  it('the first prod deployment failing ends Failed with the reason, with nothing to roll back', () => {
    const w = new World();
    w.approve(1);
    w.settle('qa');
    w.later(MIN).settle('prod', 'fail');
    expect(w.phase(id(1))).toBe('Failed');
    expect(trail(w, id(1)).at(-1)).toMatchObject({
      from: 'ProdDeploying',
      to: 'Failed',
      reason: expect.stringMatching(
        /^prod deployment failed: .*ResourceLimitExceeded: no capacity for ml\.m5\.large$/,
      ),
    });
  });
});

describe('what a promotion retires and remembers', () => {
  it('native blue/green: the history names the routing; the previous config and model go, nothing else', () => {
    const w = new World(groupConfig({ strategy: 'native' }));
    ship(w, 1);
    const v1Config = w.state.prod!.configName;
    ship(w, 2);
    expectTrail(w, id(2), [
      [null, 'Queued', 'requested by approval'],
      ['Queued', 'QaDeploying', 'deploying v2 to QA'],
      ['QaDeploying', 'ReadyForProd', 'QA verified (no smoke test configured)'],
      ['ReadyForProd', 'NativeShifting', 'SageMaker blue/green CANARY to v2'],
      ['NativeShifting', 'Succeeded', 'v2 serves all production traffic'],
    ]);
    expect(commandsOf(w.commands, 'RetireResources').filter((c) => c.stage === 'prod')).toEqual([
      {
        type: 'RetireResources',
        group: GROUP,
        stage: 'prod',
        modelNames: ['churn-v1'],
        configNames: [v1Config],
      },
    ]);
  });

  it('an operator rollback after promotion: both histories, the registry, the restore, and the known-good list', () => {
    const w = new World();
    const d = canaryOfV2(w);
    for (let i = 0; i < 2; i += 1) {
      w.later(5 * MIN).canary(d, readings.healthy());
      w.settle('prod');
    }
    w.settle('prod');
    expect(w.state.knownGood.map((k) => k.version)).toEqual([1, 2]);
    const v2Config = w.state.prod!.configName;
    w.later(MIN).operator('rollback', d);
    w.settleAll();
    const restore = id(1, 2);
    expect(trail(w, d).at(-1)).toMatchObject({
      from: 'Succeeded',
      to: 'RolledBack',
      reason: 'rollback by alice: testing',
      actor: 'alice',
      requestId: 'r1',
    });
    expect(published(w, d, 'Deployment Rolled Back')).toEqual([
      expect.objectContaining({ reason: 'rollback by alice: testing', to: 1 }),
    ]);
    expect(registryWrites(w, 2).at(-1)).toEqual({
      lifecycle: { stage: 'Production', status: 'RolledBack', description: 'rollback by alice: testing' },
      reject: { description: 'rolled back by sagemaker-rollouts: rollback by alice: testing' },
    });
    expect(w.state.blocked.map((b) => [b.version, b.reason])).toEqual([
      [2, 'rolled back (rollback by alice: testing)'],
    ]);
    // the restore is a deployment of its own, started by the operator, straight to prod
    expect(w.dep(restore)).toMatchObject({
      version: 1,
      trigger: 'operator',
      targetStage: 'prod',
      phase: 'Succeeded',
    });
    expect(trail(w, restore).map((e) => [e.from, e.to, e.reason, e.actor, e.requestId])).toEqual([
      [null, 'Queued', 'rollback of v2 to v1', 'alice', 'r1'],
      ['Queued', 'ProdDeploying', 'rolling prod back to v1: rollback by alice: testing', 'system', undefined],
      ['ProdDeploying', 'Succeeded', 'v1 serves all production traffic', 'system', undefined],
    ]);
    expect(published(w, restore, 'Deployment Started')).toEqual([
      expect.objectContaining({ trigger: 'rollback', from: 2 }),
    ]);
    // v2's config goes; its model stays, QA still runs it
    expect(commandsOf(w.commands, 'RetireResources').at(-1)).toEqual({
      type: 'RetireResources',
      group: GROUP,
      stage: 'prod',
      modelNames: [],
      configNames: [v2Config],
    });
    // v1 is known good once, as the newest
    expect(w.state.knownGood.map((k) => k.version)).toEqual([2, 1]);
  });
});

describe('the shadow phase in the history', () => {
  const shadowWorld = (gates: Record<string, unknown> = {}) =>
    new World(groupConfig({ shadow: { samplingPercent: 50, bakeMinutes: 10 }, gates }));
  const toShadow = (w: World): string => {
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Shadow');
    return id(2);
  };
  const shadowRows: Row[] = [
    [null, 'Queued', 'requested by approval'],
    ['Queued', 'QaDeploying', 'deploying v2 to QA'],
    ['QaDeploying', 'ReadyForProd', 'QA verified (no smoke test configured)'],
    ['ReadyForProd', 'ProdDeploying', 'shadow config: v1 serves, v2 gets a copy of 50% of its requests'],
    ['ProdDeploying', 'Shadow', 'v2 runs as a shadow variant on copies of production requests for 10 min'],
  ];

  it('from the shadow config to promotion; the shadow config is retired with the canary config', () => {
    const w = shadowWorld();
    const d = toShadow(w);
    const shadowConfig = w.dep(d).canary!.configName;
    w.later(10 * MIN).canary(d, readings.healthy());
    w.settle('prod');
    const canaryConfig = w.dep(d).canary!.configName;
    for (let i = 0; i < 2; i += 1) {
      w.later(5 * MIN).canary(d, readings.healthy());
      w.settle('prod');
    }
    w.settle('prod');
    expect(w.phase(d)).toBe('Succeeded');
    expect(
      trail(w, d)
        .slice(0, 8)
        .map((e) => [e.from, e.to, e.reason, e.weights]),
    ).toEqual([
      ...shadowRows.map(([from, to, reason]) => [from, to, reason, undefined]),
      [
        'Shadow',
        'Shadow',
        expect.stringMatching(new RegExp(`^shadow phase passed: ${SUMMARY.source.slice(1)}`)),
        undefined,
      ],
      ['Shadow', 'ProdDeploying', 'shadow phase passed; canary config: v1 100% / v2 0%', undefined],
      ['ProdDeploying', 'Canary', 'no pre-traffic check configured; step 1/2: 10% to v2', { v1: 90, v2: 10 }],
    ]);
    expect(trail(w, d)[5]?.readings).toMatchObject({ candidate: { invocations: 10_000 } });
    const retired = commandsOf(w.commands, 'RetireResources').filter((c) => c.stage === 'prod');
    expect(retired).toEqual([
      expect.objectContaining({
        modelNames: ['churn-v1'],
        configNames: expect.arrayContaining([canaryConfig]),
      }),
      { type: 'RetireResources', group: GROUP, stage: 'prod', modelNames: [], configNames: [shadowConfig] },
    ]);
  });

  it('the shadow bake waits for its last minutes to settle, and lasts its full time to the second', () => {
    const w = shadowWorld();
    ship(w, 1);
    w.later(30_000);
    w.approve(2);
    w.settle('qa');
    w.settle('prod');
    const d = id(2);
    const start = w.dep(d).canary!.startedAt;
    w.later(10 * MIN - 10_000).canary(d, readings.healthy());
    expect(w.phase(d)).toBe('Shadow');
    w.later(10_000).canary(d, healthyMinutes(Math.floor(start / MIN) * MIN, w.now));
    expect(w.phase(d)).toBe('Shadow');
    w.later(3 * MIN).canary(d, healthyMinutes(Math.floor(start / MIN) * MIN, w.now));
    expect(w.phase(d)).toBe('ProdDeploying');
  });

  it('no copies to judge, extended to the limit: each extension recorded, then rolled back and blocked', () => {
    const w = shadowWorld({ noData: { action: 'extend', maxExtensions: 1 } });
    const d = toShadow(w);
    w.later(10 * MIN).canary(d, readings.noData());
    w.later(10 * MIN).canary(d, readings.noData());
    w.settleAll();
    const noData = 'candidate served 0 of the 60 settled requests needed to judge (3 / maxErrorRate)';
    const why = `not a statistical verdict: no verdict in the shadow phase after 1 extensions: ${noData}`;
    expectTrail(w, d, [
      ...shadowRows,
      ['Shadow', 'Shadow', `shadow phase extended (1/1): ${noData}`],
      ['Shadow', 'RollingBack', `rolling back to v1: ${why}`, { v1: 100, v2: 0 }],
      ['RollingBack', 'RolledBack', `rolling back to v1: ${why}; prod back on v1`],
    ]);
    expect(trail(w, d)[5]?.readings).toMatchObject({ candidate: { invocations: 0 } });
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
  });
});

describe('what the clock decides', () => {
  it('pipeline callbacks time out one by one; the deployment ends only when none is left waiting', () => {
    const w = new World(groupConfig({ mode: 'manual', taskTimeoutMinutes: 60 }));
    w.approve(1);
    w.settle('qa');
    expect(w.phase(id(1))).toBe('AwaitingApproval');
    w.callback('first', 1, 'prod');
    w.later(30 * MIN).callback('second', 1, 'prod');
    w.tick(30 * MIN);
    expect(w.answers.get('first')).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: 'task timed out after 60 min (churn:v1 is AwaitingApproval)',
      }),
    ]);
    expect(w.answers.get('second')).toBeUndefined();
    expect(w.phase(id(1))).toBe('AwaitingApproval');
    w.tick(30 * MIN);
    expect(w.answers.get('second')).toEqual([expect.objectContaining({ outcome: 'failure' })]);
    expect(trail(w, id(1)).at(-1)).toMatchObject({
      from: 'AwaitingApproval',
      to: 'Aborted',
      reason: 'pipeline callback task timed out after 60 min',
    });
  });

  it('the approval deadline binds only while the deployment awaits approval', () => {
    const w = new World(groupConfig({ mode: 'manual', approvalTimeoutMinutes: 60 }));
    ship(w, 1);
    w.operator('promote', id(1));
    w.settle('prod');
    expect(w.phase(id(1))).toBe('Succeeded');
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('AwaitingApproval');
    w.later(10 * MIN).operator('promote', id(2));
    w.settle('prod');
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Canary');
    w.tick(55 * MIN);
    expect(w.phase(id(2))).toBe('Canary');
  });

  it('a version ready while another is promoting waits for prod, and the tick starts it once prod is free', () => {
    const w = new World();
    const d = canaryOfV2(w);
    w.later(5 * MIN).canary(d, readings.healthy());
    w.settle('prod');
    w.later(5 * MIN).canary(d, readings.healthy());
    expect(w.phase(d)).toBe('Promoting');
    // a newer version does not stop a promotion; it passes QA and waits
    w.approve(3);
    w.settle('qa');
    expect(w.phase(id(3))).toBe('ReadyForProd');
    expect(w.dep(id(3)).reason).toBe('waiting for churn:v2 (Promoting) to release prod');
    w.settle('prod');
    expect(w.phase(d)).toBe('Succeeded');
    w.tick(MIN);
    expect(w.phase(id(3))).toBe('ProdDeploying');
    expect(w.dep(id(3)).reason).toBe('canary config: v2 100% / v3 0%');
  });
});

describe("the baseline's autoscaling, read once per canary", () => {
  const baseline = {
    minCapacity: 4,
    maxCapacity: 10,
    policies: [{ name: 'ipi', type: 'TargetTrackingScaling' as const, configuration: { TargetValue: 70 } }],
  };
  const scalingRead = (w: World, d: string, scaling: typeof baseline | null) =>
    w.send({ type: 'ScalingRead', deploymentId: d, scaling });

  it('read while step 1 already runs: the candidate is scaled for its share at once, and the logs say what was read', () => {
    const w = new World();
    const d = canaryOfV2(w);
    const read = scalingRead(w, d, baseline);
    expect(commandsOf(read.commands, 'ApplyScaling')).toEqual([
      {
        type: 'ApplyScaling',
        group: GROUP,
        stage: 'prod',
        endpointName: PROD_ENDPOINT,
        variantName: 'v2',
        scaling: expect.objectContaining({ minCapacity: 1, maxCapacity: 10 }),
      },
    ]);
    expect(read.notes).toEqual(['churn:v2: v1 autoscaling 4-10 with 1 policy(ies) to carry over']);
    // read once: a second reading changes nothing
    const again = scalingRead(w, d, { ...baseline, minCapacity: 8 });
    expect(again.commands).toEqual([]);
    expect(w.dep(d).canary!.baselineScaling).toEqual(baseline);
  });

  it('a baseline without autoscaling: nothing to carry over, now or at the next step', () => {
    const w = new World();
    const d = canaryOfV2(w);
    const read = scalingRead(w, d, null);
    expect(read.commands).toEqual([]);
    expect(read.notes).toEqual(['churn:v2: v1 has no autoscaling to carry over']);
    w.later(5 * MIN).canary(d, readings.healthy());
    expect(w.dep(d).canary!.stepIndex).toBe(1);
    expect(commandsOf(w.commands, 'ApplyScaling')).toEqual([]);
  });

  it('read during the promotion, after the deployment, or for an unknown one: nothing is scaled', () => {
    const promoting = (): { w: World; d: string } => {
      const w = new World();
      const d = canaryOfV2(w);
      w.later(5 * MIN).canary(d, readings.healthy());
      w.settle('prod');
      w.later(5 * MIN).canary(d, readings.healthy());
      expect(w.phase(d)).toBe('Promoting');
      return { w, d };
    };
    // the promotion scales the candidate like the baseline when it lands, not before
    const during = promoting();
    expect(commandsOf(scalingRead(during.w, during.d, baseline).commands, 'ApplyScaling')).toEqual([]);
    const after = promoting();
    after.w.settle('prod');
    expect(after.w.phase(after.d)).toBe('Succeeded');
    expect(scalingRead(after.w, after.d, baseline).commands).toEqual([]);
    expect(after.w.dep(after.d).canary!.baselineScaling).toBeUndefined();
    expect(scalingRead(after.w, id(7), baseline).commands).toEqual([]);
  });
});

describe('before prod: QA, the queue, and what an operator may roll back', () => {
  it('a QA-only deployment for a pipeline ends live in QA, saying so', () => {
    const w = new World();
    w.callback('qa-only', 1, 'qa');
    w.settle('qa');
    expectTrail(w, id(1), [
      [null, 'Queued', 'requested by callback'],
      ['Queued', 'QaDeploying', 'deploying v1 to QA'],
      ['QaDeploying', 'Succeeded', 'live in QA (no smoke test configured)'],
    ]);
  });

  it('manual promotion: the history says QA verified and waiting, the event carries the deadline', () => {
    const w = new World(groupConfig({ mode: 'manual', approvalTimeoutMinutes: 90 }));
    w.approve(1);
    w.settle('qa');
    expect(trail(w, id(1)).at(-1)).toMatchObject({
      from: 'QaDeploying',
      to: 'AwaitingApproval',
      reason: 'QA verified (no smoke test configured); waiting for promote',
    });
    expect(published(w, id(1), 'Awaiting Approval')).toEqual([
      expect.objectContaining({ approvalDeadline: new Date(w.now + 90 * MIN).toISOString() }),
    ]);
  });

  it('QA moving on retires its previous config and model, also when prod has never run', () => {
    const w = new World();
    w.callback('a', 1, 'qa');
    w.settle('qa');
    const v1Config = w.state.qa!.configName;
    w.callback('b', 2, 'qa');
    w.settle('qa');
    expect(w.phase(id(2))).toBe('Succeeded');
    expect(commandsOf(w.commands, 'RetireResources')).toEqual([
      {
        type: 'RetireResources',
        group: GROUP,
        stage: 'qa',
        modelNames: ['churn-v1'],
        configNames: [v1Config],
      },
    ]);
  });

  /** v1 serves prod; v2 was rolled back by its gates and is approved anew a minute later */
  const approvedAnew = (w: World): number => {
    ship(w, 1);
    const d = toCanary(w, 2);
    w.canary(d, readings.failing());
    w.settleAll();
    const retiredBefore = commandsOf(w.commands, 'RetireResources').length;
    w.later(MIN).approve(2);
    w.settle('qa');
    w.settleAll();
    return retiredBefore;
  };

  it('a version approved anew after its rollback: QA is already on its config, and that config stays', () => {
    const w = new World();
    const retiredBefore = approvedAnew(w);
    expect(w.phase(id(2, 2))).toBe('Canary');
    expect(commandsOf(w.commands, 'RetireResources').slice(retiredBefore)).toEqual([]);
  });

  it('the same version on a new QA config: the old config goes, the model QA still runs stays', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    const oldConfig = w.state.qa!.configName;
    w.canary(d, readings.failing());
    w.settleAll();
    const retiredBefore = commandsOf(w.commands, 'RetireResources').length;
    const qa = { ...w.config.stages.qa, instanceType: 'ml.m5.xlarge' };
    w.config = { ...w.config, stages: { ...w.config.stages, qa } };
    w.later(MIN).approve(2);
    w.settle('qa');
    expect(w.state.qa!.configName).not.toBe(oldConfig);
    expect(commandsOf(w.commands, 'RetireResources').slice(retiredBefore)).toEqual([
      { type: 'RetireResources', group: GROUP, stage: 'qa', modelNames: [], configNames: [oldConfig] },
    ]);
  });

  it('queue, per stage: a newer version goes through QA beside the canary and waits for prod; the next waits for QA, superseded by a newer one', () => {
    const w = new World(groupConfig({ concurrency: 'queue' }));
    const d = canaryOfV2(w);
    w.approve(3);
    expect(w.phase(id(3))).toBe('QaDeploying');
    w.approve(4);
    expect(w.dep(id(4))).toMatchObject({ phase: 'Queued', reason: 'queued behind churn:v3' });
    w.approve(5);
    expect(trail(w, id(4)).at(-1)).toMatchObject({ from: 'Queued', to: 'Superseded', reason: 'v5 is newer' });
    expect(w.phase(id(5))).toBe('Queued');
    w.settle('qa');
    expect(w.dep(id(3))).toMatchObject({
      phase: 'ReadyForProd',
      reason: `waiting for ${d} (Canary) to release prod`,
    });
    // v3 holds QA until it enters prod
    expect(w.phase(id(5))).toBe('Queued');
    expect(w.phase(d)).toBe('Canary');
  });

  it('queue: once nothing is in flight, a new request starts at once and the one left waiting is superseded', () => {
    const w = new World(groupConfig({ concurrency: 'queue' }));
    ship(w, 1);
    // a QA-only deployment in flight; v3 queues behind it
    w.callback('qa-only', 2, 'qa');
    w.approve(3);
    expect(w.phase(id(3))).toBe('Queued');
    w.settle('qa');
    expect(w.phase(id(2))).toBe('Succeeded');
    expect(w.phase(id(3))).toBe('Queued');
    w.approve(4);
    expect(w.phase(id(3))).toBe('Superseded');
    expect(w.phase(id(4))).toBe('QaDeploying');
  });

  const beforeProd: { phase: string; world: () => { w: World; d: string } }[] = [
    {
      phase: 'Queued',
      world: () => {
        const w = new World(groupConfig({ concurrency: 'queue' }));
        canaryOfV2(w);
        w.approve(3);
        w.approve(4);
        return { w, d: id(4) };
      },
    },
    {
      phase: 'QaVerifying',
      world: () => {
        const w = new World(groupConfig({ smokeTest: true }));
        w.approve(1);
        w.settle('qa');
        return { w, d: id(1) };
      },
    },
    {
      phase: 'AwaitingApproval',
      world: () => {
        const w = new World(groupConfig({ mode: 'manual' }));
        w.approve(1);
        w.settle('qa');
        return { w, d: id(1) };
      },
    },
    {
      phase: 'ReadyForProd',
      world: () => {
        const w = new World();
        const d = canaryOfV2(w);
        w.later(5 * MIN).canary(d, readings.healthy());
        w.settle('prod');
        w.later(5 * MIN).canary(d, readings.healthy());
        w.approve(3);
        w.settle('qa');
        return { w, d: id(3) };
      },
    },
  ];

  it.each(beforeProd)(
    'rollback of a deployment in $phase is refused: nothing of it serves prod',
    ({ phase, world }) => {
      const { w, d } = world();
      expect(w.phase(d)).toBe(phase);
      const refused = w.operator('rollback', d);
      expect(refused.rejection).toBe(`${d} is ${phase}: nothing of it serves prod; abort stops it`);
      expect(w.phase(d)).toBe(phase);
      expect(w.state.blocked).toEqual([]);
    },
  );
});

describe('the way back, in detail', () => {
  it("an operator's long reason reaches the registry cut to its 1,024-character limit, the block's to 256", () => {
    const w = new World();
    const d = canaryOfV2(w);
    const reason = `incident ${'x'.repeat(1_100)}`;
    w.send({
      type: 'Operator',
      command: { verb: 'rollback', deploymentId: d, actor: 'alice', reason, requestId: 'long' },
    });
    w.settleAll();
    const [write] = registryWrites(w, 2).filter((u) => u.reject);
    const lifecycle = write!.lifecycle?.description ?? '';
    const reject = write!.reject?.description ?? '';
    expect(lifecycle).toHaveLength(1024);
    expect(lifecycle.startsWith('rolling back to v1: rollback by alice: incident xxx')).toBe(true);
    expect(reject).toHaveLength(1024);
    expect(reject.startsWith('rolled back by sagemaker-rollouts: rolling back to v1')).toBe(true);
    expect(w.state.blocked[0]!.reason).toHaveLength(256);
  });

  it('an operator abort before prod is recorded with who asked', () => {
    const w = new World();
    w.approve(1);
    w.operator('abort', id(1));
    expect(trail(w, id(1)).at(-1)).toMatchObject({
      from: 'QaDeploying',
      to: 'Aborted',
      reason: 'abort by alice: testing',
      actor: 'alice',
      requestId: 'r1',
    });
  });

  it('the end of a gate rollback keeps the readings the verdict was made on', () => {
    const w = new World();
    const d = canaryOfV2(w);
    w.later(MIN).canary(d, readings.failing());
    w.settleAll();
    expect(trail(w, d).at(-1)).toMatchObject({
      to: 'RolledBack',
      readings: expect.objectContaining({ candidate: expect.objectContaining({ errors5xx: 50 }) }),
    });
  });

  it('a reject the registry has not confirmed yet holds back only its own version', () => {
    const w = new World();
    ship(w, 1);
    failCanary(w, 2);
    w.registryEvents = false;
    const d3 = toCanary(w, 3);
    w.canary(d3, readings.failing());
    w.settleAll();
    expect(w.state.blocked.map((b) => [b.version, b.rejectPending ?? false])).toEqual([
      [2, false],
      [3, true],
    ]);
  });

  it('native: SageMaker rolling its blue/green update back blocks the version, with its reason', () => {
    const w = new World(groupConfig({ strategy: 'native' }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.later(MIN).settle('prod', 'fail');
    expect(w.phase(id(2))).toBe('RolledBack');
    expect(w.state.blocked.map((b) => b.reason)).toEqual([
      expect.stringMatching(
        /^rolled back \(SageMaker rolled churn-prod back to churn-prod-v1-\w+: The primary container/,
      ),
    ]);
  });

  it('a promotion SageMaker rolls back: prod goes back to the baseline alone, the deployment Failed', () => {
    const w = new World();
    const d = canaryOfV2(w);
    w.later(5 * MIN).canary(d, readings.healthy());
    w.settle('prod');
    w.later(5 * MIN).canary(d, readings.healthy());
    expect(w.phase(d)).toBe('Promoting');
    w.later(MIN).settle('prod', 'fail');
    expect(w.phase(d)).toBe('RollingBack');
    expect(w.dep(d).reason).toMatch(
      /^rolling back to v1: prod deployment failed: SageMaker rolled churn-prod back to /,
    );
    w.settleAll();
    expect(w.phase(d)).toBe('Failed');
    expect(w.prodVersions()).toEqual([1]);
  });

  it('a rollback that cannot complete: Failed for an operator; a rolled-back version is still rejected', () => {
    const aborted = new World();
    const a = canaryOfV2(aborted);
    aborted.later(MIN).operator('abort', a);
    aborted.advance('prod');
    aborted.later(MIN).settle('prod', 'fail');
    expect(aborted.phase(a)).toBe('Failed');
    expect(aborted.dep(a).reason).toMatch(/^rollback did not complete: .*; prod needs an operator$/);
    expect(registryWrites(aborted, 2).filter((u) => u.reject)).toEqual([]);
    expect(aborted.state.blocked).toEqual([]);

    const rolledBack = new World();
    const r = canaryOfV2(rolledBack);
    rolledBack.later(MIN).canary(r, readings.failing());
    rolledBack.advance('prod');
    rolledBack.later(MIN).settle('prod', 'fail');
    expect(rolledBack.phase(r)).toBe('Failed');
    expect(
      registryWrites(rolledBack, 2)
        .filter((u) => u.reject)
        .at(-1)?.reject?.description,
    ).toMatch(/^rolled back by sagemaker-rollouts: rollback did not complete: /);
  });

  it('a command failing while QA deploys fails QA, marked in the registry', () => {
    const w = new World();
    w.approve(1);
    w.send({ type: 'CommandFailed', deploymentId: id(1), command: 'CreateModel', reason: 'AccessDenied' });
    expect(w.dep(id(1)).reason).toBe('QA deployment failed: CreateModel failed: AccessDenied');
    expect(registryWrites(w, 1).at(-1)?.lifecycle).toEqual({
      stage: 'QA',
      status: 'Failed',
      description: 'CreateModel failed: AccessDenied',
    });
  });
});
