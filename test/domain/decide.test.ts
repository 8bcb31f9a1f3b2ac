import { describe, expect, it } from 'vitest';
import {
  decide,
  decideAll,
  ENDPOINT_WAIT_LIMIT_MS,
  emptyGroupState,
  type Input,
} from '../../src/domain/decide';
import type { GroupState, OperatorVerb } from '../../src/domain/model';
import { endpointConfigName, modelName } from '../../src/domain/naming';
import {
  commandsOf,
  eventsOf,
  GROUP,
  groupConfig,
  id,
  MIN,
  observation,
  PROD_ENDPOINT,
  packageArn,
  passAllSteps,
  pkg,
  QA_ENDPOINT,
  readings,
  SERVICE_REGION,
  ship,
  T0,
  toCanary,
  World,
  withIntents,
} from './world';

/** A world where v1 serves prod (first deployment) and v2 is in canary step 1 (10 %). */
const inCanary = (w = new World()): { w: World; d: string } => {
  ship(w, 1);
  expect(w.phase(id(1))).toBe('Succeeded');
  const d = toCanary(w, 2);
  return { w, d };
};

describe('approval and QA', () => {
  it('Approved starts a deployment that deploys exactly that version to the QA endpoint', () => {
    const w = new World();
    const decision = w.approve(3);
    const d = w.dep(id(3));
    expect(d.phase).toBe('QaDeploying');
    const deploys = commandsOf(decision.commands, 'DeployEndpoint');
    expect(deploys).toHaveLength(1);
    expect(deploys[0]).toMatchObject({
      stage: 'qa',
      endpointName: QA_ENDPOINT,
      deploymentId: id(3),
      variants: [{ version: 3, packageArn: packageArn(3), weight: 100, modelName: modelName(GROUP, 3) }],
    });
    expect(eventsOf(decision.commands)).toContain('Deployment Started');
    expect(decision.state.highestVersion).toBe(3);
  });

  it('a package that is not Approved is ignored', () => {
    const w = new World();
    const decision = w.send({ type: 'Approved', pkg: pkg(1, T0, 'PendingManualApproval') });
    expect(decision.commands).toEqual([]);
    expect(decision.state.deployments).toEqual([]);
  });

  it.each([
    { smokeTest: true, next: 'QaVerifying' },
    { smokeTest: false, next: 'ProdDeploying' },
  ])('QA InService with smokeTest=$smokeTest goes to $next', ({ smokeTest, next }) => {
    const w = new World(groupConfig({ smokeTest }));
    w.approve(1);
    const decision = w.settle('qa');
    expect(w.phase(id(1))).toBe(next);
    const qaRegistry = commandsOf(decision.commands, 'UpdateRegistry').filter(
      (c) => c.lifecycle?.stage === 'QA',
    );
    expect(qaRegistry.map((c) => c.lifecycle?.status)).toEqual(smokeTest ? [] : ['Deployed']);
  });

  it('QA endpoint on another config or still Updating: keeps waiting', () => {
    const w = new World();
    w.approve(1);
    const d = w.dep(id(1));
    const other = w.send({
      type: 'EndpointObserved',
      stage: 'qa',
      endpoint: observation(QA_ENDPOINT, 'InService', 'some-other-config', { v0: 1 }, T0 - 1),
    });
    expect(other.commands).toEqual([]);
    const updating = w.send({
      type: 'EndpointObserved',
      stage: 'qa',
      endpoint: observation(QA_ENDPOINT, 'Updating', d.awaiting!.configName, { v1: 100 }, T0),
    });
    expect(updating.commands).toEqual([]);
    expect(w.phase(id(1))).toBe('QaDeploying');
  });

  it.each([
    { ok: true, phase: 'ProdDeploying', status: 'Deployed' },
    { ok: false, phase: 'Failed', status: 'Failed' },
  ])('SmokeTested ok=$ok → $phase', ({ ok, phase, status }) => {
    const w = new World(groupConfig({ smokeTest: true }));
    w.approve(1);
    w.settle('qa');
    const decision = w.send({ type: 'SmokeTested', deploymentId: id(1), ok, detail: 'HTTP 200' });
    expect(w.phase(id(1))).toBe(phase);
    expect(commandsOf(decision.commands, 'UpdateRegistry')[0]?.lifecycle).toMatchObject({
      stage: 'QA',
      status,
    });
    if (!ok) expect(eventsOf(decision.commands)).toContain('Deployment Failed');
  });

  it('SmokeTested for a deployment not verifying is ignored', () => {
    const w = new World(groupConfig({ smokeTest: true }));
    w.approve(1);
    const decision = w.send({ type: 'SmokeTested', deploymentId: id(1), ok: true, detail: 'early' });
    expect(decision.commands).toEqual([]);
    expect(w.phase(id(1))).toBe('QaDeploying');
  });
});

describe('manual promotion', () => {
  const manual = () => new World(groupConfig({ mode: 'manual', approvalTimeoutMinutes: 60 }));

  it('QA verified → AwaitingApproval; promote → ReadyForProd → ProdDeploying', () => {
    const w = manual();
    w.approve(1);
    const verified = w.settle('qa');
    expect(w.phase(id(1))).toBe('AwaitingApproval');
    expect(eventsOf(verified.commands)).toContain('Awaiting Approval');
    expect(w.dep(id(1)).approvalDeadline).toBe(w.now + 60 * MIN);
    const promoted = w.operator('promote', id(1));
    expect(promoted.rejection).toBeUndefined();
    const history = commandsOf(promoted.commands, 'RecordHistory').map((c) => [c.entry.from, c.entry.to]);
    expect(history).toContainEqual(['AwaitingApproval', 'ReadyForProd']);
    expect(history).toContainEqual(['ReadyForProd', 'ProdDeploying']);
    expect(commandsOf(promoted.commands, 'DeployEndpoint')[0]).toMatchObject({ stage: 'prod' });
    expect(w.phase(id(1))).toBe('ProdDeploying');
  });

  it('no promote within the approval timeout: a Tick fails the deployment', () => {
    const w = manual();
    w.approve(1);
    w.settle('qa');
    expect(w.tick(59 * MIN).commands).toEqual([]);
    const expired = w.tick(1 * MIN);
    expect(w.phase(id(1))).toBe('Failed');
    expect(w.dep(id(1)).reason).toMatch(/approval timeout of 60 min/);
    expect(eventsOf(expired.commands)).toContain('Deployment Failed');
    const late = w.operator('promote', id(1));
    expect(late.rejection).toMatch(/Failed/);
  });

  it('a promote while prod is busy waits in ReadyForProd and starts on a later Tick', () => {
    const w = manual();
    ship(w, 1);
    // v1 shipped in manual mode needs a promote too
    w.operator('promote', id(1));
    w.settle('prod');
    expect(w.phase(id(1))).toBe('Succeeded');
    w.approve(2);
    w.settle('qa');
    w.operator('promote', id(2));
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Canary');

    // v3 goes through QA beside v2's canary; promoted, it supersedes v2: prod goes back to v1, and
    // stays busy until that update has landed
    w.approve(3);
    expect(w.phase(id(2))).toBe('Canary');
    w.settle('qa');
    expect(w.phase(id(3))).toBe('AwaitingApproval');
    expect(w.phase(id(2))).toBe('Canary');
    const promoted = w.operator('promote', id(3));
    expect(promoted.rejection).toBeUndefined();
    expect(w.phase(id(2))).toBe('RollingBack');
    expect(w.phase(id(3))).toBe('ReadyForProd');
    expect(w.dep(id(3)).reason).toBe(`waiting for ${id(2)} (RollingBack) to release prod`);
    const prodDeploysOf3 = () =>
      w.commands.filter(
        (c) => c.type === 'DeployEndpoint' && c.stage === 'prod' && c.variants.some((v) => v.version === 3),
      );
    expect(prodDeploysOf3()).toEqual([]);
    w.tick(MIN);
    expect(w.phase(id(3))).toBe('ReadyForProd');

    // the restore lands; a later Tick finds prod free and starts v3
    for (let i = 0; i < 5 && w.phase(id(3)) === 'ReadyForProd'; i += 1) {
      w.settle('prod');
      w.tick(MIN);
    }
    expect(w.phase(id(2))).toBe('Superseded');
    expect(w.phase(id(3))).toBe('ProdDeploying');
    expect(prodDeploysOf3()).toHaveLength(1);
  });
});

