import { describe, expect, it } from 'vitest';
import { preTrafficSchema } from '../../src/config/pre-traffic-schema';
import { candidateScaling } from '../../src/domain/autoscaling';
import { preTrafficChecks } from '../../src/domain/flows/pre-traffic';
import { PRE_TRAFFIC_LIMIT_MINUTES } from '../../src/domain/flows/prod';
import { ALPHA_SHARE, SHADOW_ALPHA_SHARE } from '../../src/domain/judge';
import { commandsOf, eventsOf, groupConfig, id, MIN, packageArn, readings, ship, World } from './world';

/** v1 serves prod; v2 approved and through QA, its prod config InService. */
const v2InProd = (w: World) => {
  ship(w, 1);
  w.approve(2);
  w.settle('qa');
  return w.settle('prod');
};

describe('pre-traffic check: the candidate at weight 0 in prod, invoked with TargetVariant', () => {
  it('waits in ProdVerifying with the candidate at 0; a pass gives step 1 its weight', () => {
    const w = new World(groupConfig({ prodSmokeTest: true }));
    v2InProd(w);
    expect(w.phase(id(2))).toBe('ProdVerifying');
    expect(w.prodWeights()).toEqual({ v1: 100, v2: 0 });
    const passed = w.send({
      type: 'PreTrafficChecked',
      deploymentId: id(2),
      ok: true,
      detail: 'smoke test HTTP 200',
    });
    expect(w.phase(id(2))).toBe('Canary');
    expect(commandsOf(passed.commands, 'RecordHistory').map((c) => c.entry.reason)).toContainEqual(
      expect.stringMatching(/^pre-traffic check passed: smoke test HTTP 200/),
    );
    expect(commandsOf(passed.commands, 'SetWeights')).toEqual([
      expect.objectContaining({ weights: { v1: 90, v2: 10 } }),
    ]);
    w.advance('prod');
    expect(w.prodWeights()).toEqual({ v1: 90, v2: 10 });
  });

  it('a failure ends Failed with the reason, blocked and Rejected, prod back on the baseline alone', () => {
    const w = new World(groupConfig({ prodSmokeTest: true }));
    v2InProd(w);
    const detail = 'request "typical" ({"x":1}): candidate answered HTTP 500, expected 200';
    const failed = w.send({ type: 'PreTrafficChecked', deploymentId: id(2), ok: false, detail });
    expect(w.phase(id(2))).toBe('RollingBack');
    expect(commandsOf(failed.commands, 'UpdateRegistry')).toContainEqual(
      expect.objectContaining({
        packageArn: packageArn(2),
        lifecycle: expect.objectContaining({ stage: 'Production', status: 'Failed' }),
        reject: {
          description: `failed by sagemaker-rollouts: pre-traffic check failed in prod (the candidate served no user traffic): ${detail}`,
        },
      }),
    );
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
    w.settleAll();
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toContain(detail);
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });

  it('a check that never completes ends Failed after maxDurationMinutes, by the clock alone, not rejected', () => {
    const w = new World(groupConfig({ prodSmokeTest: true, maxDurationMinutes: 60 }));
    v2InProd(w);
    w.tick(59 * MIN);
    expect(w.phase(id(2))).toBe('ProdVerifying');
    w.tick(2 * MIN);
    expect(w.phase(id(2))).toBe('RollingBack');
    w.settleAll();
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toContain('the pre-traffic check did not complete within 60 min');
    expect(w.state.blocked).toEqual([]);
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });

  it('without maxDurationMinutes, a check that never completes still ends Failed, after 60 min', () => {
    const w = new World(groupConfig({ prodSmokeTest: true }));
    v2InProd(w);
    w.tick(59 * MIN);
    expect(w.phase(id(2))).toBe('ProdVerifying');
    w.tick(2 * MIN);
    expect(w.phase(id(2))).toBe('RollingBack');
    w.settleAll();
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toContain(
      `the pre-traffic check did not complete within ${PRE_TRAFFIC_LIMIT_MINUTES} min`,
    );
    expect(w.state.blocked).toEqual([]);
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });

  it('a check reported for an unknown deployment is ignored', () => {
    const w = new World(groupConfig({ prodSmokeTest: true }));
    v2InProd(w);
    const unknown = w.send({ type: 'PreTrafficChecked', deploymentId: id(9), ok: false, detail: 'late' });
    expect(unknown.commands).toEqual([]);
    expect(w.phase(id(2))).toBe('ProdVerifying');
  });

  it('a check reported for a deployment no longer verifying is ignored', () => {
    const w = new World(groupConfig({ prodSmokeTest: true }));
    v2InProd(w);
    w.send({ type: 'PreTrafficChecked', deploymentId: id(2), ok: true, detail: 'ok' });
    const late = w.send({ type: 'PreTrafficChecked', deploymentId: id(2), ok: false, detail: 'late' });
    expect(late.commands).toEqual([]);
    expect(w.phase(id(2))).toBe('Canary');
  });
});

