import { describe, expect, it } from 'vitest';
import {
  commandsOf,
  failCanary,
  groupConfig,
  id,
  MIN,
  pkg,
  readings,
  ship,
  T0,
  toCanary,
  World,
} from './world';

/** v1 served prod, then v2; an operator rolled v2 back, so v1#2 is restoring v1 while QA still runs v2. */
const restoring = (): World => {
  const w = new World();
  ship(w, 1);
  const d = toCanary(w, 2);
  for (let i = 0; i < 5 && w.phase(d) === 'Canary'; i += 1) {
    w.later(5 * MIN).canary(d, readings.healthy());
    w.settle('prod');
  }
  w.settle('prod');
  expect(w.phase(d)).toBe('Succeeded');
  w.operator('rollback', d);
  expect(w.phase(id(1, 2))).toBe('ProdDeploying');
  expect(w.state.qa?.version).toBe(2);
  return w;
};

describe('pipeline callbacks and blocked versions', () => {
  it("a callback is judged on its own version's block, and a new attempt lifts that block only", () => {
    const w = new World();
    ship(w, 1);
    failCanary(w, 2);
    const d3 = failCanary(w, 3);
    expect(w.state.blocked.map((b) => b.version)).toEqual([2, 3]);
    // v3 is approved anew in the registry; later v2 is rejected once more, which moves v2's block on
    w.later(MIN);
    w.registry.set(3, { ...w.registry.get(3)!, approvalStatus: 'Approved', lastModifiedTime: w.now });
    w.later(MIN).reject(2);

    w.callback('t3', 3, 'prod');
    expect(w.answers.get('t3')).toBeUndefined();
    expect(w.dep(id(3, 2))).toMatchObject({ phase: 'QaDeploying', trigger: 'callback' });
    expect(w.phase(d3)).toBe('RolledBack');
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
    // v2 stays out: a callback carrying v2 as approved before its last rejection fails
    w.callback('t2', 2, 'prod');
    expect(w.answers.get('t2')).toEqual([expect.objectContaining({ outcome: 'failure' })]);
  });
});

describe('callbacks for the version prod is being restored to', () => {
  it('a prod callback waits for the restore and is answered with prod serving that version', () => {
    const w = restoring();
    w.callback('tp', 1, 'prod');
    expect(w.answers.get('tp')).toBeUndefined();
    expect(w.dep(id(1, 2)).callbacks.map((c) => c.token)).toEqual(['tp']);
    w.settleAll();
    expect(w.phase(id(1, 2))).toBe('Succeeded');
    expect(w.answers.get('tp')).toEqual([
      expect.objectContaining({
        outcome: 'success',
        outputs: expect.objectContaining({ ModelPackageArn: w.registry.get(1)!.arn }),
      }),
    ]);
  });

  it('a QA callback fails, saying what QA serves instead', () => {
    const w = restoring();
    w.callback('tq', 1, 'qa');
    expect(w.answers.get('tq')).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: `${id(1, 2)} is ProdDeploying and QA serves v2`,
      }),
    ]);
  });
});

describe('a QA callback for a version past QA', () => {
  it('promoted and waiting for prod to be free (ReadyForProd) is answered at once with the QA outputs', () => {
    const w = new World(groupConfig({ mode: 'manual' }));
    for (const version of [1, 2]) {
      w.approve(version);
      w.settle('qa');
      w.operator('promote', id(version));
      w.settle('prod');
    }
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Canary');
    // v3 supersedes v2, whose rollback holds prod while v3 passes QA and is promoted
    w.approve(3);
    w.settle('qa');
    w.operator('promote', id(3));
    expect(w.phase(id(2))).toBe('RollingBack');
    expect(w.phase(id(3))).toBe('ReadyForProd');
    expect(w.dep(id(3)).reason).toBe(`waiting for ${id(2)} (RollingBack) to release prod`);
    w.callback('tq', 3, 'qa');
    expect(w.answers.get('tq')).toEqual([
      expect.objectContaining({
        outcome: 'success',
        outputs: expect.objectContaining({ ModelPackageArn: w.registry.get(3)!.arn }),
      }),
    ]);
    expect(w.dep(id(3)).callbacks).toEqual([]);
  });
});

