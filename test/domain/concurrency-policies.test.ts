import { describe, expect, it } from 'vitest';
import { modelName } from '../../src/domain/naming';
import {
  commandsOf,
  GROUP,
  groupConfig,
  id,
  MIN,
  packageArn,
  passAllSteps,
  readings,
  ship,
  toCanary,
  World,
} from './world';

describe('a deployment requested', () => {
  it('is announced with its trigger, target stage and package', () => {
    const w = new World();
    const started = w.approve(1);
    const event = commandsOf(started.commands, 'Publish').find((p) => p.event.type === 'Deployment Started');
    expect(event?.event.detail).toMatchObject({
      trigger: 'approval',
      targetStage: 'prod',
      packageArn: packageArn(1),
    });
  });

  it('an approval older than a version already started is Superseded, naming the newer one', () => {
    const w = new World();
    w.approve(3);
    w.approve(2);
    expect(w.dep(id(2))).toMatchObject({ phase: 'Superseded', reason: 'v3 is newer' });
  });

  it('an operator retry of an older version runs: only approvals are superseded by version order', () => {
    const w = new World(groupConfig({ smokeTest: true }));
    w.approve(2);
    w.settle('qa');
    w.send({ type: 'SmokeTested', deploymentId: id(2), ok: false, detail: 'HTTP 500' });
    expect(w.phase(id(2))).toBe('Failed');
    w.approve(3);
    w.operator('abort', id(3));
    expect(w.state.highestVersion).toBe(3);
    expect(w.operator('retry', id(2)).rejection).toBeUndefined();
    expect(w.phase(id(2, 2))).toBe('QaDeploying');
  });
});

describe('concurrency policies', () => {
  it('reject: the refusal names the deployment in progress', () => {
    const w = new World(groupConfig({ concurrency: 'reject' }));
    w.approve(1);
    w.approve(2);
    expect(w.dep(id(2))).toMatchObject({
      phase: 'Failed',
      reason: `refused by the concurrency policy: ${id(1)} in progress`,
    });
  });

  it('reject: a rollback still landing on prod is not work in progress', () => {
    const w = new World(groupConfig({ concurrency: 'reject' }));
    ship(w, 1);
    const d = toCanary(w, 2);
    w.canary(d, readings.failing());
    expect(w.phase(d)).toBe('RollingBack');
    w.approve(3);
    expect(w.phase(id(3))).toBe('QaDeploying');
  });

  it('queue: a queued deployment says what it waits for', () => {
    const w = new World(groupConfig({ concurrency: 'queue' }));
    w.approve(1);
    w.approve(2);
    expect(w.dep(id(2))).toMatchObject({ phase: 'Queued', reason: `queued behind ${id(1)}` });
  });

  it('supersede: a promotion under way is left to finish; the newer version starts beside it', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    w.operator('promote', d, true, true);
    expect(w.phase(d)).toBe('Promoting');
    w.approve(3);
    expect(w.phase(d)).toBe('Promoting');
    expect(w.phase(id(3))).toBe('QaDeploying');
    w.settle('prod');
    expect(w.phase(d)).toBe('Succeeded');
    expect(w.state.prod?.version).toBe(2);
  });

  it('queue, per stage: QA of the next version overlaps the canary; it enters prod when the canary ends, and QA frees for the one after', () => {
    const w = new World(groupConfig({ concurrency: 'queue' }));
    ship(w, 1);
    const d = toCanary(w, 2);
    w.approve(3);
    w.settle('qa');
    expect(w.phase(id(3))).toBe('ReadyForProd');
    w.approve(4);
    expect(w.dep(id(4))).toMatchObject({ phase: 'Queued', reason: `queued behind ${id(3)}` });
    // v2's canary passes both steps and is promoted; v3 then enters prod and v4 QA
    passAllSteps(w, d);
    expect(w.phase(d)).toBe('Succeeded');
    w.tick(MIN);
    expect(w.phase(id(3))).toBe('ProdDeploying');
    expect(w.phase(id(4))).toBe('QaDeploying');
    expect(w.state.prod?.version).toBe(2);
  });

  it('reject, per stage: a version may use QA beside a canary, and is refused at prod while the canary holds it', () => {
    const w = new World(groupConfig({ concurrency: 'reject' }));
    ship(w, 1);
    const d = toCanary(w, 2);
    w.approve(3);
    expect(w.phase(id(3))).toBe('QaDeploying');
    w.approve(4);
    expect(w.dep(id(4))).toMatchObject({
      phase: 'Failed',
      reason: `refused by the concurrency policy: ${id(3)} in progress`,
    });
    w.settle('qa');
    expect(w.dep(id(3))).toMatchObject({
      phase: 'Failed',
      reason: `refused by the concurrency policy: ${d} in prod (Canary)`,
    });
    expect(w.phase(d)).toBe('Canary');
    // QA moves on to v5: v3's model goes with its QA config, v2's stays (prod runs it)
    w.approve(5);
    const passed = w.settle('qa');
    expect(commandsOf(passed.commands, 'RetireResources')).toEqual([
      expect.objectContaining({ stage: 'qa', modelNames: [modelName(GROUP, 3)] }),
    ]);
  });

  it('reject, per stage: a rollback landing in prod is waited for, not a reason to refuse', () => {
    const w = new World(groupConfig({ concurrency: 'reject' }));
    ship(w, 1);
    const d = toCanary(w, 2);
    w.canary(d, readings.failing());
    expect(w.phase(d)).toBe('RollingBack');
    w.approve(3);
    w.settle('qa');
    expect(w.dep(id(3))).toMatchObject({
      phase: 'ReadyForProd',
      reason: `waiting for ${d} (RollingBack) to release prod`,
    });
  });

  it('supersede, per stage: a version stopped in prod with nothing to return to ends at once, and the newer one enters', () => {
    const w = new World();
    w.approve(1);
    w.settle('qa');
    expect(w.phase(id(1))).toBe('ProdDeploying');
    w.approve(2);
    expect(w.phase(id(1))).toBe('ProdDeploying');
    w.settle('qa');
    expect(w.dep(id(1))).toMatchObject({
      phase: 'Superseded',
      reason: 'superseded by v2; prod has no earlier version to return to',
    });
    expect(w.phase(id(2))).toBe('ProdDeploying');
  });

  it('supersede: a version still holding QA is superseded at once, naming the newer one', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    w.approve(1);
    w.settle('qa');
    expect(w.phase(id(1))).toBe('AwaitingApproval');
    w.approve(2);
    expect(w.dep(id(1))).toMatchObject({ phase: 'Superseded', reason: 'superseded by v2' });
  });
});
