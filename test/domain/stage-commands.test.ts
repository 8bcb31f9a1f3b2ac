import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { commandFingerprint } from '../../src/domain/decided-commands';
import type { OperatorCommand, OperatorVerb } from '../../src/domain/model';
import {
  commandsOf,
  groupConfig,
  id,
  packageArn,
  passAllSteps,
  readings,
  ship,
  type TestDecision,
  toCanary,
  World,
} from './world';

/** `promote --in <stage>` and `rollback --in <stage>`: a command naming the stage it is about. */

let seq = 0;
const send = (
  w: World,
  verb: OperatorVerb,
  deploymentId: string,
  stage: string | undefined,
  extra: Partial<OperatorCommand> = {},
): TestDecision => {
  seq += 1;
  return w.send({
    type: 'Operator',
    command: { verb, deploymentId, actor: 'alice', reason: 'testing', requestId: `s${seq}`, stage, ...extra },
    pkg: w.registry.get(Number(/:v(\d+)/.exec(deploymentId)?.[1])),
  });
};

/** v1 serves prod; v2's canary was rolled back by its gates and QA kept v2 (rollback.earlierStages: keep). */
const v2RolledBack = (): World => {
  const w = new World();
  ship(w, 1);
  const d = toCanary(w, 2);
  w.canary(d, readings.failing());
  w.settleAll();
  expect(w.phase(d)).toBe('RolledBack');
  expect(w.qaVersions()).toEqual([2]);
  return w;
};

describe('a stage the command may not name', () => {
  it('a stage the group does not have is refused, naming its stages (and the one most likely meant)', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    w.approve(1);
    w.settle('qa');
    const unknown = send(w, 'promote', id(1), 'staging');
    expect(unknown.rejection).toBe('group churn has no stage staging; its stages are qa, prod');
    const misspelt = send(w, 'rollback', id(1), 'prd');
    expect(misspelt.rejection).toBe(
      'group churn has no stage prd (did you mean prod?); its stages are qa, prod',
    );
    expect(w.phase(id(1))).toBe('AwaitingApproval');
    // refused like any command: published and in the deployment's history
    const rejected = commandsOf(unknown.commands, 'Publish').find((p) => p.event.type === 'Command Rejected');
    expect(rejected?.event.detail).toMatchObject({ command: 'promote', stage: 'staging' });
    expect(w.history(id(1)).at(-2)?.reason).toBe(
      'promote refused: group churn has no stage staging; its stages are qa, prod',
    );
  });

  it('promote --in qa is refused: a version enters QA on approval, promote moves it into prod', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    w.approve(1);
    w.settle('qa');
    const refused = send(w, 'promote', id(1), 'qa');
    expect(refused.rejection).toBe(
      'a version enters qa once it is approved in the registry; promote moves it into prod',
    );
    expect(w.phase(id(1))).toBe('AwaitingApproval');
  });

  it('an unauthorized principal is refused as such before its stage is looked at', () => {
    const w = v2RolledBack();
    const denied = send(w, 'rollback', id(2), 'qa', { denied: 'alice is not authorized to rollback' });
    expect(denied.rejection).toBe('alice is not authorized to rollback');
    expect(w.restores()).toEqual([]);
  });
});

describe('promote --in prod and rollback --in prod are the commands without --in', () => {
  it('promote --in prod grants a manual approval', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    w.approve(1);
    w.settle('qa');
    const promoted = send(w, 'promote', id(1), 'prod');
    expect(promoted.rejection).toBeUndefined();
    expect(w.phase(id(1))).toBe('ProdDeploying');
    expect(w.history(id(1)).find((e) => e.to === 'ReadyForProd')?.reason).toBe(
      'promote --in prod by alice: testing',
    );
  });

  it('rollback --in prod rolls a canary back, and the version serving prod back to the last good one', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    expect(send(w, 'rollback', d, 'prod').rejection).toBeUndefined();
    w.settleAll();
    expect(w.phase(d)).toBe('RolledBack');
    expect(w.state.prod?.version).toBe(1);

    passAllSteps(w, toCanary(w, 3));
    expect(w.state.prod?.version).toBe(3);
    expect(send(w, 'rollback', id(3), 'prod').rejection).toBeUndefined();
    w.settleAll();
    expect(w.state.prod?.version).toBe(1);
  });
});

