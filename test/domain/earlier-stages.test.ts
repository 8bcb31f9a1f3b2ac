import { describe, expect, it } from 'vitest';
import {
  type ConfigOptions,
  commandsOf,
  groupConfig,
  id,
  MIN,
  passAllSteps,
  readings,
  ship,
  toCanary,
  World,
} from './world';

/** rollback.earlierStages: when prod rolls a version back, QA (which promoted it) keeps it or goes back too. */

/** v1 serves prod and v2 runs step 1 of its canary (QA serves v2). */
const v2InCanary = (o: ConfigOptions): { w: World; d: string } => {
  const w = new World(groupConfig(o));
  ship(w, 1);
  const d = toCanary(w, 2);
  expect(w.qaVersions()).toEqual([2]);
  return { w, d };
};

const causes: { name: string; options?: ConfigOptions; rollBack: (w: World, d: string) => void }[] = [
  { name: 'a gate verdict', rollBack: (w, d) => w.canary(d, readings.failing()) },
  {
    name: 'an alarm',
    rollBack: (w, d) => w.canary(d, readings.custom([10_000, 20, 40], [90_000, 180, 40], ['churn-prod-5xx'])),
  },
  {
    name: 'the maximum duration',
    options: { maxDurationMinutes: 20 },
    rollBack: (w) => w.later(21 * MIN).tick(),
  },
  { name: "an operator's rollback of the canary", rollBack: (w, d) => w.operator('rollback', d) },
  { name: "an operator's abort of the canary", rollBack: (w, d) => w.operator('abort', d) },
  {
    name: 'a failed endpoint change during the canary',
    rollBack: (w, d) =>
      w.send({ type: 'CommandFailed', deploymentId: d, command: 'UpdateEndpoint', reason: 'AccessDenied' }),
  },
  {
    name: "an operator's rollback after the promotion",
    rollBack: (w, d) => {
      passAllSteps(w, d);
      expect(w.state.prod?.version).toBe(2);
      w.operator('rollback', d);
    },
  },
];

