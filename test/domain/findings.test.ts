import { describe, expect, it } from 'vitest';
import { groupConfig, id, MIN, readings, ship, toCanary, World } from './world';

/** v1 serves prod alone; v2 is in canary step 1. */
const inCanary = (w: World): string => {
  ship(w, 1);
  return toCanary(w, 2);
};

describe('timeouts fire from the clock alone (finding 4)', () => {
  it('maxDurationMinutes rolls a canary back on a tick without any metrics or endpoint observation', () => {
    const w = new World(groupConfig({ maxDurationMinutes: 20 }));
    const d = inCanary(w);
    w.tick(19 * MIN);
    expect(w.phase(d)).toBe('Canary');
    w.tick(2 * MIN);
    expect(w.phase(d)).toBe('RollingBack');
    expect(w.dep(d).reason).toMatch(/maximum duration of 20 min/);
    // the baseline takes all traffic first, then prod moves to the baseline alone
    w.settleAll();
    expect(w.phase(d)).toBe('RolledBack');
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });
});

describe('a rollback that fails keeps the version out (finding 8)', () => {
  /** v2's canary fails its gate; the rollback's update is rolled back by SageMaker; the reject is decided but not yet carried out. */
  const rollbackFailedRejectQueued = (): { w: World; d: string } => {
    const w = new World();
    const d = inCanary(w);
    w.later(5 * MIN).canary(d, readings.failing());
    expect(w.phase(d)).toBe('RollingBack');
    w.settle('prod'); // baseline 100 % on the canary config; the executor now sends the baseline-alone config
    expect(w.prodWeights()).toEqual({ v1: 100, v2: 0 });
    w.later(MIN).advance('prod', 'fail'); // SageMaker rolls that update back
    w.autoCarryOut = false; // the registry reject is decided, then held back (throttled, delayed)
    w.observe('prod');
    expect(w.phase(d)).toBe('Failed');
    expect(w.dep(d).reason).toMatch(/rollback did not complete/);
    expect(w.state.outbox.map((e) => e.command.type === 'UpdateRegistry' && !!e.command.reject)).toContain(
      true,
    );
    expect(w.registry.get(2)?.approvalStatus).toBe('Approved');
    return { w, d };
  };

  /** A metadata edit of v2's package: the registry's time moves on, its approval status does not. */
  const editMetadata = (w: World): void => {
    const current = w.registry.get(2)!;
    w.registry.set(2, { ...current, lastModifiedTime: w.now });
    w.send({ type: 'Approved', pkg: w.registry.get(2)! });
  };

  const attemptsOf = (w: World, version: number): number =>
    w.state.deployments.filter((x) => x.version === version).length;

  it('an edit handled before the queued reject is carried out is no approval: nothing is redeployed', () => {
    const { w } = rollbackFailedRejectQueued();
    editMetadata(w.later(MIN));
    expect(attemptsOf(w, 2)).toBe(1);
    expect(w.state.blocked.find((b) => b.version === 2)?.rejectPending).toBe(true);
    // the reject lands and the registry's Rejected event arrives: the block now dates from it
    w.autoCarryOut = true;
    w.carryOut();
    expect(w.registry.get(2)?.approvalStatus).toBe('Rejected');
    expect(w.state.blocked.find((b) => b.version === 2)?.rejectPending).toBeUndefined();
    // an edit of the Rejected package is still no approval
    editMetadata(w.later(MIN));
    expect(attemptsOf(w, 2)).toBe(1);
    // an approval after the registry said Rejected is a new one: it restarts v2
    w.later(MIN).approve(2);
    expect(attemptsOf(w, 2)).toBe(2);
    expect(w.phase(id(2, 2))).toBe('QaDeploying');
  });

  it('a reject that never lands keeps the block: edits, late approvals and retry cannot restart v2', () => {
    const { w, d } = rollbackFailedRejectQueued();
    w.state.outbox = []; // refused for good (the executor logs it and raises PermanentFailures)
    editMetadata(w.later(MIN));
    editMetadata(w.later(60 * MIN));
    w.tick(MIN);
    expect(attemptsOf(w, 2)).toBe(1);
    expect(w.operator('retry', d).rejection).toMatch(/has not said Rejected yet/);
    // the operator rejects and approves it anew by hand: that approval restarts it
    w.autoCarryOut = true;
    w.later(MIN).reject(2);
    w.later(MIN).approve(2);
    expect(attemptsOf(w, 2)).toBe(2);
  });
});