describe('a QA-only deployment started by a pipeline', () => {
  it('continues to prod when the registry approves the version while it runs', () => {
    const w = new World();
    w.callback('t1', 1, 'qa');
    expect(w.dep(id(1))).toMatchObject({ phase: 'QaDeploying', targetStage: 'qa' });
    w.approve(1);
    expect(w.state.deployments.map((d) => d.id)).toEqual([id(1)]);
    expect(w.dep(id(1)).targetStage).toBe('prod');
    w.settleAll();
    expect(w.phase(id(1))).toBe('Succeeded');
    expect(w.state.prod?.version).toBe(1);
  });
});

describe('an approval after a pipeline took the version to QA only', () => {
  it('the first approval carries the version on to prod', () => {
    const w = new World();
    w.callback('t1', 1, 'qa');
    w.settleAll();
    expect(w.dep(id(1))).toMatchObject({ phase: 'Succeeded', targetStage: 'qa' });
    expect(w.state.prod).toBeUndefined();
    w.approve(1);
    expect(w.dep(id(1, 2))).toMatchObject({ trigger: 'approval', targetStage: 'prod' });
    // QA already runs v1's config: its next observation moves the attempt on to prod
    w.observe('qa');
    w.settleAll();
    expect(w.state.prod?.version).toBe(1);
  });

  it('an approval redelivered after an approved attempt already ran starts nothing', () => {
    const w = new World(groupConfig({ smokeTest: true }));
    w.approve(1);
    w.settle('qa');
    w.send({ type: 'SmokeTested', deploymentId: id(1), ok: false, detail: 'HTTP 500' });
    expect(w.phase(id(1))).toBe('Failed');
    // a pipeline then takes v1 to QA only
    w.callback('t1', 1, 'qa');
    w.observe('qa');
    w.send({ type: 'SmokeTested', deploymentId: id(1, 2), ok: true, detail: 'HTTP 200' });
    expect(w.dep(id(1, 2))).toMatchObject({ phase: 'Succeeded', targetStage: 'qa' });
    const again = w.send({ type: 'Approved', pkg: w.registry.get(1)! });
    expect(commandsOf(again.commands, 'Publish')).toEqual([]);
    expect(w.state.deployments.map((d) => d.id)).toEqual([id(1), id(1, 2)]);
  });
});

describe('Stopping', () => {
  it('answers the pipeline that stopped, and stops only the work tied to its token', () => {
    const w = new World(groupConfig({ concurrency: 'queue' }));
    w.registry.set(1, pkg(1, T0));
    w.registry.set(2, pkg(2, T0));
    w.callback('t1', 1, 'prod');
    w.callback('t2', 2, 'prod');
    expect(w.phase(id(1))).toBe('QaDeploying');
    expect(w.phase(id(2))).toBe('Queued');
    const stopped = w.send({ type: 'CallbackStopping', token: 't2' });
    expect(commandsOf(stopped.commands, 'AnswerCallback')).toEqual([
      expect.objectContaining({ token: 't2', outcome: 'failure', reason: 'stopped by the pipeline' }),
    ]);
    expect(w.phase(id(2))).toBe('Aborted');
    expect(w.dep(id(2)).reason).toBe(
      'pipeline arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/t2 was stopped',
    );
    expect(w.phase(id(1))).toBe('QaDeploying');
    expect(w.dep(id(1)).callbacks.map((c) => c.token)).toEqual(['t1']);
  });

  it('of the second of two pipelines waiting on one deployment answers that one; the first still waits', () => {
    const w = new World();
    w.registry.set(1, pkg(1, T0));
    w.callback('t1', 1, 'prod');
    w.callback('t2', 1, 'prod');
    const stopped = w.send({ type: 'CallbackStopping', token: 't2' });
    expect(commandsOf(stopped.commands, 'AnswerCallback').map((a) => a.token)).toEqual(['t2']);
    expect(w.dep(id(1)).callbacks.map((c) => c.token)).toEqual(['t1']);
    w.settleAll();
    expect(w.answers.get('t1')).toEqual([expect.objectContaining({ outcome: 'success' })]);
    expect(w.answers.get('t2')).toHaveLength(1);
  });
});
