import { describe, expect, it } from 'vitest';
import type { OperatorCommand } from '../../src/domain/model';
import {
  commandsOf,
  eventsOf,
  failCanary,
  id,
  MIN,
  passAllSteps,
  readings,
  ship,
  type TestDecision,
  toCanary,
  World,
} from './world';

/** v1 serves prod; v2 is in canary step 1. */
const inCanary = (): { w: World; d: string } => {
  const w = new World();
  ship(w, 1);
  return { w, d: toCanary(w, 2) };
};

/** Passes every canary step of `d`, lets the promotion land, and checks that it did. */
const promoteAllSteps = (w: World, d: string): void => {
  passAllSteps(w, d);
  expect(w.phase(d)).toBe('Succeeded');
};

const historyOf = (decision: TestDecision) =>
  commandsOf(decision.commands, 'RecordHistory').map((c) => c.entry);

const command = (
  verb: OperatorCommand['verb'],
  deploymentId: string,
  extra: Partial<OperatorCommand> = {},
) => ({
  type: 'Operator' as const,
  command: { verb, deploymentId, actor: 'bob', reason: 'checking', requestId: `req-${verb}`, ...extra },
});

describe('who may command, and the record of each command', () => {
  it('a command the authorization denied is refused with its reason, recorded as unauthorized, and changes nothing', () => {
    const { w, d } = inCanary();
    const before = structuredClone(w.dep(d));
    const denied = w.send(command('promote', d, { denied: 'bob may not promote churn' }));
    expect(denied.rejection).toBe('bob may not promote churn');
    expect(eventsOf(denied.commands)).toEqual(['Command Rejected']);
    expect(commandsOf(denied.commands, 'SetWeights')).toEqual([]);
    expect({ ...w.dep(d), seq: 0 }).toEqual({ ...before, seq: 0 });
    expect(w.state.decidedCommands?.at(-1)).toMatchObject({
      requestId: 'req-promote',
      outcome: 'unauthorized',
      reason: 'bob may not promote churn',
    });
  });

  it("a refused command is in the deployment's history: who asked, the request, and why", () => {
    const { w, d } = inCanary();
    const refused = w.send(command('resume', d));
    expect(historyOf(refused)).toEqual([
      expect.objectContaining({
        deploymentId: d,
        from: 'Canary',
        to: 'Canary',
        actor: 'bob',
        requestId: 'req-resume',
        reason: `resume refused: ${d} is not paused`,
      }),
    ]);
  });

  it('each applied command is in the history with who asked and why; pause and resume say so on the bus', () => {
    const { w, d } = inCanary();
    const promoted = w.send(command('promote', d));
    expect(historyOf(promoted)[0]).toMatchObject({
      from: 'Canary',
      to: 'Canary',
      actor: 'bob',
      requestId: 'req-promote',
      reason: 'promoted to the next step (promote by bob: checking)',
    });
    const paused = w.send(command('pause', d));
    expect(historyOf(paused)).toEqual([
      expect.objectContaining({
        from: 'Canary',
        to: 'Canary',
        actor: 'bob',
        requestId: 'req-pause',
        reason: 'paused (pause by bob: checking)',
      }),
    ]);
    const pausedEvent = commandsOf(paused.commands, 'Publish').find(
      (p) => p.event.type === 'Deployment Paused',
    );
    expect(pausedEvent?.event.detail).toMatchObject({ reason: 'checking', actor: 'bob' });
    const resumed = w.send(command('resume', d));
    expect(historyOf(resumed)).toEqual([
      expect.objectContaining({
        from: 'Canary',
        to: 'Canary',
        actor: 'bob',
        requestId: 'req-resume',
        reason: 'resumed (resume by bob: checking)',
      }),
    ]);
    const resumedEvent = commandsOf(resumed.commands, 'Publish').find(
      (p) => p.event.type === 'Deployment Resumed',
    );
    expect(resumedEvent?.event.detail).toMatchObject({ reason: 'checking', actor: 'bob' });
  });
});