describe('a configuration change during a canary (finding 9)', () => {
  it('fewer steps: the canary goes on from the last step left, without throwing', () => {
    const w = new World();
    const d = inCanary(w);
    w.later(5 * MIN).canary(d, readings.healthy());
    expect(w.dep(d).canary?.stepIndex).toBe(1);
    w.settle('prod');
    w.config = groupConfig({ steps: [{ weight: 10, bakeMinutes: 5 }] });
    w.later(5 * MIN).canary(d, readings.healthy());
    expect(w.phase(d)).toBe('Promoting');
    w.settleAll();
    expect(w.phase(d)).toBe('Succeeded');
    expect(w.prodWeights()).toEqual({ v2: 100 });
  });

  it('strategy switched to native: the tick aborts the canary with the reason and restores the baseline', () => {
    const w = new World();
    const d = inCanary(w);
    w.config = groupConfig({ strategy: 'native' });
    w.tick(MIN);
    expect(w.phase(d)).toBe('RollingBack');
    expect(w.dep(d).reason).toMatch(/strategy changed to native/);
    w.settleAll();
    expect(w.phase(d)).toBe('Aborted');
    expect(w.prodWeights()).toEqual({ v1: 100 });
  });

  it('strategy switched to native during the shadow phase: aborted too, the shadow variant removed, prod free for the next version', () => {
    const w = new World(groupConfig({ shadow: { samplingPercent: 50, bakeMinutes: 10 } }));
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    w.settle('prod');
    const d = id(2);
    expect(w.phase(d)).toBe('Shadow');
    w.config = groupConfig({ strategy: 'native' });
    w.later(MIN).canary(d, readings.healthy());
    w.tick(MIN);
    expect(w.phase(d)).toBe('RollingBack');
    expect(w.dep(d).reason).toMatch(/strategy changed to native during the shadow phase/);
    w.settleAll();
    expect(w.phase(d)).toBe('Aborted');
    expect(w.prodWeights()).toEqual({ v1: 100 });
    // the last config prod was moved to holds the baseline alone, no shadow variant
    const lastProd = w.executed.filter((e) => e.type === 'DeployEndpoint' && e.stage === 'prod').at(-1);
    expect(
      lastProd?.type === 'DeployEndpoint' && lastProd.variants.map((v) => [v.variantName, v.shadow ?? false]),
    ).toEqual([['v1', false]]);
    // the next version is not held behind it
    w.approve(3);
    w.settleAll();
    expect(w.phase(id(3))).toBe('Succeeded');
    expect(w.state.prod?.version).toBe(3);
  });
});

describe('operator commands that must be refused (finding 10)', () => {
  it('retry of a Superseded deployment is refused', () => {
    const w = new World();
    w.approve(1);
    w.approve(2);
    expect(w.phase(id(1))).toBe('Superseded');
    const retry = w.operator('retry', id(1));
    expect(retry.rejection).toMatch(/Superseded/);
    expect(w.state.deployments.filter((x) => x.version === 1)).toHaveLength(1);
  });

  it('rollback in a QA phase is refused (nothing of it serves prod) and publishes no Rolled Back', () => {
    const w = new World();
    w.approve(1);
    const rollback = w.operator('rollback', id(1));
    expect(rollback.rejection).toMatch(/QaDeploying.*abort/);
    expect(
      rollback.commands.some((c) => c.type === 'Publish' && c.event.type === 'Deployment Rolled Back'),
    ).toBe(false);
    expect(w.phase(id(1))).toBe('QaDeploying');
  });
});

