import { describe, expect, it } from 'vitest';
import { ENDPOINT_WAIT_LIMIT_MS } from '../../src/domain/decide';
import { commandsOf, groupConfig, id, ship, World } from './world';

describe('a rollback lands on prod', () => {
  it('abort during a blue/green update: prod back on the baseline, the abandoned config retired, Aborted', () => {
    const w = new World(groupConfig({ strategy: 'native' }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('NativeShifting');
    const abandoned = w.dep(id(2)).awaiting!.configName;
    w.operator('abort', id(2));
    expect(w.phase(id(2))).toBe('RollingBack');
    const before = w.commands.length;
    w.settleAll();
    expect(w.phase(id(2))).toBe('Aborted');
    expect(w.dep(id(2)).reason).toBe('rolling back to v1: abort by alice: testing; prod back on v1');
    expect(w.state.prod?.version).toBe(1);
    expect(commandsOf(w.commands.slice(before), 'RetireResources')).toEqual([
      expect.objectContaining({ stage: 'prod', configNames: [abandoned] }),
    ]);
    expect(w.state.blocked).toEqual([]);
  });
});

describe('how long a deployment waits for its endpoint', () => {
  it('a blue/green update whose group changed to the canary strategy meanwhile waits the ordinary limit, then fails', () => {
    const w = new World(groupConfig({ strategy: 'native' }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('NativeShifting');
    w.config = groupConfig();
    w.later(ENDPOINT_WAIT_LIMIT_MS).observe('prod');
    expect(w.phase(id(2))).toBe('NativeShifting');
    w.later(1).observe('prod');
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toMatch(/^prod deployment failed: endpoint churn-prod not InService on /);
  });
});