describe('rollback --in qa', () => {
  it('takes QA back from the version to the one prod serves, recorded with who asked', () => {
    const w = v2RolledBack();
    const registryBefore = w.registryUpdates.length;
    const applied = send(w, 'rollback', id(2), 'qa');
    expect(applied.rejection).toBeUndefined();
    const [restore] = w.restores();
    expect(restore).toMatchObject({
      version: 1,
      targetStage: 'qa',
      trigger: 'restore',
      phase: 'QaDeploying',
    });
    expect(w.history(id(2)).at(-1)).toMatchObject({
      from: 'RolledBack',
      to: 'RolledBack',
      actor: 'alice',
      reason: 'QA goes back from v2 to v1 (rollback --in qa by alice: testing)',
    });
    expect(w.history(restore!.id)[0]).toMatchObject({
      actor: 'alice',
      reason: 'requested by restore: rollback --in qa by alice: testing: QA back to v1',
    });
    w.settleAll();
    expect(w.dep(restore!.id).phase).toBe('Succeeded');
    expect(w.qaVersions()).toEqual([1]);
    expect(w.state.qa?.version).toBe(1);
    // QA only: v2 was rejected by its rollback already, v1 stays Production
    expect(w.registryUpdates.slice(registryBefore)).toEqual([]);
    // the second time, QA already serves the version prod serves
    expect(send(w, 'rollback', id(2), 'qa').rejection).toBe('QA serves v1, not v2');
    expect(send(w, 'rollback', restore!.id, 'qa').rejection).toBe(
      'QA already serves v1, the version prod serves',
    );
  });

  it('is refused while the deployment is in flight, saying what stops it', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    expect(send(w, 'rollback', d, 'qa').rejection).toBe(
      `${d} is Canary: rollback --in qa takes QA back from a version no longer in flight; abort (or rollback in prod) stops it first`,
    );
    expect(w.phase(d)).toBe('Canary');
  });

  it('is refused when prod serves no version to go back to', () => {
    const w = new World();
    w.approve(1);
    w.settle('qa');
    send(w, 'abort', id(1), undefined);
    expect(w.phase(id(1))).toBe('Aborted');
    expect(w.qaVersions()).toEqual([1]);
    expect(send(w, 'rollback', id(1), 'qa').rejection).toBe('prod serves no version for QA to go back to');
  });

  it('is refused when a newer version is on its way into QA', () => {
    const w = v2RolledBack();
    w.approve(3);
    expect(w.phase(id(3))).toBe('QaDeploying');
    expect(send(w, 'rollback', id(2), 'qa').rejection).toBe(
      `${id(3)} is on its way into QA (QaDeploying): it replaces v2 there`,
    );
    expect(w.restores()).toEqual([]);
  });
});

describe('the fingerprint of a command', () => {
  const command: OperatorCommand = {
    verb: 'rollback',
    deploymentId: id(2),
    actor: 'alice',
    reason: 'testing',
    requestId: 'r1',
  };

  it('is what it was for a command naming no stage, and differs with the stage named', () => {
    const before = createHash('sha256')
      .update(JSON.stringify(['rollback', id(2), 'testing', false, 'alice']))
      .digest('hex')
      .slice(0, 32);
    expect(commandFingerprint(command)).toBe(before);
    const inQa = commandFingerprint({ ...command, stage: 'qa' });
    expect(inQa).not.toBe(before);
    expect(commandFingerprint({ ...command, stage: 'prod' })).not.toBe(inQa);
  });

  it('a resend of a requestId with another stage changes nothing', () => {
    const w = v2RolledBack();
    const first = send(w, 'rollback', id(2), 'prod', { requestId: 'same' });
    expect(first.rejection).toBe(`${id(2)} is RolledBack and does not serve prod`);
    send(w, 'rollback', id(2), 'qa', { requestId: 'same' });
    expect(w.restores()).toEqual([]);
    expect(w.dep(id(2)).packageArn).toBe(packageArn(2));
  });
});