describe('native blue/green (finding 5)', () => {
  const native = (maximumExecutionTimeoutSeconds?: number) => {
    const config = groupConfig({ strategy: 'native' });
    const strategy = config.stages.prod.strategy;
    if (strategy.type === 'native' && maximumExecutionTimeoutSeconds !== undefined) {
      strategy.maximumExecutionTimeoutSeconds = maximumExecutionTimeoutSeconds;
    }
    const w = new World(config);
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    expect(w.phase(id(2))).toBe('NativeShifting');
    return w;
  };

  it('an 8 h blue/green is waited for (not ended after 3 h) and ends Succeeded', () => {
    const w = native(8 * 3600);
    w.later(5 * 60 * MIN).observe('prod');
    expect(w.phase(id(2))).toBe('NativeShifting');
    w.later(3 * 60 * MIN).observe('prod');
    expect(w.phase(id(2))).toBe('NativeShifting');
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Succeeded');
    expect(w.state.prod?.version).toBe(2);
  });

  it("the wait includes the old fleet's termination wait on top of the execution timeout", () => {
    const config = groupConfig({ strategy: 'native' });
    const strategy = config.stages.prod.strategy;
    if (strategy.type !== 'native') throw new Error('native strategy expected');
    strategy.maximumExecutionTimeoutSeconds = 8 * 3600;
    strategy.terminationWaitSeconds = 3600;
    const w = new World(config);
    ship(w, 1);
    w.approve(2);
    w.settle('qa');
    // 8 h + 1 h + the 30 min margin
    w.later(9 * 60 * MIN + 29 * MIN).observe('prod');
    expect(w.phase(id(2))).toBe('NativeShifting');
    w.later(2 * MIN).observe('prod');
    expect(w.phase(id(2))).toBe('Failed');
  });

  it('still gives up after the longest blue/green plus a margin', () => {
    const w = native(3600);
    w.later(3 * 60 * MIN + MIN).observe('prod');
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toMatch(/not InService .* after 181 min/);
    expect(w.state.blocked).toEqual([]);
  });

  it('SageMaker refusing the update (configuration, permission) ends Failed: not RolledBack, not Rejected', () => {
    const w = native();
    const generation = w.state.desired?.prod?.generation ?? 0;
    w.send({
      type: 'EndpointRefused',
      stage: 'prod',
      generation,
      reason: 'ValidationException: CanarySize must be at most 50% of the instance count',
    });
    expect(w.phase(id(2))).toBe('Failed');
    expect(w.dep(id(2)).reason).toMatch(/refused.*CanarySize/);
    expect(w.state.blocked).toEqual([]);
    expect(w.registryUpdates.some((u) => u.reject)).toBe(false);
    expect(w.registry.get(2)?.approvalStatus).toBe('Approved');
  });
});

describe('a retry decided in the millisecond its endpoint failed (finding 7)', () => {
  it('the old failure, observed before the executor deletes the endpoint, is not the retry’s own', () => {
    const w = new World();
    w.approve(1);
    w.later(MIN).advance('qa', 'fail');
    w.observe('qa');
    expect(w.phase(id(1))).toBe('Failed');
    const failedAt = w.endpoints.qa!.lastModifiedTime;
    expect(w.now).toBe(failedAt);
    // same millisecond: the retry is decided, and the endpoint (still Failed) is observed again
    w.autoCarryOut = false;
    expect(w.operator('retry', id(1)).rejection).toBeUndefined();
    w.observe('qa');
    expect(w.phase(id(1, 2))).toBe('QaDeploying');
    // the executor deletes the failed endpoint and creates it anew; it comes up this time
    w.autoCarryOut = true;
    w.carryOut();
    expect(w.endpoints.qa?.status).toBe('Creating');
    w.later(MIN).settleAll();
    expect(w.phase(id(1, 2))).toBe('Succeeded');
    expect(w.state.prod?.version).toBe(1);
  });
});