describe('pause and resume', () => {
  it('apply to a running canary only: a paused canary that rolled back can be neither resumed nor paused', () => {
    const { w, d } = inCanary();
    w.operator('pause', d);
    w.canary(d, readings.failing());
    expect(w.phase(d)).toBe('RollingBack');
    expect(w.dep(d).canary?.paused).toBe(true);
    expect(w.operator('resume', d).rejection).toBe(`${d} is not paused`);
    w.settleAll();
    expect(w.phase(d)).toBe('RolledBack');
    const resumed = w.operator('resume', d);
    expect(resumed.rejection).toBe(`${d} is not paused`);
    expect(eventsOf(resumed.commands)).toEqual(['Command Rejected']);
  });

  it('a canary that ended is not paused', () => {
    const { w, d } = inCanary();
    promoteAllSteps(w, d);
    const paused = w.operator('pause', d);
    expect(paused.rejection).toBe(`${d} is Succeeded; only a canary can be paused`);
    expect(eventsOf(paused.commands)).toEqual(['Command Rejected']);
    expect(w.dep(d).canary?.paused).toBeFalsy();
  });
});

describe('abort and rollback while a rollback runs', () => {
  it('are refused, and the rollback ends as it began: RolledBack and blocked', () => {
    const { w, d } = inCanary();
    w.canary(d, readings.failing());
    expect(w.phase(d)).toBe('RollingBack');
    const aborted = w.operator('abort', d);
    expect(aborted.rejection).toBe(`${d} already ended RollingBack`);
    expect(eventsOf(aborted.commands)).toEqual(['Command Rejected']);
    const rolledBack = w.operator('rollback', d);
    expect(rolledBack.rejection).toBe(`${d} is already rolling back`);
    expect(eventsOf(rolledBack.commands)).toEqual(['Command Rejected']);
    w.settleAll();
    expect(w.phase(d)).toBe('RolledBack');
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
  });
});

describe('rollback of a finished deployment', () => {
  it('applies to the Succeeded attempt serving prod only, and is no refusal when it happens', () => {
    const { w, d } = inCanary();
    promoteAllSteps(w, d);
    // v1 succeeded earlier but no longer serves prod
    const older = w.operator('rollback', id(1));
    expect(older.rejection).toBe(`${id(1)} is Succeeded and does not serve prod`);
    expect(commandsOf(older.commands, 'UpdateRegistry')).toEqual([]);
    expect(w.state.prod?.version).toBe(2);
    expect(w.state.blocked).toEqual([]);

    const applied = w.operator('rollback', d);
    expect(applied.rejection).toBeUndefined();
    expect(eventsOf(applied.commands)).not.toContain('Command Rejected');
    expect(w.state.decidedCommands?.at(-1)?.outcome).toBe('applied');
    w.settleAll();
    expect(w.state.prod?.version).toBe(1);
  });

  it('an attempt that ended without succeeding is not rolled back, even if its version serves prod', () => {
    const { w, d } = inCanary();
    promoteAllSteps(w, d);
    w.operator('rollback', d);
    expect(w.phase(id(1, 2))).toBe('ProdDeploying');
    // the restore of v1 is aborted: prod serves v1 (the rollback moved it there), through id(1)
    w.operator('abort', id(1, 2));
    w.settleAll();
    expect(w.phase(id(1, 2))).toBe('Aborted');
    expect(w.state.prod?.version).toBe(1);
    const refused = w.operator('rollback', id(1, 2));
    expect(refused.rejection).toBe(`${id(1, 2)} is Aborted and does not serve prod`);
    expect(commandsOf(refused.commands, 'UpdateRegistry')).toEqual([]);
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
  });
});

