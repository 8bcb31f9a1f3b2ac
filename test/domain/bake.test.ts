import { describe, expect, it } from 'vitest';
import { commandsOf, eventsOf, groupConfig, id, MIN, World } from './world';

/** promotion.bakeMinutes: a version that passed QA enters prod no sooner than the bake's end. */

const prodChanges = (w: World, version: number) =>
  w.commands.filter(
    (c) => c.type === 'DeployEndpoint' && c.stage === 'prod' && c.variants.some((v) => v.version === version),
  );

describe('bake between QA and prod', () => {
  it('auto: QA verified → ReadyForProd for the bake; the first tick at its end deploys prod', () => {
    const w = new World(groupConfig({ bakeMinutes: 60 }));
    w.approve(1);
    w.settle('qa');
    const passedAt = w.now;
    expect(w.phase(id(1))).toBe('ReadyForProd');
    expect(w.dep(id(1)).bakeUntil).toBe(passedAt + 60 * MIN);
    expect(w.dep(id(1)).reason).toBe(
      `baking in QA: enters prod no sooner than ${new Date(passedAt + 60 * MIN).toISOString()} (promotion.bakeMinutes)`,
    );
    for (let minute = 1; minute < 60; minute += 1) w.tick(MIN);
    expect(w.phase(id(1))).toBe('ReadyForProd');
    expect(prodChanges(w, 1)).toEqual([]);

    w.tick(MIN);
    expect(w.phase(id(1))).toBe('ProdDeploying');
    expect(prodChanges(w, 1)).toHaveLength(1);
  });

  it('without bakeMinutes prod starts as QA passes (no bake)', () => {
    const w = new World(groupConfig());
    w.approve(1);
    w.settle('qa');
    expect(w.dep(id(1)).bakeUntil).toBeUndefined();
    expect(w.phase(id(1))).toBe('ProdDeploying');
  });

  it('manual: a promote within the bake is kept, and prod waits for the bake to end', () => {
    const w = new World(groupConfig({ mode: 'manual', approvalTimeoutMinutes: 600, bakeMinutes: 30 }));
    w.approve(1);
    const verified = w.settle('qa');
    expect(w.phase(id(1))).toBe('AwaitingApproval');
    expect(w.dep(id(1)).reason).toMatch(/waiting for promote; baking in QA: enters prod no sooner than/);
    const waiting = commandsOf(verified.commands, 'Publish').find(
      (c) => c.event.type === 'Awaiting Approval',
    );
    expect(waiting?.event.detail.bakeUntil).toBe(new Date(w.now + 30 * MIN).toISOString());

    w.tick(10 * MIN);
    expect(w.operator('promote', id(1)).rejection).toBeUndefined();
    expect(w.phase(id(1))).toBe('ReadyForProd');
    expect(w.dep(id(1)).reason).toMatch(/^baking in QA/);
    w.tick(19 * MIN);
    expect(w.phase(id(1))).toBe('ReadyForProd');
    w.tick(MIN);
    expect(w.phase(id(1))).toBe('ProdDeploying');
  });

  it('manual: promote --full grants the approval and ends the bake in one command', () => {
    const w = new World(groupConfig({ mode: 'manual', approvalTimeoutMinutes: 600, bakeMinutes: 30 }));
    w.approve(1);
    w.settle('qa');
    const until = new Date(w.now + 30 * MIN).toISOString();
    w.tick(5 * MIN);
    const full = w.operator('promote', id(1), true, true);
    expect(full.rejection).toBeUndefined();
    expect(commandsOf(full.commands, 'RecordHistory')[0]?.entry).toMatchObject({
      from: 'AwaitingApproval',
      to: 'ReadyForProd',
      reason: `promote by alice: testing; bake ended before ${until}`,
    });
    expect(w.phase(id(1))).toBe('ProdDeploying');
  });

  it('a plain promote during the bake is refused with the bake end; promote --full ends the bake', () => {
    const w = new World(groupConfig({ bakeMinutes: 120 }));
    w.approve(1);
    w.settle('qa');
    const until = new Date(w.now + 120 * MIN).toISOString();
    const plain = w.operator('promote', id(1));
    expect(plain.rejection).toBe(`${id(1)} bakes in QA until ${until}; promote --full ends the bake now`);
    expect(w.phase(id(1))).toBe('ReadyForProd');

    const full = w.operator('promote', id(1), true, true);
    expect(full.rejection).toBeUndefined();
    const history = commandsOf(full.commands, 'RecordHistory').map((c) => c.entry);
    expect(history[0]).toMatchObject({
      from: 'ReadyForProd',
      to: 'ReadyForProd',
      reason: `bake ended before ${until} (promote by alice: testing)`,
      actor: 'alice',
    });
    expect(w.phase(id(1))).toBe('ProdDeploying');
  });

  it('abort during the bake ends the deployment and prod never sees the version', () => {
    const w = new World(groupConfig({ bakeMinutes: 60 }));
    w.approve(1);
    w.settle('qa');
    const aborted = w.operator('abort', id(1));
    expect(aborted.rejection).toBeUndefined();
    expect(w.phase(id(1))).toBe('Aborted');
    // an ended deployment is no longer baking
    expect(w.operator('promote', id(1)).rejection).toBe(
      `${id(1)} is Aborted; promote applies while awaiting approval, baking or in canary`,
    );
    w.tick(90 * MIN);
    expect(prodChanges(w, 1)).toEqual([]);
    expect(eventsOf(aborted.commands)).toContain('Deployment Aborted');
  });

  it('a newer version supersedes one baking (supersede), and bakes in turn', () => {
    const w = new World(groupConfig({ bakeMinutes: 60 }));
    w.approve(1);
    w.settle('qa');
    w.tick(30 * MIN);
    w.approve(2);
    expect(w.phase(id(1))).toBe('Superseded');
    w.settle('qa');
    expect(w.phase(id(2))).toBe('ReadyForProd');
    w.tick(59 * MIN);
    expect(w.phase(id(2))).toBe('ReadyForProd');
    w.tick(MIN);
    expect(w.phase(id(2))).toBe('ProdDeploying');
    expect(prodChanges(w, 1)).toEqual([]);
  });

  it('once the bake is over, a version still waiting for prod is no longer baking: promote is refused as for any wait', () => {
    const w = new World(groupConfig({ bakeMinutes: 10, concurrency: 'queue' }));
    const throughBake = (version: number) => {
      w.approve(version);
      w.settle('qa');
      w.tick(10 * MIN);
      w.settle('prod');
    };
    throughBake(1);
    expect(w.phase(id(1))).toBe('Succeeded');
    throughBake(2);
    w.settle('prod');
    const canary = id(2);
    expect(w.phase(canary)).toBe('Canary');
    w.approve(3);
    w.settle('qa');
    w.later(10 * MIN);
    expect(w.operator('promote', id(3)).rejection).toBe(
      `${id(3)} is ReadyForProd; promote applies while awaiting approval, baking or in canary`,
    );
    w.tick();
    expect(w.dep(id(3)).reason).toBe(`waiting for ${canary} (Canary) to release prod`);
  });
});