describe('QA housekeeping', () => {
  it('once the next version passes QA, the previous QA config goes, and its model unless prod runs it', () => {
    const w = new World();
    ship(w, 1);
    const v1Config = w.state.qa!.configName;
    w.approve(2);
    const passed = w.settle('qa');
    expect(commandsOf(passed.commands, 'RetireResources')).toEqual([
      { type: 'RetireResources', group: GROUP, stage: 'qa', modelNames: [], configNames: [v1Config] },
    ]);
    w.settleAll();
    // v2 is still in its canary when v3 passes QA: its model stays until v3 has superseded it and
    // prod is back on v1 alone, then goes with the canary config
    const v2Config = w.state.qa!.configName;
    const v2Canary = w.dep(id(2)).canary!.configName;
    w.approve(3);
    const next = w.settle('qa');
    expect(commandsOf(next.commands, 'RetireResources')).toEqual([
      { type: 'RetireResources', group: GROUP, stage: 'qa', modelNames: [], configNames: [v2Config] },
    ]);
    expect(w.phase(id(2))).toBe('RollingBack');
    w.settleAll();
    expect(w.phase(id(2))).toBe('Superseded');
    expect(commandsOf(w.commands, 'RetireResources')).toContainEqual(
      expect.objectContaining({ stage: 'prod', configNames: [v2Canary], modelNames: [modelName(GROUP, 2)] }),
    );
  });
});

describe('prod: first deployment and canary', () => {
  it('the first prod deployment places the candidate alone; InService → Succeeded', () => {
    const w = new World();
    w.approve(1);
    const qa = w.settle('qa');
    const deploy = commandsOf(qa.commands, 'DeployEndpoint');
    expect(deploy).toHaveLength(1);
    expect(deploy[0]).toMatchObject({ stage: 'prod', endpointName: PROD_ENDPOINT });
    expect(deploy[0]!.variants).toEqual([
      expect.objectContaining({ version: 1, weight: 100, variantName: 'v1' }),
    ]);
    const live = w.settle('prod');
    expect(w.phase(id(1))).toBe('Succeeded');
    expect(w.state.prod).toMatchObject({ version: 1, variantName: 'v1', configName: deploy[0]!.configName });
    expect(commandsOf(live.commands, 'UpdateRegistry').map((c) => c.lifecycle)).toContainEqual(
      expect.objectContaining({ stage: 'Production', status: 'Deployed' }),
    );
    expect(eventsOf(live.commands)).toContain('Deployment Promoted');
    expect(commandsOf(live.commands, 'RetireResources')).toEqual([]);
  });

  it('the second prod deployment is a canary config: baseline 100, candidate 0; then step 1 gets its weight', () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    const qa = w.settle('qa');
    const [deploy] = commandsOf(qa.commands, 'DeployEndpoint');
    expect(deploy!.variants.map((v) => [v.variantName, v.version, v.weight])).toEqual([
      ['v1', 1, 100],
      ['v2', 2, 0],
    ]);
    expect(w.phase(id(2))).toBe('ProdDeploying');
    const started = w.settle('prod');
    expect(w.phase(id(2))).toBe('Canary');
    const c = w.dep(id(2)).canary!;
    expect(c).toMatchObject({ stepIndex: 0, baselineVersion: 1, paused: false, weights: { v1: 90, v2: 10 } });
    expect(c.bakeUntil).toBe(w.now + 5 * MIN);
    expect(commandsOf(started.commands, 'SetWeights')).toEqual([
      expect.objectContaining({ stage: 'prod', weights: { v1: 90, v2: 10 } }),
    ]);
    w.advance('prod');
    expect(w.prodWeights()).toEqual({ v1: 90, v2: 10 });
  });

  it('healthy readings before the bake ends do nothing', () => {
    const { w, d } = inCanary();
    const decision = w.later(4 * MIN).canary(d, readings.healthy());
    expect(decision.commands).toEqual([]);
    expect(w.dep(d).canary!.stepIndex).toBe(0);
  });

  it('healthy readings after the bake: next step with SetWeights, then promotion to Succeeded', () => {
    const { w, d } = inCanary();
    const step2 = w.later(5 * MIN).canary(d, readings.healthy());
    expect(commandsOf(step2.commands, 'SetWeights')).toEqual([
      expect.objectContaining({ stage: 'prod', endpointName: PROD_ENDPOINT, weights: { v1: 50, v2: 50 } }),
    ]);
    expect(eventsOf(step2.commands)).toContain('Canary Step Passed');
    expect(w.dep(d).canary).toMatchObject({ stepIndex: 1, weights: { v1: 50, v2: 50 } });
    w.advance('prod');
    expect(w.prodWeights()).toEqual({ v1: 50, v2: 50 });

    const last = w.later(5 * MIN).canary(d, readings.healthy());
    expect(w.phase(d)).toBe('Promoting');
    const [deploy] = commandsOf(last.commands, 'DeployEndpoint');
    expect(deploy!.variants).toEqual([expect.objectContaining({ version: 2, weight: 100 })]);

    const canaryConfig = w.dep(d).canary!.configName;
    const done = w.settle('prod');
    expect(w.phase(d)).toBe('Succeeded');
    expect(w.state.prod?.version).toBe(2);
    expect(w.state.knownGood.map((k) => k.version)).toEqual([1, 2]);
    const updates = commandsOf(done.commands, 'UpdateRegistry');
    expect(updates).toContainEqual(
      expect.objectContaining({
        packageArn: packageArn(2),
        lifecycle: expect.objectContaining({ stage: 'Production', status: 'Deployed' }),
      }),
    );
    expect(updates).toContainEqual(
      expect.objectContaining({
        packageArn: packageArn(1),
        lifecycle: expect.objectContaining({ stage: 'Production', status: 'Superseded' }),
      }),
    );
    const [retire] = commandsOf(done.commands, 'RetireResources');
    expect(retire).toMatchObject({ stage: 'prod', modelNames: [modelName(GROUP, 1)] });
    expect(retire!.configNames).toEqual(expect.arrayContaining([canaryConfig]));
    expect(retire!.configNames).not.toContain(w.state.prod!.configName);
    expect(w.prodVersions()).toEqual([2]);
  });

  it('a breach rolls back: baseline 100 / candidate 0, then baseline alone, then RolledBack and blocked', () => {
    const { w, d } = inCanary();
    const breach = w.later(1 * MIN).canary(d, readings.failing());
    expect(w.phase(d)).toBe('RollingBack');
    const setWeights = commandsOf(breach.commands, 'SetWeights');
    expect(setWeights).toEqual([expect.objectContaining({ weights: { v1: 100, v2: 0 } })]);
    const [deploy] = commandsOf(breach.commands, 'DeployEndpoint');
    expect(deploy!.variants).toEqual([
      expect.objectContaining({ version: 1, weight: 100, variantName: 'v1' }),
    ]);
    expect(breach.commands.indexOf(setWeights[0]!)).toBeLessThan(breach.commands.indexOf(deploy!));
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);

    w.advance('prod'); // weights land; the baseline-only config is deployed next
    expect(w.prodWeights()).toEqual({ v1: 100, v2: 0 });
    const done = w.settle('prod');
    expect(w.phase(d)).toBe('RolledBack');
    expect(w.prodWeights()).toEqual({ v1: 100 });
    expect(eventsOf(done.commands)).toContain('Deployment Rolled Back');
    expect(commandsOf(done.commands, 'UpdateRegistry')).toContainEqual(
      expect.objectContaining({
        packageArn: packageArn(2),
        lifecycle: expect.objectContaining({ status: 'RolledBack' }),
        reject: expect.objectContaining({ description: expect.stringMatching(/gate failed/) }),
      }),
    );
    expect(commandsOf(done.commands, 'RetireResources')).toEqual([
      expect.objectContaining({ configNames: [w.dep(d).canary!.configName] }),
    ]);
    expect(w.state.prod?.version).toBe(1);
  });

  it.each([
    { action: 'extend', maxExtensions: 2, outcomes: ['Canary', 'Canary', 'RollingBack'] },
    { action: 'extend', maxExtensions: 0, outcomes: ['RollingBack'] },
    { action: 'fail', maxExtensions: 3, outcomes: ['RollingBack'] },
    { action: 'pass', maxExtensions: 3, outcomes: ['Canary'] },
  ])('no data with noData=$action (max $maxExtensions)', ({ action, maxExtensions, outcomes }) => {
    const { w, d } = inCanary(new World(groupConfig({ gates: { noData: { action, maxExtensions } } })));
    const phases: string[] = [];
    for (const _ of outcomes) {
      w.later(5 * MIN).canary(d, readings.noData());
      phases.push(w.phase(d)!);
    }
    expect(phases).toEqual(outcomes);
    if (action === 'extend' && maxExtensions > 0) expect(w.dep(d).canary).toMatchObject({ stepIndex: 0 });
    if (action === 'pass') expect(w.dep(d).canary).toMatchObject({ stepIndex: 1 });
    // a rollback for want of data is not the judge's verdict, and says so
    if (outcomes.at(-1) === 'RollingBack')
      expect(w.dep(d).reason).toMatch(/not a statistical verdict: no verdict at step 1/);
  });

  it('a rollback retires the canary config once prod is back on the baseline, never the config prod runs', () => {
    const { w, d } = inCanary();
    const canaryConfig = w.dep(d).canary!.configName;
    w.canary(d, readings.failing());
    const retired = [w.settle('prod'), w.settle('prod'), w.settle('prod')].flatMap((x) =>
      commandsOf(x.commands, 'RetireResources'),
    );
    expect(w.phase(d)).toBe('RolledBack');
    const running = w.endpoints.prod!.configName;
    expect(running).not.toBe(canaryConfig);
    // QA still runs v2, so its model stays
    expect(retired).toEqual([
      expect.objectContaining({ stage: 'prod', modelNames: [], configNames: [canaryConfig] }),
    ]);
  });

  it('an extended bake is judged again after its extension', () => {
    const { w, d } = inCanary();
    w.later(5 * MIN).canary(d, readings.noData());
    expect(w.dep(d).canary!.extensions).toBe(1);
    expect(w.later(4 * MIN).canary(d, readings.healthy()).commands).toEqual([]);
    w.later(1 * MIN).canary(d, readings.healthy());
    expect(w.dep(d).canary).toMatchObject({ stepIndex: 1, extensions: 0 });
  });

  it('maxDurationMinutes: a canary running longer rolls back', () => {
    const { w, d } = inCanary(
      new World(groupConfig({ maxDurationMinutes: 20, gates: { noData: { maxExtensions: 10 } } })),
    );
    for (let i = 0; i < 4; i += 1) w.later(5 * MIN).canary(d, readings.noData());
    expect(w.phase(d)).toBe('Canary');
    w.later(1 * MIN).canary(d, readings.noData());
    expect(w.phase(d)).toBe('RollingBack');
    expect(w.dep(d).reason).toMatch(
      /not a statistical verdict: canary exceeded its maximum duration of 20 min/,
    );
  });

  it('pause holds the steps but a breach still rolls back; resume continues', () => {
    const { w, d } = inCanary();
    const paused = w.operator('pause', d);
    expect(paused.rejection).toBeUndefined();
    expect(eventsOf(paused.commands)).toContain('Deployment Paused');
    expect(w.later(30 * MIN).canary(d, readings.healthy()).commands).toEqual([]);
    expect(w.dep(d).canary!.stepIndex).toBe(0);
    expect(w.operator('pause', d).rejection).toMatch(/already paused/);
    const resumed = w.operator('resume', d);
    expect(eventsOf(resumed.commands)).toContain('Deployment Resumed');
    expect(w.operator('resume', d).rejection).toMatch(/not paused/);
    w.canary(d, readings.healthy());
    expect(w.dep(d).canary!.stepIndex).toBe(1);

    const again = inCanary();
    again.w.operator('pause', again.d);
    again.w.canary(again.d, readings.failing());
    expect(again.w.phase(again.d)).toBe('RollingBack');
  });

  it('promote during the canary advances to the next step; on the last step it promotes (Argo Rollouts)', () => {
    const { w, d } = inCanary();
    const next = w.operator('promote', d);
    expect(w.phase(d)).toBe('Canary');
    expect(w.dep(d).canary?.stepIndex).toBe(1);
    expect(commandsOf(next.commands, 'SetWeights')[0]?.weights).toEqual({ v1: 50, v2: 50 });
    w.settle('prod');
    w.operator('promote', d);
    expect(w.phase(d)).toBe('Promoting');
    w.settle('prod');
    expect(w.phase(d)).toBe('Succeeded');
  });

  it('promote with full: true skips the remaining steps', () => {
    const { w, d } = inCanary();
    w.operator('promote', d, true, true);
    expect(w.phase(d)).toBe('Promoting');
    w.settle('prod');
    expect(w.phase(d)).toBe('Succeeded');
    expect(w.prodWeights()).toEqual({ v2: 100 });
  });

  it('abort during the canary rolls prod back to the baseline and ends Aborted (not blocked)', () => {
    const { w, d } = inCanary();
    const aborted = w.operator('abort', d);
    expect(commandsOf(aborted.commands, 'SetWeights')[0]?.weights).toEqual({ v1: 100, v2: 0 });
    w.settleAll();
    expect(w.phase(d)).toBe('Aborted');
    expect(w.prodWeights()).toEqual({ v1: 100 });
    expect(w.state.blocked).toEqual([]);
    expect(w.operator('abort', d).rejection).toMatch(/already ended Aborted/);
  });

  it('abort before prod ends at once', () => {
    const w = new World();
    w.approve(1);
    const aborted = w.operator('abort', id(1));
    expect(w.phase(id(1))).toBe('Aborted');
    expect(commandsOf(aborted.commands, 'DeployEndpoint')).toEqual([]);
  });

  it('operator rollback during a canary rolls back and blocks the version', () => {
    const { w, d } = inCanary();
    w.operator('rollback', d);
    w.settleAll();
    expect(w.phase(d)).toBe('RolledBack');
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
  });
});