describe('what the pre-traffic check runs', () => {
  const prodWith = (o: { smokeTest?: boolean; preTraffic?: Record<string, unknown> }) => ({
    ...groupConfig({ prodSmokeTest: o.smokeTest ?? false }).stages.prod,
    ...(o.preTraffic ? { preTraffic: preTrafficSchema.parse(o.preTraffic) } : {}),
  });
  const requests = [
    { name: 'typical', body: { x: 1 } },
    { name: 'edge', body: { x: 0 } },
  ];

  it('nothing configured: no check, the canary goes straight to step 1', () => {
    expect(preTrafficChecks(prodWith({}))).toEqual([]);
  });

  it('a request set alone is a check, without a smoke test', () => {
    expect(preTrafficChecks(prodWith({ preTraffic: { requests } }))).toEqual(['2 request(s)']);
    expect(preTrafficChecks(prodWith({ preTraffic: { requestSetFile: 'requests/churn.json' } }))).toEqual([
      'request set requests/churn.json',
    ]);
  });

  it('the smoke test and the request set compared with the baseline, in that order', () => {
    const both = prodWith({ smokeTest: true, preTraffic: { requests, compareWithBaseline: {} } });
    expect(preTrafficChecks(both)).toEqual(['smoke test', '2 request(s) compared with the baseline']);
  });

  it('a request set alone still holds the candidate at weight 0 until it passes', () => {
    const config = groupConfig();
    const w = new World({
      ...config,
      stages: { ...config.stages, prod: prodWith({ preTraffic: { requests } }) },
    });
    v2InProd(w);
    expect(w.phase(id(2))).toBe('ProdVerifying');
    expect(w.prodWeights()).toEqual({ v1: 100, v2: 0 });
  });

  it('the history names every check the candidate is invoked with', () => {
    const config = groupConfig();
    const w = new World({
      ...config,
      stages: { ...config.stages, prod: prodWith({ smokeTest: true, preTraffic: { requests } }) },
    });
    v2InProd(w);
    expect(w.dep(id(2)).reason).toBe(
      'v2 in prod at weight 0; invoking it with TargetVariant: smoke test, 2 request(s)',
    );
  });
});