describe('rollback.earlierStages when prod rolls v2 back', () => {
  for (const cause of causes) {
    it(`${cause.name}, keep (the default): QA stays on v2`, () => {
      const { w, d } = v2InCanary({ ...cause.options });
      cause.rollBack(w, d);
      w.settleAll();
      expect(w.state.prod?.version).toBe(1);
      expect(w.restores()).toEqual([]);
      expect(w.qaVersions()).toEqual([2]);
      expect(w.state.qa?.version).toBe(2);
    });

    it(`${cause.name}, rollBack: QA goes back to v1, the version prod serves`, () => {
      const { w, d } = v2InCanary({ ...cause.options, earlierStages: 'rollBack' });
      const registryBefore = w.registryUpdates.length;
      cause.rollBack(w, d);
      const [restore] = w.restores();
      expect(restore).toMatchObject({ version: 1, targetStage: 'qa', phase: 'QaDeploying' });
      w.settleAll();
      expect(w.state.prod?.version).toBe(1);
      expect(w.dep(restore!.id).phase).toBe('Succeeded');
      expect(w.restores()).toHaveLength(1);
      expect(w.qaVersions()).toEqual([1]);
      expect(w.state.qa?.version).toBe(1);
      // the restore says why, in its history and its Deployment Started event
      const requested = w.history(restore!.id)[0]!.reason;
      expect(requested).toMatch(
        /^requested by restore: prod rolled back v2 \(.+\): QA back to v1 \(rollback\.earlierStages: rollBack\)$/,
      );
      const started = commandsOf(w.commands, 'Publish').find(
        (p) => p.event.type === 'Deployment Started' && p.event.deploymentId === restore!.id,
      );
      expect(started?.event.detail).toMatchObject({ trigger: 'restore', targetStage: 'qa' });
      expect(`requested by restore: ${started?.event.detail.reason}`).toBe(requested);
      // v1 stays Production in the registry: QA only went back to it
      expect(
        w.registryUpdates
          .slice(registryBefore)
          .filter((u) => u.packageArn.endsWith('/1') && u.lifecycle?.stage === 'QA'),
      ).toEqual([]);
    });
  }

  it('SageMaker rolls a native blue/green back: keep leaves QA on v2, rollBack takes it to v1', () => {
    for (const earlierStages of ['keep', 'rollBack'] as const) {
      const w = new World(groupConfig({ strategy: 'native', earlierStages }));
      ship(w, 1);
      w.approve(2);
      w.settle('qa');
      w.later(MIN).settle('prod', 'fail');
      expect(w.phase(id(2))).toBe('RolledBack');
      w.settleAll();
      expect(w.qaVersions(), earlierStages).toEqual(earlierStages === 'keep' ? [2] : [1]);
    }
  });

  it("an operator's rollback of v2 serving prod while v3's canary runs: prod goes to v1, and QA (on v3) with rollBack", () => {
    for (const earlierStages of ['keep', 'rollBack'] as const) {
      const w = new World(groupConfig({ earlierStages }));
      ship(w, 1);
      passAllSteps(w, toCanary(w, 2));
      const d3 = toCanary(w, 3);
      expect(w.state.qa?.version).toBe(3);
      w.operator('rollback', id(2));
      expect(w.phase(d3), earlierStages).toBe('Aborted');
      w.settleAll();
      expect(w.state.prod?.version, earlierStages).toBe(1);
      expect(w.qaVersions(), earlierStages).toEqual(earlierStages === 'keep' ? [3] : [1]);
    }
  });

  it('a newer version superseding the canary is no rollback of it: QA runs the newer one', () => {
    const { w, d } = v2InCanary({ earlierStages: 'rollBack' });
    w.approve(3);
    w.settleAll();
    expect(w.phase(d)).toBe('Superseded');
    expect(w.restores()).toEqual([]);
    expect(w.qaVersions()).toEqual([3]);
  });

  it('QA already runs a newer version: nothing to roll back there, and the decision says so', () => {
    const w = new World(groupConfig({ mode: 'manual', concurrency: 'queue', earlierStages: 'rollBack' }));
    ship(w, 1);
    w.operator('promote', id(1));
    w.settle('prod');
    w.approve(2);
    w.settle('qa');
    w.operator('promote', id(2));
    w.settle('prod');
    w.settle('prod');
    expect(w.phase(id(2))).toBe('Canary');
    // v3 passed QA and waits for its promote there
    w.approve(3);
    w.settle('qa');
    expect(w.phase(id(3))).toBe('AwaitingApproval');
    const rolledBack = w.canary(id(2), readings.failing());
    expect(rolledBack.notes).toContain(
      'QA serves v3, not v2: nothing to roll back there (rollback.earlierStages: rollBack)',
    );
    w.settleAll();
    expect(w.restores()).toEqual([]);
    expect(w.qaVersions()).toEqual([3]);
  });

  it('a newer version is on its way into QA: QA leaves v2 for it', () => {
    const { w, d } = v2InCanary({ concurrency: 'queue', earlierStages: 'rollBack' });
    w.approve(3);
    expect(w.phase(id(3))).toBe('QaDeploying');
    const rolledBack = w.canary(d, readings.failing());
    expect(rolledBack.notes.find((n) => n.startsWith('QA leaves v2 (prod rolled back v2'))).toMatch(
      new RegExp(`for ${id(3)}$`),
    );
    expect(w.restores()).toEqual([]);
    w.settle('qa');
    expect(w.qaVersions()).toEqual([3]);
  });

  it('with no version left in prod, QA keeps the version and the decision says so', () => {
    const w = new World(groupConfig({ earlierStages: 'rollBack' }));
    w.approve(1);
    w.settle('qa');
    expect(w.phase(id(1))).toBe('ProdDeploying');
    const aborted = w.operator('abort', id(1));
    expect(w.phase(id(1))).toBe('Aborted');
    expect(aborted.notes).toContain(
      'QA keeps v1 (prod rolled back v1 (abort by alice: testing; prod has no earlier version to return to)): prod serves no other version to return to',
    );
    expect(w.restores()).toEqual([]);
    expect(w.qaVersions()).toEqual([1]);
  });

  it("rollBack, then the service's own reject comes back: no second restore", () => {
    const { w, d } = v2InCanary({ earlierStages: 'rollBack' });
    w.canary(d, readings.failing());
    w.settleAll();
    expect(w.restores()).toHaveLength(1);
    w.reject(2);
    w.settleAll();
    expect(w.restores()).toHaveLength(1);
    expect(w.qaVersions()).toEqual([1]);
  });

  it('rollBack, and the registry rejects the version in canary: one restore of QA, as with keep', () => {
    for (const earlierStages of ['keep', 'rollBack'] as const) {
      const { w, d } = v2InCanary({ earlierStages });
      w.reject(2);
      expect(w.phase(d), earlierStages).toBe('RollingBack');
      expect(w.restores(), earlierStages).toHaveLength(1);
      w.settleAll();
      expect(w.qaVersions(), earlierStages).toEqual([1]);
    }
  });
});