describe('retry', () => {
  it('a succeeded deployment is not retried, even with nothing else in progress', () => {
    const w = new World();
    ship(w, 1);
    const retried = w.operator('retry', id(1));
    expect(retried.rejection).toBe(
      `${id(1)} is Succeeded; only a failed, aborted or rolled back deployment can be retried`,
    );
    expect(w.state.deployments.map((x) => x.id)).toEqual([id(1)]);
  });

  it('names the deployments in progress that hold it back', () => {
    const { w } = inCanary();
    w.approve(3);
    w.operator('abort', id(3));
    expect(w.operator('retry', id(3)).rejection).toBe(`${id(2)} in progress`);
  });

  it('is recorded as started by the operator, with who asked, and names the rollback a refusal cites', () => {
    const { w, d } = inCanary();
    w.operator('rollback', d);
    w.settleAll();
    w.later(MIN);
    w.registry.set(2, { ...w.registry.get(2)!, approvalStatus: 'Approved', lastModifiedTime: w.now });
    const stale = w.send({
      ...command('retry', d),
      pkg: { ...w.registry.get(2)!, lastModifiedTime: w.now - 2 * MIN },
    });
    expect(stale.rejection).toBe(
      'v2 was rolled back (rollback by alice: testing); approve it anew in the registry before retrying',
    );
    const retried = w.send({ ...command('retry', d, { requestId: 'req-retry-2' }), pkg: w.registry.get(2) });
    expect(retried.rejection).toBeUndefined();
    expect(w.dep(id(2, 2))).toMatchObject({ trigger: 'operator', phase: 'QaDeploying' });
    expect(historyOf(retried)).toContainEqual(
      expect.objectContaining({
        deploymentId: id(2, 2),
        from: null,
        to: 'Queued',
        reason: 'requested by operator',
      }),
    );
    expect(historyOf(retried)).toContainEqual(
      expect.objectContaining({
        deploymentId: id(2, 2),
        actor: 'bob',
        requestId: 'req-retry-2',
        reason: `retry of ${d} (retry by bob: checking)`,
      }),
    );
  });

  it("lifts its own version's block only: a later rollback returns to the retried version, never to another rolled-back one", () => {
    const w = new World();
    ship(w, 1);
    // v2 succeeds and is rolled back by an operator; v3's canary fails: both blocked
    const d2 = toCanary(w, 2);
    promoteAllSteps(w, d2);
    w.operator('rollback', d2);
    w.settleAll();
    const d3 = failCanary(w, 3);
    expect(w.state.blocked.map((b) => b.version)).toEqual([2, 3]);
    // v3 is approved anew in the registry (its event not seen yet), then v2 is rejected once more
    w.later(MIN);
    w.registry.set(3, { ...w.registry.get(3)!, approvalStatus: 'Approved', lastModifiedTime: w.now });
    w.later(MIN).reject(2);

    const retried = w.operator('retry', d3);
    expect(retried.rejection).toBeUndefined();
    expect(w.state.blocked.map((b) => b.version)).toEqual([2]);
    // QA still runs v3's config: its next observation moves the retry on to a canary
    w.observe('qa');
    w.settle('prod');
    w.settle('prod');
    expect(w.phase(id(3, 2))).toBe('Canary');
    promoteAllSteps(w, id(3, 2));
    expect(w.state.prod?.version).toBe(3);

    // v4 succeeds, then is rolled back: prod returns to v3, the retried version
    const d4 = toCanary(w, 4);
    promoteAllSteps(w, d4);
    w.operator('rollback', d4);
    w.settleAll();
    expect(w.state.prod?.version).toBe(3);
    // and rolling v3 back returns to v1: v2 is still rolled back
    const serving = w.state.deployments.find((x) => x.version === 3 && x.phase === 'Succeeded')!;
    w.operator('rollback', serving.id);
    w.settleAll();
    expect(w.state.prod?.version).toBe(1);
    expect(w.prodVersions()).toEqual([1]);
  });
});