describe('rollback after promotion, retry and re-approval', () => {
  it('rollback of the version serving prod returns to the last known good version', () => {
    const { w, d } = inCanary();
    passAllSteps(w, d);
    expect(w.phase(d)).toBe('Succeeded');
    const rb = w.operator('rollback', d);
    expect(rb.rejection).toBeUndefined();
    expect(w.phase(d)).toBe('RolledBack');
    expect(eventsOf(rb.commands)).toContain('Deployment Rolled Back');
    expect(commandsOf(rb.commands, 'UpdateRegistry')).toContainEqual(
      expect.objectContaining({ packageArn: packageArn(2), reject: expect.anything() }),
    );
    const [deploy] = commandsOf(rb.commands, 'DeployEndpoint');
    expect(deploy!.variants).toEqual([expect.objectContaining({ version: 1, weight: 100 })]);
    const restore = id(1, 2);
    expect(w.phase(restore)).toBe('ProdDeploying');
    const restoreConfig = commandsOf(rb.commands, 'DeployEndpoint')[0]!.configName;
    const live = w.settle('prod');
    expect(w.phase(restore)).toBe('Succeeded');
    expect(w.state.prod?.version).toBe(1);
    expect(w.prodVersions()).toEqual([1]);
    // the rolled-back version's prod config goes; its model stays while QA still runs it
    const [retire] = commandsOf(live.commands, 'RetireResources');
    expect(retire).toMatchObject({ stage: 'prod', modelNames: [] });
    expect(retire!.configNames).toHaveLength(1);
    expect(retire!.configNames[0]).not.toBe(restoreConfig);
    expect(retire!.configNames[0]).toMatch(/-v2-/);
  });

  it('rollback while the next version is in flight: that one ends Aborted, and the rolled-back model goes once QA moved on', () => {
    const { w, d } = inCanary();
    passAllSteps(w, d);
    w.approve(3);
    w.settle('qa');
    expect(w.state.qa?.version).toBe(3);
    expect(w.phase(id(3))).not.toBe('Succeeded');
    w.operator('rollback', d);
    expect(w.phase(id(3))).toBe('Aborted');
    expect(w.dep(id(3)).reason).toBe('prod rolls back to v1: rollback by alice: testing');
    // v3's change on prod lands first, then the restore
    const retired = [w.settle('prod'), w.settle('prod')].flatMap((x) =>
      commandsOf(x.commands, 'RetireResources'),
    );
    expect(w.phase(id(1, 2))).toBe('Succeeded');
    expect(retired.map((r) => r.modelNames)).toEqual([[modelName(GROUP, 2)]]);
  });

  it('rollback with no earlier known good version is refused and changes nothing', () => {
    const w = new World();
    ship(w, 1);
    const before = structuredClone(w.state);
    const rb = w.operator('rollback', id(1));
    expect(rb.rejection).toMatch(/no earlier known good/);
    expect(w.state.blocked).toEqual(before.blocked);
    expect(w.phase(id(1))).toBe('Succeeded');
  });

  /** v1 and then v2 served prod; an operator rolled v2 back, so v1#2 restores v1 on prod. */
  const restoring = (): World => {
    const { w, d } = inCanary();
    passAllSteps(w, d);
    w.operator('rollback', d);
    expect(w.phase(id(1, 2))).toBe('ProdDeploying');
    return w;
  };

  it('aborting the restore does not bring the rolled-back version back to prod', () => {
    const w = restoring();
    const aborted = w.operator('abort', id(1, 2));
    expect(aborted.rejection).toBeUndefined();
    expect(commandsOf(aborted.commands, 'DeployEndpoint')).toEqual([]);
    w.settleAll();
    expect(w.phase(id(1, 2))).toBe('Aborted');
    expect(w.prodVersions()).toEqual([1]);
    expect(w.state.prod?.version).toBe(1);
    // and the next canary runs against v1, not against the rolled-back v2
    const d3 = toCanary(w, 3);
    expect(w.dep(d3).canary?.baselineVersion).toBe(1);
    expect(w.prodVersions()).toEqual([1, 3]);
  });

  it("the restore does not overwrite the rolled-back version's registry status with Superseded", () => {
    const w = restoring();
    w.settleAll();
    expect(w.phase(id(1, 2))).toBe('Succeeded');
    const v2 = w.registryUpdates
      .filter((u) => u.packageArn === packageArn(2))
      .map((u) => u.lifecycle?.status);
    expect(v2.at(-1)).toBe('RolledBack');
  });

  it("a QA callback for the version being restored is not answered with another version's outputs", () => {
    const w = restoring();
    w.callback('tq', 1, 'qa');
    const answers = w.answers.get('tq') ?? [];
    expect(answers).toHaveLength(1);
    if (answers[0]!.outcome === 'success') expect(answers[0]!.outputs?.ModelPackageArn).toBe(packageArn(1));
  });

  it('a refused rollback keeps an earlier block (a rejected version serving prod with nothing to return to)', () => {
    const w = new World();
    ship(w, 1);
    w.reject(1);
    expect(w.state.blocked.map((b) => b.version)).toEqual([1]);
    const refused = w.operator('rollback', id(1));
    expect(refused.rejection).toMatch(/no earlier known good/);
    expect(w.state.blocked.map((b) => b.version)).toEqual([1]);
  });

  it('retry needs a failed attempt and, after a rollback, a new approval', () => {
    const { w, d } = inCanary();
    const approvedView = w.registry.get(2)!;
    w.canary(d, readings.failing());
    w.settleAll();
    expect(w.phase(d)).toBe('RolledBack');
    // the rollback rejected v2 in the registry
    expect(w.registry.get(2)?.approvalStatus).toBe('Rejected');
    expect(w.operator('retry', d).rejection).toMatch(/Rejected in the registry/);
    // a stale read of the registry (the approval from before the rollback) is not enough
    const refused = w.send({
      type: 'Operator',
      command: { verb: 'retry', deploymentId: d, actor: 'alice', reason: 'again', requestId: 'r-stale' },
      pkg: approvedView,
    });
    expect(refused.rejection).toMatch(/approve it anew/);
    // nor is a redelivered Approved event from before the rollback
    const stale = w.send({ type: 'Approved', pkg: approvedView });
    expect(commandsOf(stale.commands, 'DeployEndpoint')).toEqual([]);
    // re-approved in the registry: the approval itself starts a new attempt
    w.later(MIN).approve(2);
    expect(w.phase(id(2, 2))).toBe('QaDeploying');
    expect(w.state.blocked).toEqual([]);
  });

  it('retry of a failed (not blocked) deployment starts a new attempt', () => {
    const w = new World(groupConfig({ smokeTest: true }));
    w.approve(1);
    w.settle('qa');
    w.send({ type: 'SmokeTested', deploymentId: id(1), ok: false, detail: 'HTTP 500' });
    expect(w.operator('retry', id(1), false).rejection).toMatch(/unknown in the registry/);
    const retried = w.operator('retry', id(1));
    expect(retried.rejection).toBeUndefined();
    expect(w.phase(id(1, 2))).toBe('QaDeploying');
    expect(w.operator('retry', id(1)).rejection).toMatch(/is QaDeploying|latest attempt/);
  });
});

