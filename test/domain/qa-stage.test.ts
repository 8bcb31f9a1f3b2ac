import { describe, expect, it } from 'vitest';
import { commandsOf, groupConfig, id, ship, toCanary, World } from './world';

const smokeTested = (ok: boolean) => {
  const w = new World(groupConfig({ smokeTest: true }));
  const requested = w.approve(1);
  const toQa = commandsOf(requested.commands, 'RecordHistory').map((c) => c.entry.reason);
  w.settle('qa');
  const decision = w.send({
    type: 'SmokeTested',
    deploymentId: id(1),
    ok,
    detail: ok ? 'HTTP 200' : 'HTTP 500',
  });
  return { w, toQa, decision };
};

describe('the QA stage in words', () => {
  it('the history says which version goes to QA', () => {
    expect(smokeTested(true).toQa).toContain('deploying v1 to QA');
  });

  it('a passed smoke test: the Stage Deployed event and the registry say so, with the detail', () => {
    const { decision } = smokeTested(true);
    const deployed = commandsOf(decision.commands, 'Publish').find((p) => p.event.type === 'Stage Deployed');
    expect(deployed?.event.detail).toMatchObject({ reason: 'smoke test passed: HTTP 200' });
    expect(commandsOf(decision.commands, 'UpdateRegistry')[0]?.lifecycle).toMatchObject({
      stage: 'QA',
      status: 'Deployed',
      description: 'smoke test passed: HTTP 200',
    });
  });

  it('a failed smoke test: the deployment and the registry say so, with the detail', () => {
    const { w, decision } = smokeTested(false);
    expect(w.dep(id(1))).toMatchObject({ phase: 'Failed', reason: 'QA smoke test failed: HTTP 500' });
    expect(commandsOf(decision.commands, 'UpdateRegistry')[0]?.lifecycle).toMatchObject({
      stage: 'QA',
      status: 'Failed',
      description: 'smoke test failed: HTTP 500',
    });
  });

  it('a smoke test result for an unknown deployment changes nothing', () => {
    const w = new World(groupConfig({ smokeTest: true }));
    const result = w.send({ type: 'SmokeTested', deploymentId: id(7), ok: true, detail: 'HTTP 200' });
    expect(result.commands).toEqual([]);
    expect(w.state.deployments).toEqual([]);
  });

  it('a superseded canary names the version that superseded it', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    w.approve(3);
    w.settleAll();
    expect(w.dep(d).reason).toMatch(/^rolling back to v1: superseded by v3/);
    expect(w.phase(d)).toBe('Superseded');
  });
});