describe('shadow phase', () => {
  const shadowWorld = () => new World(groupConfig({ shadow: { samplingPercent: 50, bakeMinutes: 10 } }));

  it('deploys the candidate as a shadow variant (weight = sampling percent) next to the baseline alone', () => {
    const w = shadowWorld();
    ship(w, 1);
    w.approve(2);
    const qa = w.settle('qa');
    const [deploy] = commandsOf(qa.commands, 'DeployEndpoint');
    expect(deploy!.variants.map((v) => [v.variantName, v.weight, v.shadow ?? false])).toEqual([
      ['v1', 100, false],
      ['v2', 50, true],
    ]);
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Shadow');
  });

  it('healthy copies after the bake: the canary config at weight 0, the shadow config retired later', () => {
    const w = shadowWorld();
    v2InProd(w);
    const shadowConfig = w.dep(id(2)).canary!.configName;
    expect(w.later(5 * MIN).canary(id(2), readings.healthy()).commands).toEqual([]);
    const passed = w.later(5 * MIN).canary(id(2), readings.healthy());
    expect(w.phase(id(2))).toBe('ProdDeploying');
    const [deploy] = commandsOf(passed.commands, 'DeployEndpoint');
    expect(deploy!.variants.map((v) => [v.variantName, v.weight, v.shadow ?? false])).toEqual([
      ['v1', 100, false],
      ['v2', 0, false],
    ]);
    expect(w.dep(id(2)).retireOnSuccess?.configNames).toEqual([shadowConfig]);
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Canary');
  });

  it('one alpha per deployment: the shadow phase judges on its share of alpha, the canary after it on the rest', () => {
    const limit = (share: number) => Number((1 / (0.01 * share * ALPHA_SHARE.errors)).toPrecision(4));
    const w = shadowWorld();
    v2InProd(w);
    w.later(5 * MIN).canary(id(2), readings.healthy());
    expect(w.dep(id(2)).canary!.lastReadings!.evidence!.errorsLimit).toBe(limit(SHADOW_ALPHA_SHARE));
    w.later(5 * MIN).canary(id(2), readings.healthy());
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Canary');
    w.later(1 * MIN).canary(id(2), readings.healthy());
    expect(w.dep(id(2)).canary!.lastReadings!.evidence!.errorsLimit).toBe(limit(1 - SHADOW_ALPHA_SHARE));
    // together within alpha; a canary without a shadow phase spends all of it
    expect(SHADOW_ALPHA_SHARE + (1 - SHADOW_ALPHA_SHARE)).toBe(1);
    const plain = new World(groupConfig());
    v2InProd(plain);
    plain.later(1 * MIN).canary(id(2), readings.healthy());
    expect(plain.dep(id(2)).canary!.lastReadings!.evidence!.errorsLimit).toBe(limit(1));
  });

  it('a regression on the copies rolls back before the candidate had any weight', () => {
    const w = shadowWorld();
    v2InProd(w);
    const caught = w.later(3 * MIN).canary(id(2), readings.failing());
    expect(w.phase(id(2))).toBe('RollingBack');
    expect(eventsOf(caught.commands)).not.toContain('Canary Step Passed');
    w.settleAll();
    expect(w.phase(id(2))).toBe('RolledBack');
    expect(w.dep(id(2)).reason).toContain('shadow phase caught a regression');
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });
});