describe('registry rejection and duplicate events', () => {
  it('Rejected for an in-flight version aborts it and rolls back its canary', () => {
    const { w, d } = inCanary();
    const rejected = w.reject(2);
    expect(w.phase(d)).toBe('RollingBack');
    expect(commandsOf(rejected.commands, 'SetWeights')[0]?.weights).toEqual({ v1: 100, v2: 0 });
    w.settleAll();
    expect(w.phase(d)).toBe('Aborted');
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });

  it('Rejected for a version still in QA aborts it at once', () => {
    const w = new World();
    w.approve(1);
    w.reject(1);
    expect(w.phase(id(1))).toBe('Aborted');
  });

  it('Rejected for the version serving prod rolls prod back to the last known good', () => {
    const { w, d } = inCanary();
    passAllSteps(w, d);
    const rejected = w.reject(2);
    expect(w.phase(d)).toBe('RolledBack');
    expect(commandsOf(rejected.commands, 'DeployEndpoint')[0]?.variants).toEqual([
      expect.objectContaining({ version: 1, weight: 100 }),
    ]);
    w.settle('prod');
    expect(w.state.prod?.version).toBe(1);
  });

  it('an approval read before a second rejection does not lift it (registry times, same millisecond)', () => {
    const w = new World();
    w.approve(4);
    w.reject(4);
    w.approve(4);
    const between = w.registry.get(4)!;
    expect(w.phase(id(4, 2))).toBe('QaDeploying');
    w.reject(4);
    expect(w.phase(id(4, 2))).toBe('Aborted');
    const stale = w.send({ type: 'Approved', pkg: between });
    expect(stale.commands).toEqual([]);
    expect(w.state.blocked.map((b) => b.version)).toEqual([4]);
    w.later(MIN).approve(4);
    expect(w.phase(id(4, 3))).toBe('QaDeploying');
  });

  it('a duplicate Approved is a no-op, in flight or after the end', () => {
    const w = new World();
    w.approve(1);
    const dup = w.send({ type: 'Approved', pkg: w.registry.get(1)! });
    expect(dup.commands).toEqual([]);
    w.settle('qa');
    w.settle('prod');
    expect(w.phase(id(1))).toBe('Succeeded');
    const late = w.send({ type: 'Approved', pkg: w.registry.get(1)! });
    expect(late.commands).toEqual([]);
    expect(w.state.deployments).toHaveLength(1);
  });

  it('the ModelLifeCycle update echo (same approval) does not redeploy', () => {
    const w = new World();
    ship(w, 1);
    const echo = w.send({
      type: 'Approved',
      pkg: { ...w.registry.get(1)!, lifecycle: { stage: 'Production', stageStatus: 'Deployed' } },
    });
    expect(commandsOf(echo.commands, 'DeployEndpoint')).toEqual([]);
  });

  it('an older version approved after a newer one started is Superseded at once', () => {
    const w = new World();
    w.approve(5);
    const old = w.approve(4);
    expect(w.phase(id(4))).toBe('Superseded');
    expect(commandsOf(old.commands, 'DeployEndpoint')).toEqual([]);
    expect(eventsOf(old.commands)).toContain('Deployment Superseded');
    expect(w.phase(id(5))).toBe('QaDeploying');
  });
});

