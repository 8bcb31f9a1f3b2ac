import { describe, expect, it } from 'vitest';
import {
  commandsOf,
  groupConfig,
  id,
  packageArn,
  passAllSteps,
  readings,
  ship,
  toCanary,
  World,
} from './world';

/** A rejection in the registry takes QA back to the version prod serves when QA runs the rejected one. */

describe('QA after a rejection in the registry', () => {
  it('a version awaiting approval is rejected: QA goes back to the version prod serves', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    ship(w, 1);
    w.operator('promote', id(1));
    w.settle('prod');
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('AwaitingApproval');
    expect(w.qaVersions()).toEqual([2]);

    const rejected = w.reject(2);
    expect(w.phase(id(2))).toBe('Aborted');
    expect(w.dep(id(1, 2))).toMatchObject({ trigger: 'restore', targetStage: 'qa', phase: 'QaDeploying' });
    expect(rejected.notes).toContain(
      `QA goes back from v2 to v1, the version prod serves (v2 rejected in the model registry): ${id(1, 2)}`,
    );
    const live = w.settle('qa');
    expect(w.dep(id(1, 2))).toMatchObject({ phase: 'Succeeded' });
    expect(w.qaVersions()).toEqual([1]);
    expect(w.state.qa?.version).toBe(1);
    // v1's registry stage stays Production: QA only went back to it
    expect(commandsOf(live.commands, 'UpdateRegistry')).toEqual([]);
    // the same event again (EventBridge delivers at least once) changes nothing
    w.reject(2);
    expect(w.state.deployments.filter((x) => x.trigger === 'restore')).toHaveLength(1);
  });

  it('a version being smoke tested in QA is rejected: QA goes back too', () => {
    const w = new World(groupConfig({ smokeTest: true }));
    w.approve(1);
    w.settle('qa');
    w.send({ type: 'SmokeTested', deploymentId: id(1), ok: true, detail: 'ok' });
    w.settle('prod');
    expect(w.phase(id(1))).toBe('Succeeded');
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('QaVerifying');
    w.reject(2);
    expect(w.dep(id(1, 2))).toMatchObject({ trigger: 'restore', phase: 'QaDeploying' });
  });

  it('a version serving prod and QA is rejected: prod and QA each go back to the last good one', () => {
    const w = new World();
    ship(w, 1);
    ship(w, 2);
    const d = w.state.deployments.find((x) => x.version === 2)!;
    expect(d.phase).toBe('Canary');
    passAllSteps(w, d.id);
    expect(w.state.prod?.version).toBe(2);
    w.reject(2);
    const restores = w.state.deployments.filter((x) => x.version === 1 && x.attempt > 1);
    expect(restores.map((x) => [x.targetStage, x.trigger])).toEqual([
      ['prod', 'operator'],
      ['qa', 'restore'],
    ]);
    w.settleAll();
    expect(w.qaVersions()).toEqual([1]);
    expect(w.state.prod?.version).toBe(1);
  });

  it("the service's own reject after a gate rollback leaves QA on the version, for whoever looks into it", () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    w.canary(d, readings.failing());
    w.settleAll();
    expect(w.phase(d)).toBe('RolledBack');
    // the reject the service asked for comes back from the registry
    w.reject(2);
    expect(w.state.deployments.filter((x) => x.trigger === 'restore')).toEqual([]);
    expect(w.qaVersions()).toEqual([2]);
  });

  it('with no version in prod to return to, QA keeps the rejected one and says so', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    w.approve(1);
    w.settle('qa');
    const rejected = w.reject(1);
    expect(rejected.notes).toContain(
      'QA keeps v1 (v1 rejected in the model registry): prod serves no other version to return to',
    );
    expect(w.state.deployments.filter((x) => x.trigger === 'restore')).toEqual([]);
    expect(packageArn(1)).toBe(w.dep(id(1)).packageArn);
  });
});