describe('shadow phase without enough copies to judge (the no-data policy)', () => {
  const shadowWorld = (noData: Record<string, unknown>) =>
    new World(groupConfig({ shadow: { samplingPercent: 50, bakeMinutes: 10 }, gates: { noData } }));
  const historyOf = (commands: Parameters<typeof commandsOf>[0]) =>
    commandsOf(commands, 'RecordHistory').map((c) => c.entry.reason);

  it('fail: no verdict by the end of the bake rolls back, saying it was not a statistical verdict', () => {
    const w = shadowWorld({ action: 'fail' });
    v2InProd(w);
    expect(w.later(9 * MIN).canary(id(2), readings.noData()).commands).toEqual([]);
    expect(w.phase(id(2))).toBe('Shadow');
    w.later(1 * MIN).canary(id(2), readings.noData());
    expect(w.phase(id(2))).toBe('RollingBack');
    w.settleAll();
    expect(w.phase(id(2))).toBe('RolledBack');
    expect(w.dep(id(2)).reason).toMatch(
      /^rolling back to v1: not a statistical verdict: no verdict in the shadow phase: candidate served 0 of/,
    );
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });

  it('extend: the bake is extended by its own length, as often as allowed, then it rolls back', () => {
    const w = shadowWorld({ action: 'extend', maxExtensions: 1 });
    v2InProd(w);
    const extended = w.later(10 * MIN).canary(id(2), readings.noData());
    expect(w.phase(id(2))).toBe('Shadow');
    expect(historyOf(extended.commands)).toEqual([
      expect.stringMatching(/^shadow phase extended \(1\/1\): candidate served 0 of/),
    ]);
    expect(w.dep(id(2)).canary!.bakeUntil).toBe(w.now + 10 * MIN);
    // within the extension: still judging
    expect(w.later(9 * MIN).canary(id(2), readings.noData()).commands).toEqual([]);
    expect(w.phase(id(2))).toBe('Shadow');
    w.later(1 * MIN).canary(id(2), readings.noData());
    expect(w.phase(id(2))).toBe('RollingBack');
    expect(w.dep(id(2)).reason).toMatch(
      /^rolling back to v1: not a statistical verdict: no verdict in the shadow phase after 1 extensions: candidate served 0 of/,
    );
  });

  it('pass: no verdict at the end of the bake moves on to the canary config', () => {
    const w = shadowWorld({ action: 'pass' });
    v2InProd(w);
    const passed = w.later(10 * MIN).canary(id(2), readings.noData());
    expect(w.phase(id(2))).toBe('ProdDeploying');
    expect(historyOf(passed.commands)[0]).toMatch(/^shadow phase passed: candidate served 0 of/);
    const [deploy] = commandsOf(passed.commands, 'DeployEndpoint');
    expect(deploy!.variants.map((v) => [v.variantName, v.weight, v.shadow ?? false])).toEqual([
      ['v1', 100, false],
      ['v2', 0, false],
    ]);
  });
});

describe('autoscaling carried to the candidate', () => {
  const baseline = {
    minCapacity: 4,
    maxCapacity: 10,
    policies: [{ name: 'ipi', type: 'TargetTrackingScaling' as const, configuration: { TargetValue: 70 } }],
  };

  it('scales the candidate for each step before its weight rises, and like the baseline once promoted', () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.send({ type: 'ScalingRead', deploymentId: id(2), scaling: baseline });
    const started = w.settle('prod');
    const expected = (share: number, instances?: number) =>
      candidateScaling({
        baseline,
        baselineVariant: 'v1',
        candidateVariant: 'v2',
        candidateShare: share,
        ...(instances ? { baselineInstances: instances } : {}),
      });
    expect(commandsOf(started.commands, 'ApplyScaling')).toEqual([
      expect.objectContaining({ variantName: 'v2', scaling: expected(0.1) }),
    ]);
    expect(expected(0.1).minCapacity).toBe(1);
    w.advance('prod');
    const step2 = w.later(5 * MIN).canary(id(2), readings.healthy());
    expect(commandsOf(step2.commands, 'ApplyScaling')).toEqual([
      expect.objectContaining({ variantName: 'v2', scaling: expect.objectContaining({ minCapacity: 2 }) }),
    ]);
    w.advance('prod');
    w.later(5 * MIN).canary(id(2), readings.healthy());
    const done = w.settle('prod');
    expect(w.phase(id(2))).toBe('Succeeded');
    expect(commandsOf(done.commands, 'ApplyScaling')).toEqual([
      expect.objectContaining({
        variantName: 'v2',
        scaling: expect.objectContaining({ minCapacity: 4, maxCapacity: 10 }),
      }),
    ]);
  });

  it('a rollback registers the baseline scaling again as it was read', () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.send({ type: 'ScalingRead', deploymentId: id(2), scaling: baseline });
    w.settle('prod');
    w.advance('prod');
    w.later(2 * MIN).canary(id(2), readings.failing());
    expect(w.phase(id(2))).toBe('RollingBack');
    w.advance('prod');
    const back = w.settle('prod');
    expect(w.phase(id(2))).toBe('RolledBack');
    expect(commandsOf(back.commands, 'ApplyScaling')).toEqual([
      expect.objectContaining({ variantName: 'v1', scaling: baseline }),
    ]);
  });
});