describe('concurrency policies', () => {
  it('supersede, per stage: a newer approval goes through QA beside the canary, and stops it once ready for prod', () => {
    const { w, d } = inCanary();
    w.approve(3);
    expect(w.phase(d)).toBe('Canary');
    expect(w.phase(id(3))).toBe('QaDeploying');
    w.settle('qa');
    expect(w.dep(d)).toMatchObject({ phase: 'RollingBack', reason: 'rolling back to v1: superseded by v3' });
    expect(w.dep(id(3))).toMatchObject({
      phase: 'ReadyForProd',
      reason: `waiting for ${d} (RollingBack) to release prod`,
    });
    w.settleAll();
    expect(w.phase(d)).toBe('Superseded');
    w.tick(MIN);
    expect(w.phase(id(3))).toBe('ProdDeploying');
  });

  it('supersede, per stage: a newer version that fails QA leaves the canary running', () => {
    const { w, d } = inCanary();
    w.approve(3);
    w.later(MIN).settle('qa', 'fail');
    expect(w.phase(id(3))).toBe('Failed');
    expect(w.phase(d)).toBe('Canary');
    expect(w.dep(d).canary?.weights).toEqual({ v1: 90, v2: 10 });
  });

  it('queue: a newer approval waits, older queued ones are superseded, next starts when the first ends', () => {
    const w = new World(groupConfig({ concurrency: 'queue' }));
    w.approve(1);
    w.approve(2);
    w.approve(3);
    expect(w.phase(id(1))).toBe('QaDeploying');
    expect(w.phase(id(2))).toBe('Superseded');
    expect(w.phase(id(3))).toBe('Queued');
    w.settle('qa');
    // v1 left QA for prod: QA is free for v3 at once, while v1 is still deploying to prod
    expect(w.phase(id(1))).toBe('ProdDeploying');
    expect(w.phase(id(3))).toBe('QaDeploying');
    w.settle('prod');
    expect(w.phase(id(1))).toBe('Succeeded');
  });

  it('reject: a second approval while one is in flight fails at once', () => {
    const w = new World(groupConfig({ concurrency: 'reject' }));
    w.approve(1);
    const second = w.approve(2);
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toMatch(/concurrency policy/);
    expect(commandsOf(second.commands, 'DeployEndpoint')).toEqual([]);
    expect(w.phase(id(1))).toBe('QaDeploying');
  });
});

