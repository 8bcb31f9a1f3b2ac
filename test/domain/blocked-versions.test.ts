import { describe, expect, it } from 'vitest';
import { failCanary, pkg, readings, ship, toCanary, World } from './world';

/** v1 serves prod; v2's canary failed its gates: v2 rolled back, blocked and Rejected. */
const v2RolledBack = (): World => {
  const w = new World();
  ship(w, 1);
  failCanary(w, 2);
  return w;
};

describe('a blocked version stays out until the registry approves it anew', () => {
  it('set back to PendingManualApproval after the rollback, a pipeline cannot take it to QA', () => {
    const w = v2RolledBack();
    const at = w.state.blocked[0]!.at;
    w.registry.set(2, pkg(2, at + 1, 'PendingManualApproval'));
    w.callback('t1', 2, 'qa');
    expect(w.answers.get('t1')).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: expect.stringMatching(/approve it anew/) }),
    ]);
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
  });

  it('an approval in the same millisecond as the block is no approval anew', () => {
    const w = v2RolledBack();
    const at = w.state.blocked[0]!.at;
    w.registry.set(2, pkg(2, at, 'Approved'));
    w.callback('t1', 2, 'prod');
    expect(w.answers.get('t1')).toEqual([expect.objectContaining({ outcome: 'failure' })]);
    w.registry.set(2, pkg(2, at + 1, 'Approved'));
    w.callback('t2', 2, 'prod');
    expect(w.answers.get('t2')).toBeUndefined();
    expect(w.state.blocked).toEqual([]);
  });

  it("an approval anew lifts that version's block only", () => {
    const w = v2RolledBack();
    const d3 = toCanary(w, 3);
    w.canary(d3, readings.failing());
    w.settleAll();
    expect(w.state.blocked.map((b) => b.version)).toEqual([2, 3]);
    w.later(60_000).approve(3);
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
  });
});