describe('endpoint failures and drift', () => {
  it('SageMaker rolled a replace update back (InService on the old config, with FailureReason): Failed', () => {
    const w = new World();
    w.approve(1);
    w.settle('qa');
    // prod runs a config put there outside the service; the update to v1 fails and SageMaker reverts
    w.endpoints.prod!.status = 'Updating';
    w.endpoints.prod!.previous = { configName: 'churn-prod-old', variants: [] };
    w.later(MIN).settle('prod', 'fail');
    expect(w.endpoints.prod?.status).toBe('InService');
    expect(w.phase(id(1))).toBe('Failed');
    expect(w.dep(id(1)).reason).toMatch(/SageMaker rolled churn-prod back to churn-prod-old/);
  });

  it('SageMaker rolled the canary config update back: prod stays on the baseline alone, Failed', () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.later(MIN);
    w.settle('prod', 'fail');
    expect(w.endpoints.prod?.status).toBe('InService');
    expect(w.phase(id(2))).toBe('RollingBack');
    expect(w.dep(id(2)).reason).toMatch(/SageMaker rolled churn-prod back/);
    w.observe('prod');
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });

  it('an old FailureReason from before the request is not taken as this update failing', () => {
    const w = new World();
    w.approve(1);
    const d = w.dep(id(1));
    const decision = w.send({
      type: 'EndpointObserved',
      stage: 'qa',
      endpoint: observation(QA_ENDPOINT, 'InService', 'old-config', { v0: 1 }, T0 - MIN, 'old failure'),
    });
    expect(decision.commands).toEqual([]);
    expect(d.phase).toBe('QaDeploying');
  });

  it('a FailureReason is a rollback of this update only if InService on another config, changed after the request', () => {
    const observeQa = (status: 'InService' | 'Updating', config: string | null, at: number) => {
      const w = new World();
      w.approve(1);
      const d = w.dep(id(1));
      const requestedAt = d.awaiting!.requestedAt;
      w.send({
        type: 'EndpointObserved',
        stage: 'qa',
        endpoint: observation(
          QA_ENDPOINT,
          status,
          config ?? d.awaiting!.configName,
          { v0: 1 },
          requestedAt + at,
          'old failure',
        ),
      });
      return w.phase(id(1));
    };
    // the request's own millisecond: the failure was there when it was decided
    expect(observeQa('InService', 'old-config', 0)).toBe('QaDeploying');
    // still updating, whichever config it shows: not rolled back yet
    expect(observeQa('Updating', 'old-config', 1)).toBe('QaDeploying');
    expect(observeQa('Updating', null, 1)).toBe('QaDeploying');
    // InService on another config after the request, with a reason: SageMaker rolled the update back
    expect(observeQa('InService', 'old-config', 1)).toBe('Failed');
  });

  it('endpoint Failed → the deployment fails and QA is marked Failed in the registry', () => {
    const w = new World();
    w.approve(1);
    // SageMaker fails a creation minutes after it was asked for, never in the same millisecond
    const failed = w.later(MIN).settle('qa', 'fail');
    expect(w.endpoints.qa?.status).toBe('Failed');
    expect(w.phase(id(1))).toBe('Failed');
    expect(commandsOf(failed.commands, 'UpdateRegistry')[0]?.lifecycle).toMatchObject({
      stage: 'QA',
      status: 'Failed',
    });
  });

  it('UpdateRollbackFailed after the request fails the prod deployment, the status and reason in words', () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('ProdDeploying');
    const config = w.state.prod!.configName;
    w.later(MIN).send({
      type: 'EndpointObserved',
      stage: 'prod',
      endpoint: observation(PROD_ENDPOINT, 'UpdateRollbackFailed', config, { v1: 100 }, w.now, 'no capacity'),
    });
    expect(w.dep(id(2)).reason).toMatch(
      /^rolling back to v1: prod deployment failed: endpoint churn-prod UpdateRollbackFailed: no capacity/,
    );
    w.settleAll();
    expect(w.phase(id(2))).toBe('Failed');
  });

  it('a Failed endpoint without a FailureReason says so', () => {
    const w = new World();
    w.approve(1);
    const config = w.dep(id(1)).awaiting!.configName;
    w.later(MIN).send({
      type: 'EndpointObserved',
      stage: 'qa',
      endpoint: observation(QA_ENDPOINT, 'Failed', config, { v1: 100 }, w.now),
    });
    expect(w.phase(id(1))).toBe('Failed');
    expect(w.dep(id(1)).reason).toBe('QA deployment failed: endpoint churn-qa Failed: no reason given');
  });

  it("a native group's QA waits as long as any endpoint: the blue/green allowance is for prod's shifting alone", () => {
    const w = new World(groupConfig({ strategy: 'native' }));
    w.approve(1);
    w.later(ENDPOINT_WAIT_LIMIT_MS + 1).send({ type: 'EndpointObserved', stage: 'qa', endpoint: null });
    expect(w.phase(id(1))).toBe('Failed');
  });

  it('an endpoint not there yet is waited for, and named missing when the wait ends', () => {
    const w = new World();
    w.approve(1);
    w.autoCarryOut = false;
    const missing = () => w.send({ type: 'EndpointObserved', stage: 'qa', endpoint: null });
    expect(missing().commands).toEqual([]);
    expect(w.phase(id(1))).toBe('QaDeploying');
    w.later(ENDPOINT_WAIT_LIMIT_MS + 1);
    missing();
    expect(w.phase(id(1))).toBe('Failed');
    expect(w.dep(id(1)).reason).toMatch(
      /^QA deployment failed: endpoint churn-qa not InService on .+ \(missing\)$/,
    );
  });

  it('waiting longer than ENDPOINT_WAIT_LIMIT_MS fails, not sooner', () => {
    const w = new World();
    w.approve(1);
    w.later(ENDPOINT_WAIT_LIMIT_MS).observe('qa');
    expect(w.phase(id(1))).toBe('QaDeploying');
    w.later(1).observe('qa');
    expect(w.phase(id(1))).toBe('Failed');
    expect(w.dep(id(1)).reason).toMatch(/not InService/);
  });

  it('a failed prod update of a canary config puts prod back on the baseline', () => {
    const w = new World();
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.later(MIN).send({
      type: 'EndpointObserved',
      stage: 'prod',
      endpoint: observation(PROD_ENDPOINT, 'Failed', w.dep(id(2)).awaiting!.configName, {}, w.now, 'boom'),
    });
    expect(w.phase(id(2))).toBe('RollingBack');
  });

  it('drift: weights changed by hand while InService and settled → paused + Drift Detected', () => {
    const { w, d } = inCanary();
    const settled = w.observe('prod');
    expect(settled.commands).toEqual([]);
    w.handSetWeights('prod', { v1: 50, v2: 50 });
    const drift = w.observe('prod');
    expect(w.dep(d).canary!.paused).toBe(true);
    expect(eventsOf(drift.commands)).toEqual(expect.arrayContaining(['Drift Detected', 'Deployment Paused']));
    // the same relative split is not drift
    const { w: w2, d: d2 } = inCanary();
    w2.handSetWeights('prod', { v1: 9, v2: 1 });
    w2.observe('prod');
    expect(w2.dep(d2).canary!.paused).toBe(false);
  });

  it('drift in words: a split changed by hand, or prod on a config we did not deploy', () => {
    const driftOf = (decision: { commands: Parameters<typeof commandsOf>[0] }) =>
      commandsOf(decision.commands, 'Publish')
        .filter((c) => c.event.type === 'Drift Detected')
        .map((c) => (c.event.detail as { drift?: string }).drift);
    const { w, d } = inCanary();
    w.handSetWeights('prod', { v1: 50, v2: 50 });
    expect(driftOf(w.observe('prod'))).toEqual([
      'prod weights {"v1":50,"v2":50} differ from the expected {"v1":90,"v2":10}',
    ]);
    const { w: w2, d: d2 } = inCanary();
    const expected = w2.dep(d2).canary!.configName;
    const byHand = w2.send({
      type: 'EndpointObserved',
      stage: 'prod',
      endpoint: observation(PROD_ENDPOINT, 'InService', 'churn-prod-by-hand', { v1: 90, v2: 10 }, w2.now),
    });
    expect(driftOf(byHand)).toEqual([`prod runs config churn-prod-by-hand, expected ${expected}`]);
    expect(w2.dep(d2).canary!.paused).toBe(true);
    expect(w.dep(d).canary!.paused).toBe(true);
  });

  it('no drift while paused, while the endpoint is not InService, or while its weights are still shifting', () => {
    const driftEvents = (commands: Parameters<typeof eventsOf>[0]) =>
      eventsOf(commands).filter((e) => e === 'Drift Detected');
    const { w, d } = inCanary();
    const config = w.dep(d).canary!.configName;
    const seen = (status: 'InService' | 'Updating', variants: [string, number, number][]) =>
      w.send({
        type: 'EndpointObserved',
        stage: 'prod',
        endpoint: {
          ...observation(PROD_ENDPOINT, status, config, {}, w.now),
          variants: variants.map(([variantName, currentWeight, desiredWeight]) => ({
            variantName,
            currentWeight,
            desiredWeight,
          })),
        },
      });
    expect(
      driftEvents(
        seen('Updating', [
          ['v1', 50, 50],
          ['v2', 50, 50],
        ]).commands,
      ),
    ).toEqual([]);
    expect(
      driftEvents(
        seen('InService', [
          ['v1', 90, 90],
          ['v2', 50, 10],
        ]).commands,
      ),
    ).toEqual([]);
    expect(w.dep(d).canary!.paused).toBe(false);
    expect(
      driftEvents(
        seen('InService', [
          ['v1', 50, 50],
          ['v2', 50, 50],
        ]).commands,
      ),
    ).toEqual(['Drift Detected']);
    expect(w.dep(d).canary!.paused).toBe(true);
    // paused: the same drift seen again is not announced again
    expect(
      driftEvents(
        seen('InService', [
          ['v1', 40, 40],
          ['v2', 60, 60],
        ]).commands,
      ),
    ).toEqual([]);
  });

  it("the executor's report on an older generation, or a second one on the same, changes nothing", () => {
    const { w, d } = inCanary();
    const generation = w.state.desired!.prod!.generation;
    const refused = (g: number) =>
      w.send({ type: 'EndpointRefused', stage: 'prod', generation: g, reason: 'ValidationException' });
    expect(refused(generation - 1).commands).toEqual([]);
    expect(w.phase(d)).toBe('Canary');
    // the current generation has converged already
    expect(w.state.desired!.prod!.settled?.generation).toBe(generation);
    expect(refused(generation).commands).toEqual([]);
    expect(w.phase(d)).toBe('Canary');
  });

  it('the QA endpoint, on its own config, is no drift of a canary in prod', () => {
    const { w, d } = inCanary();
    expect(w.observe('qa').commands).toEqual([]);
    expect(w.dep(d).canary!.paused).toBe(false);
  });

  it('no drift while our own weight change is not yet seen on the endpoint', () => {
    const { w, d } = inCanary();
    w.autoCarryOut = false;
    w.later(5 * MIN).canary(d, readings.healthy());
    const desired = w.state.desired?.prod;
    expect(desired?.settled?.generation).not.toBe(desired?.generation);
    w.observe('prod');
    expect(w.dep(d).canary!.paused).toBe(false);
    w.carryOut();
    w.observe('prod'); // Updating
    w.advance('prod');
    w.observe('prod');
    expect(w.dep(d).canary!.paused).toBe(false);
  });

  it('a failed command while nothing is awaited ends the deployment Failed with the command named', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    w.approve(1);
    w.settle('qa');
    expect(w.phase(id(1))).toBe('AwaitingApproval');
    w.send({ type: 'CommandFailed', deploymentId: id(1), command: 'UpdateRegistry', reason: 'Throttling' });
    expect(w.phase(id(1))).toBe('Failed');
    expect(w.dep(id(1)).reason).toBe('UpdateRegistry failed: Throttling');
  });

  it('aborting the first prod deployment says that prod has no earlier version to return to', () => {
    const w = new World();
    w.approve(1);
    w.settle('qa');
    expect(w.phase(id(1))).toBe('ProdDeploying');
    w.operator('abort', id(1));
    expect(w.phase(id(1))).toBe('Aborted');
    expect(w.dep(id(1)).reason).toMatch(/; prod has no earlier version to return to$/);
  });

  it('CommandFailed fails the deployment (and rolls a canary back)', () => {
    const w = new World();
    w.approve(1);
    w.send({
      type: 'CommandFailed',
      deploymentId: id(1),
      command: 'DeployEndpoint',
      reason: 'bad instance type',
    });
    expect(w.phase(id(1))).toBe('Failed');
    expect(w.dep(id(1)).reason).toMatch(/DeployEndpoint failed: bad instance type/);
    const { w: w2, d } = inCanary();
    w2.send({ type: 'CommandFailed', deploymentId: d, command: 'SetWeights', reason: 'AccessDenied' });
    expect(w2.phase(d)).toBe('RollingBack');
    w2.settleAll();
    expect(w2.phase(d)).toBe('Failed');
    expect(w2.prodWeights()).toEqual({ v1: 100 });
  });
});

describe('native strategy', () => {
  const native = () => new World(groupConfig({ strategy: 'native' }));

  it('deploys with native shifting and succeeds when InService on the new config', () => {
    const w = native();
    ship(w, 1);
    w.approve(2);
    const qa = w.settle('qa');
    const [deploy] = commandsOf(qa.commands, 'DeployEndpoint');
    expect(deploy).toMatchObject({
      native: true,
      variants: [expect.objectContaining({ variantName: 'primary' })],
    });
    expect(w.phase(id(2))).toBe('NativeShifting');
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Succeeded');
    expect(w.state.prod).toMatchObject({ version: 2, variantName: 'primary' });
  });

  it('SageMaker rolls back (alarm): RolledBack and blocked', () => {
    const w = native();
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.later(MIN).settle('prod', 'fail');
    expect(w.phase(id(2))).toBe('RolledBack');
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
    expect(w.state.prod?.version).toBe(1);
  });
});

describe('pipeline callbacks', () => {
  const outputsFor = (w: World, stage: 'qa' | 'prod') => ({
    EndpointName: stage === 'qa' ? QA_ENDPOINT : PROD_ENDPOINT,
    EndpointConfigName: (stage === 'qa' ? w.state.qa : w.state.prod)!.configName,
    VariantName: 'v1',
    ModelPackageArn: packageArn(1),
  });

  it('qa callback: starts a QA-only deployment and answers success with outputs when QA is verified', () => {
    const w = new World(groupConfig({ smokeTest: true }));
    w.callback('t1', 1, 'qa');
    expect(w.dep(id(1))).toMatchObject({ trigger: 'callback', targetStage: 'qa', phase: 'QaDeploying' });
    w.settle('qa');
    expect(w.answers.get('t1')).toBeUndefined();
    w.send({ type: 'SmokeTested', deploymentId: id(1), ok: true, detail: 'ok' });
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({ outcome: 'success', outputs: outputsFor(w, 'qa') }),
    ]);
    expect(w.phase(id(1))).toBe('Succeeded');
    expect(w.endpoints.prod).toBeNull();
  });

  it('prod callback: answers success when promoted', () => {
    const w = new World();
    w.registry.set(1, pkg(1, T0));
    w.callback('t1', 1, 'prod');
    w.settle('qa');
    expect(w.answers.get('t1')).toBeUndefined();
    w.settle('prod');
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({ outcome: 'success', outputs: outputsFor(w, 'prod') }),
    ]);
  });

  it('prod callback for a version not approved fails at once', () => {
    const w = new World();
    w.callback('t1', 1, 'prod');
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: 'v1 is PendingManualApproval: deploying to prod needs an approved version',
      }),
    ]);
    expect(w.state.deployments).toEqual([]);
  });

  it('a callback for a Rejected version fails at once, QA included', () => {
    const w = new World();
    w.registry.set(1, pkg(1, T0, 'Rejected'));
    w.callback('t1', 1, 'qa');
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: 'v1 is Rejected in the model registry' }),
    ]);
    expect(w.state.deployments).toEqual([]);
  });

  it('a callback waiting on a deployment that rolls back gets a failure answer', () => {
    const { w, d } = inCanary();
    w.callback('t2', 2, 'prod');
    expect(w.answers.get('t2')).toBeUndefined();
    w.canary(d, readings.failing());
    w.settleAll();
    expect(w.answers.get('t2')).toEqual([expect.objectContaining({ outcome: 'failure' })]);
  });

  it('a duplicate request for an attached token is not attached twice', () => {
    const w = new World();
    w.registry.set(1, pkg(1, T0));
    w.callback('t1', 1, 'prod');
    const dup = w.callback('t1', 1, 'prod');
    expect(dup.commands).toEqual([]);
    w.settleAll();
    expect(w.answers.get('t1')).toHaveLength(1);
  });

  it('Stopping answers failure "stopped by the pipeline" and aborts a callback-triggered deployment', () => {
    const w = new World();
    w.registry.set(1, pkg(1, T0));
    w.callback('t1', 1, 'prod');
    const stop = w.send({ type: 'CallbackStopping', token: 't1' });
    expect(commandsOf(stop.commands, 'AnswerCallback')).toEqual([
      expect.objectContaining({ token: 't1', outcome: 'failure', reason: 'stopped by the pipeline' }),
    ]);
    expect(w.phase(id(1))).toBe('Aborted');
    expect(w.send({ type: 'CallbackStopping', token: 't1' }).commands).toEqual([]);
  });

  it('Stopping aborts the work tied to the token whichever event started it', () => {
    const w = new World();
    w.approve(1);
    w.callback('t1', 1, 'prod');
    w.send({ type: 'CallbackStopping', token: 't1' });
    expect(w.answers.get('t1')).toHaveLength(1);
    expect(w.phase(id(1))).toBe('Aborted');
  });

  it('Stopping leaves the work running while another pipeline still waits on it', () => {
    const w = new World();
    w.approve(1);
    w.callback('t1', 1, 'prod');
    w.callback('t2', 1, 'prod');
    w.send({ type: 'CallbackStopping', token: 't1' });
    expect(w.answers.get('t1')).toHaveLength(1);
    expect(w.answers.get('t2')).toBeUndefined();
    expect(w.phase(id(1))).toBe('QaDeploying');
  });

  it('callback deadline via Tick → failure answer and the callback deployment is aborted', () => {
    const w = new World(groupConfig({ taskTimeoutMinutes: 30 }));
    w.registry.set(1, pkg(1, T0));
    w.callback('t1', 1, 'prod');
    w.tick(29 * MIN);
    expect(w.answers.get('t1')).toBeUndefined();
    w.tick(1 * MIN);
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: expect.stringMatching(/timed out after 30 min/),
      }),
    ]);
    expect(w.phase(id(1))).toBe('Aborted');
  });

  it('a QA callback for a version older than one in flight is refused and supersedes nothing', () => {
    const w = new World();
    w.approve(3);
    w.callback('t1', 2, 'qa');
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: expect.stringMatching(/older than v3/) }),
    ]);
    expect(w.phase(id(3))).toBe('QaDeploying');
    expect(w.state.deployments.map((d) => d.version)).toEqual([3]);
  });

  it('a callback for the version already live answers success at once', () => {
    const w = new World();
    ship(w, 1);
    w.callback('t1', 1, 'prod');
    w.callback('t2', 1, 'qa');
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({ outcome: 'success', outputs: outputsFor(w, 'prod') }),
    ]);
    expect(w.answers.get('t2')).toEqual([
      expect.objectContaining({ outcome: 'success', outputs: outputsFor(w, 'qa') }),
    ]);
  });

  it('a qa callback for a version past QA answers at once with the QA outputs, without waiting', () => {
    const { w, d } = inCanary();
    w.callback('t1', 2, 'qa');
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({
        outcome: 'success',
        outputs: expect.objectContaining({ EndpointName: QA_ENDPOINT, ModelPackageArn: packageArn(2) }),
      }),
    ]);
    expect(w.dep(d).callbacks).toEqual([]);
  });

  it('a qa callback for a version awaiting promotion answers at once; a prod one waits for prod', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    w.approve(1);
    w.settle('qa');
    expect(w.phase(id(1))).toBe('AwaitingApproval');
    w.callback('t1', 1, 'qa');
    expect(w.answers.get('t1')).toEqual([expect.objectContaining({ outcome: 'success' })]);
    w.callback('t2', 1, 'prod');
    expect(w.answers.get('t2')).toBeUndefined();
    expect(w.dep(id(1)).callbacks.map((c) => c.token)).toEqual(['t2']);
  });

  it('a prod callback for a version deploying to QA only carries that deployment on to prod', () => {
    const w = new World();
    w.registry.set(1, pkg(1, T0));
    w.callback('t1', 1, 'qa');
    expect(w.dep(id(1)).targetStage).toBe('qa');
    w.callback('t2', 1, 'prod');
    expect(w.dep(id(1)).targetStage).toBe('prod');
    w.settleAll();
    expect(w.phase(id(1))).toBe('Succeeded');
    expect(w.state.prod?.version).toBe(1);
    expect(w.answers.get('t2')).toEqual([expect.objectContaining({ outcome: 'success' })]);
  });

  it('a second qa callback for a QA-only deployment waits with it and leaves prod alone', () => {
    const w = new World();
    w.registry.set(1, pkg(1, T0));
    w.callback('t1', 1, 'qa');
    w.callback('t2', 1, 'qa');
    expect(w.dep(id(1))).toMatchObject({ targetStage: 'qa' });
    expect(w.dep(id(1)).callbacks.map((c) => c.token)).toEqual(['t1', 't2']);
    w.settleAll();
    expect(w.phase(id(1))).toBe('Succeeded');
    expect(w.state.prod).toBeUndefined();
    expect(w.answers.get('t2')).toEqual([expect.objectContaining({ outcome: 'success' })]);
  });

  it('a callback for a rolled-back version fails until the registry approves it anew, which lifts the block', () => {
    const { w, d } = inCanary();
    w.canary(d, readings.failing());
    w.settleAll();
    expect(w.phase(d)).toBe('RolledBack');
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
    // the callback carries the package as read before the rollback: still Approved, from before the block
    w.registry.set(2, pkg(2, T0, 'Approved'));
    w.callback('t1', 2, 'prod');
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: expect.stringMatching(/^v2 was .+; approve it anew in the registry$/),
      }),
    ]);
    expect(w.state.deployments.map((x) => x.id)).toEqual([id(1), id(2)]);
    // approved anew in the registry; the callback message comes before the registry's event
    w.registry.set(2, pkg(2, w.state.blocked[0]!.at + 1, 'Approved'));
    w.callback('t2', 2, 'prod');
    expect(w.state.blocked).toEqual([]);
    expect(w.dep(id(2, 2))).toMatchObject({ phase: 'QaDeploying', targetStage: 'prod' });
    expect(w.answers.get('t2')).toBeUndefined();
  });

  it('answers are cut to pipeline limits by the caller, but reasons stay plain', () => {
    const w = new World();
    w.approve(1);
    w.callback('t1', 1, 'qa');
    w.settle('qa');
    expect(w.answers.get('t1')).toEqual([expect.objectContaining({ outcome: 'success' })]);
  });
});

describe('refused operator commands', () => {
  const cases: {
    name: string;
    verb: 'promote' | 'pause' | 'resume' | 'abort' | 'rollback' | 'retry';
    target: string;
  }[] = [
    { name: 'unknown deployment', verb: 'abort', target: `${GROUP}:v99` },
    { name: 'promote a failed deployment', verb: 'promote', target: id(3) },
    { name: 'promote a finished deployment', verb: 'promote', target: id(1) },
    { name: 'pause outside a canary', verb: 'pause', target: id(3) },
    { name: 'resume when not paused', verb: 'resume', target: id(2) },
    { name: 'abort a finished deployment', verb: 'abort', target: id(1) },
    { name: 'rollback a deployment that does not serve prod', verb: 'rollback', target: id(3) },
    { name: 'retry a deployment in progress', verb: 'retry', target: id(2) },
    { name: 'retry a succeeded deployment', verb: 'retry', target: id(1) },
    { name: 'retry while another deployment is in progress', verb: 'retry', target: id(3) },
  ];

  /** v1 Succeeded (prod), v2 in canary, v3 through QA and refused at prod by the `reject` concurrency policy. */
  const busyWorld = (): World => {
    const w = new World(groupConfig({ concurrency: 'reject' }));
    inCanary(w);
    w.approve(3);
    w.settle('qa');
    expect(w.dep(id(3))).toMatchObject({
      phase: 'Failed',
      reason: `refused by the concurrency policy: ${id(2)} in prod (Canary)`,
    });
    return w;
  };

  it.each(cases)('$name: rejection, Command Rejected, nothing else changes', ({ verb, target }) => {
    const w = busyWorld();
    const before = structuredClone(w.state);
    const decision = w.operator(verb, target);
    expect(decision.rejection).toBeTruthy();
    const events = commandsOf(decision.commands, 'Publish');
    expect(events.map((e) => e.event.type)).toEqual(['Command Rejected']);
    expect(events[0]!.event.detail).toMatchObject({ command: verb, reason: decision.rejection });
    expect(decision.commands.every((c) => c.type === 'Publish' || c.type === 'RecordHistory')).toBe(true);
    // only the refused command's history sequence number moves, and the refusal is remembered
    const strip = (s: GroupState) => ({
      ...s,
      outbox: [],
      updatedAt: 0,
      deployments: s.deployments.map((d) => ({ ...d, seq: 0 })),
      decidedCommands: undefined,
    });
    expect(strip(decision.state)).toEqual(strip(before));
    expect(decision.state.decidedCommands?.at(-1)).toMatchObject({
      outcome: 'rejected',
      reason: decision.rejection,
    });
  });

  const operatorInput = (verb: OperatorVerb, deploymentId: string, requestId: string): Input => ({
    type: 'Operator',
    command: { verb, deploymentId, actor: 'alice', reason: 'testing', requestId },
  });

  it('a command whose requestId was decided before changes nothing and publishes nothing', () => {
    const { w, d } = inCanary();
    const first = decide(w.state, operatorInput('promote', d, 'req-1'), {
      group: w.config,
      now: w.now,
      serviceRegion: SERVICE_REGION,
    });
    expect(first.state.decidedCommands).toEqual([
      expect.objectContaining({ requestId: 'req-1', outcome: 'applied' }),
    ]);
    const again = decide(first.state, operatorInput('promote', d, 'req-1'), {
      group: w.config,
      now: w.now,
      serviceRegion: SERVICE_REGION,
    });
    expect(again.commands).toEqual([]);
    expect(again.state).toEqual(first.state);
  });

  it('remembers decided commands for seven days, and the latest 50 at most', () => {
    const { w, d } = inCanary();
    let state = w.state;
    for (let i = 0; i < 60; i++) {
      state = decide(state, operatorInput('pause', d, `p-${i}`), {
        group: w.config,
        now: w.now + i,
        serviceRegion: SERVICE_REGION,
      }).state;
    }
    expect(state.decidedCommands).toHaveLength(50);
    expect(state.decidedCommands?.[0]?.requestId).toBe('p-10');
    const later = decide(state, operatorInput('pause', d, 'late'), {
      group: w.config,
      now: w.now + 7 * 24 * 60 * 60_000 + 100,
      serviceRegion: SERVICE_REGION,
    }).state;
    expect(later.decidedCommands?.map((c) => c.requestId)).toEqual(['late']);
  });
});

describe('decideAll and purity', () => {
  it('folds a tick’s observations into one decision', () => {
    const { w, d } = inCanary();
    const decision = withIntents(
      w.state,
      decideAll(
        w.state,
        [
          { type: 'EndpointObserved', stage: 'prod', endpoint: w.describe('prod') },
          { type: 'CanaryObserved', deploymentId: d, readings: readings.healthy() },
          { type: 'Tick' },
        ],
        { group: w.config, now: w.now + 5 * MIN, serviceRegion: SERVICE_REGION },
      ),
    );
    expect(decision.state.deployments.find((x) => x.id === d)?.canary?.stepIndex).toBe(1);
    expect(commandsOf(decision.commands, 'SetWeights')).toHaveLength(1);
  });

  it('does not modify the input state and never goes back in time', () => {
    const state = emptyGroupState(GROUP);
    const frozen = structuredClone(state);
    const decision = decide(
      state,
      { type: 'Approved', pkg: pkg(1, T0) },
      { group: groupConfig(), now: T0, serviceRegion: SERVICE_REGION },
    );
    expect(state).toEqual(frozen);
    expect(decision.state.updatedAt).toBe(T0);
    const earlier = decide(
      decision.state,
      { type: 'Approved', pkg: pkg(2, T0) },
      { group: groupConfig(), now: T0 - MIN, serviceRegion: SERVICE_REGION },
    );
    expect(earlier.state.deployments.find((d) => d.version === 2)?.createdAt).toBe(T0);
  });

  it('config names are content-addressed (the same variants and capacity give the same name)', () => {
    const w = new World();
    w.approve(1);
    const d = w.dep(id(1));
    expect(d.awaiting!.configName).toBe(
      endpointConfigName(QA_ENDPOINT, d.awaiting!.variants, JSON.stringify(['ml.m5.large', null, null])),
    );
  });

  it('a changed instance type is a new config name, never the stale config (finding 7)', () => {
    const w = new World();
    w.approve(1);
    const before = w.dep(id(1)).awaiting!.configName;
    const larger = groupConfig();
    larger.stages.qa.instanceType = 'ml.m5.xlarge';
    const other = new World(larger);
    other.approve(1);
    expect(other.dep(id(1)).awaiting!.configName).not.toBe(before);
  });
});
