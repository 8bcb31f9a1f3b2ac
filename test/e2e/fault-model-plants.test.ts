import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/errors';
import type { ArtifactLookup } from '../../src/ports/artifacts';
import type { ModelRegistry, StageEndpoints } from '../../src/ports/sagemaker';
import { deps, setDeps } from '../../src/wiring';
import {
  artifactsFoundFirst,
  deployedOnce,
  type EarlierStages,
  earlierStagesFollowPolicy,
  missingMeansMissing,
  onlyApprovedServes,
  stageInItsRegion,
  stagesInOrder,
  stoppedNeverRises,
  violations,
} from './fault-model-oracle';
import { type Action, GROUP, type Plant, type PlayResult, play, type World } from './fault-model-play';
import { ECR_EU, EU } from './prod-in-eu';

/**
 * The fault model's invariants catch a bug planted in the real handlers, end to end: a test-only
 * wrapper around a port of the deps (never part of the handlers' own wiring) makes the service
 * misbehave the way the invariant exists for, and the run's stream shows it.
 */

/** v1 serves prod; v2 (30 % errors) starts its canary, fails its gate and is rolled back (and rejected). */
const GATE_ROLLBACK: Action[] = [
  { type: 'ship', errorRate: 0 },
  { type: 'wait', minutes: 17 },
  { type: 'ship', errorRate: 0.3 },
  { type: 'wait', minutes: 40 },
];

/**
 * The same, with UpdateEndpoint throttled and failing from just before the gate fails: the first
 * calls to meet it are the QA restore's (with rollBack, requested as prod's rollback begins, before
 * prod's own UpdateEndpoint once its weights are drained), past the SDK's 3 attempts.
 */
const GATE_ROLLBACK_UPDATES_FAIL: Action[] = [
  { type: 'ship', errorRate: 0 },
  { type: 'wait', minutes: 17 },
  { type: 'ship', errorRate: 0.3 },
  { type: 'wait', minutes: 5 },
  { type: 'fault', operation: 'UpdateEndpoint', error: 'ThrottlingException', times: 4 },
  { type: 'fault', operation: 'UpdateEndpoint', error: 'InternalFailure', times: 2 },
  { type: 'wait', minutes: 40 },
];

/** Then someone edits the rejected v2's metadata, and time goes on. */
const EDIT_AFTER_REJECT: Action[] = [
  ...GATE_ROLLBACK,
  { type: 'editMetadata' },
  { type: 'wait', minutes: 30 },
];

/**
 * The executor's weight change that drains the stopped candidate (its weight from above 0 to 0) is
 * replaced, once, by the stale weights of a next canary step: half the traffic to the candidate.
 */
const staleWeightAfterStop: Plant = () => {
  const real = deps();
  const lastSent = new Map<string, Record<string, number>>();
  let planted = false;
  const wrap = (e: StageEndpoints): StageEndpoints => ({
    describe: (name) => e.describe(name),
    invoke: (name, request) => e.invoke(name, request),
    deploy: (spec) => e.deploy(spec),
    delete: (name) => e.delete(name),
    retire: (models, configs) => e.retire(models, configs),
    setWeights: async (name, weights, observed) => {
      const before = lastSent.get(name) ?? {};
      const drained = Object.keys(weights).find((v) => weights[v] === 0 && (before[v] ?? 0) > 0);
      const sent =
        !planted && drained ? Object.fromEntries(Object.keys(weights).map((v) => [v, 50])) : weights;
      if (sent !== weights) planted = true;
      const outcome = await e.setWeights(name, sent, observed);
      if (outcome === 'sent') lastSent.set(name, sent);
      return outcome;
    },
  });
  setDeps({ ...real, endpoints: { forStage: (target) => wrap(real.endpoints.forStage(target)) } });
};

/** The registry read takes a metadata edit of a Rejected package for a new approval. */
const editedRejectionReadAsApproval: Plant = (r) => {
  const real = deps();
  const registry: ModelRegistry = {
    newestApproved: (group) => real.registry.newestApproved(group),
    packageArtifacts: (arn) => real.registry.packageArtifacts(arn),
    updatePackage: (arn, update) => real.registry.updatePackage(arn, update),
    describePackage: async (arn) => {
      const info = await real.registry.describePackage(arn);
      const edited = r.stack.cloud.registry.find(arn)?.customerMetadata.note !== undefined;
      return info.approvalStatus === 'Rejected' && edited ? { ...info, approvalStatus: 'Approved' } : info;
    },
  };
  setDeps({ ...real, registry });
};

/**
 * The QA stage's first update to a newer version serves the version before it instead (the
 * newer version's variant name on the older version's model): QA is InService, its smoke test
 * passes, and the newer version goes on to prod without QA ever serving it.
 */
const qaServesThePreviousVersion: Plant = () => {
  const real = deps();
  let planted = false;
  const wrap = (e: StageEndpoints): StageEndpoints => ({
    describe: (name) => e.describe(name),
    invoke: (name, request) => e.invoke(name, request),
    delete: (name) => e.delete(name),
    retire: (models, configs) => e.retire(models, configs),
    setWeights: (name, weights, observed) => e.setWeights(name, weights, observed),
    deploy: (spec) => {
      const [only] = spec.variants;
      if (planted || spec.variants.length !== 1 || !only || only.version < 2) return e.deploy(spec);
      planted = true;
      const previous = only.version - 1;
      const swapped = {
        ...only,
        modelName: only.modelName.replace(/-v\d+$/, `-v${previous}`),
        packageArn: only.packageArn.replace(/\/\d+$/, `/${previous}`),
      };
      return e.deploy({ ...spec, variants: [swapped] });
    },
  });
  setDeps({
    ...real,
    endpoints: {
      forStage: (target) =>
        target.stage === 'qa' ? wrap(real.endpoints.forStage(target)) : real.endpoints.forStage(target),
    },
  });
};

/** The prod stage's endpoints, configured in eu-west-1, are reached in the service's region once. */
const prodInTheServiceRegion: Plant = () => {
  const real = deps();
  let planted = false;
  setDeps({
    ...real,
    endpoints: {
      forStage: (target) => {
        if (target.stage !== 'prod' || planted) return real.endpoints.forStage(target);
        const home = real.endpoints.forStage({ ...target, region: undefined });
        const there = real.endpoints.forStage(target);
        return {
          describe: (name) => there.describe(name),
          invoke: (name, request) => there.invoke(name, request),
          delete: (name) => there.delete(name),
          retire: (models, configs) => there.retire(models, configs),
          setWeights: (name, weights, observed) => there.setWeights(name, weights, observed),
          // at home a model names its package: the registry is there
          deploy: (spec) => {
            planted = true;
            const { containers: _, ...byPackage } = spec;
            return home.deploy(byPackage);
          },
        };
      },
    },
  });
};

/** The prod stage's pre-flight lookups are wrapped by `wrap` (QA's stay as they are). */
const prodLookups =
  (wrap: (real: ArtifactLookup) => ArtifactLookup): Plant =>
  () => {
    const real = deps();
    setDeps({
      ...real,
      artifacts: {
        forStage: (target) => {
          const lookup = real.artifacts.forStage(target);
          return target.stage === 'prod' ? wrap(lookup) : lookup;
        },
      },
    });
  };

/** The prod stage's pre-flight is skipped: every artifact is taken as present, nothing is looked up. */
const prodPreflightSkipped = prodLookups(() => ({
  observe: async (artifact) => ({ artifact, present: true }),
}));

/** The prod stage's pre-flight takes a lookup that was throttled (or failed with a 5xx) for an absence. */
const throttledTakenForMissing = prodLookups((lookup) => ({
  observe: (artifact) =>
    lookup.observe(artifact).catch((error: unknown) => {
      if (!(error instanceof TransientError)) throw error;
      return { artifact, present: false, detail: error.message };
    }),
}));

/**
 * The service decides with the other `rollback.earlierStages` than the group is configured with
 * (the run, and so the oracle, has the configured one).
 */
const policyTakenAs =
  (earlierStages: EarlierStages): Plant =>
  () => {
    const config = structuredClone(deps().config);
    config.modelPackageGroups[GROUP]!.rollback.earlierStages = earlierStages;
    setDeps({ ...deps(), config });
  };
/** The policy ignored: QA stays on the rolled-back version though the group says rollBack. */
const policyIgnored = policyTakenAs('keep');
/** QA restored though the group says keep. */
const restoredUnderKeep = policyTakenAs('rollBack');

const run = (actions: Action[], plant?: Plant, world: World = 'home', earlierStages?: EarlierStages) =>
  play(actions, { world, ...(plant ? { plant } : {}), ...(earlierStages ? { earlierStages } : {}) });

/** The same run without a plant, played once for the tests that compare with it. */
const cleanRuns = new Map<string, Promise<PlayResult>>();
const clean = (actions: Action[], world: World = 'home'): Promise<PlayResult> => {
  const key = `${world} ${JSON.stringify(actions)}`;
  let result = cleanRuns.get(key);
  if (!result) {
    result = run(actions, undefined, world);
    cleanRuns.set(key, result);
  }
  return result;
};

/** v1 through QA and prod, then a healthy v2 through QA and its canary to 100 %. */
const TWO_HEALTHY: Action[] = [
  { type: 'ship', errorRate: 0 },
  { type: 'wait', minutes: 17 },
  { type: 'ship', errorRate: 0 },
  { type: 'wait', minutes: 40 },
];

/**
 * v1 through QA and prod in eu-west-1; then both of prod's lookups in eu-west-1 fail on every
 * attempt of the executor's first try (the SDK's 3 each): v2 goes through QA at home, and prod's
 * pre-flight is retried until S3 and ECR answer.
 */
const LOOKUPS_FAIL_IN_EU: Action[] = [
  { type: 'ship', errorRate: 0 },
  { type: 'wait', minutes: 17 },
  { type: 'fault', operation: 'DescribeImages', error: 'ThrottlingException', times: 3, region: EU },
  { type: 'fault', operation: 'HeadObject', error: 'SlowDown', times: 3, region: EU },
  { type: 'ship', errorRate: 0 },
  { type: 'wait', minutes: 40 },
];

describe('fault model: a bug planted in the handlers makes its invariant fail', () => {
  it('rollback.earlierStages rollBack ignored: QA keeps the version prod rolled back', async () => {
    const passed = await run(GATE_ROLLBACK_UPDATES_FAIL, undefined, 'home', 'rollBack');
    // without the plant: QA went back to v1 (a restore on QA next to prod's rollback), its
    // UpdateEndpoint retried past the faults, and every invariant holds, onlyApprovedServes and
    // deployedOnce among them
    expect(violations(passed.run, passed.limits)).toEqual([]);
    expect(passed.exercised.earlierStagesRolledBack).toBe(1);
    // all six faults met the QA restore's UpdateEndpoint (two executor tries of the SDK's 3 attempts)
    expect(passed.exercised.qaRestoreFaults).toBe(6);
    expect(passed.run.decisions.at(-1)?.deployments.map((d) => [d.id, d.phase, d.targetStage])).toEqual([
      ['churn-model:v1', 'Succeeded', 'prod'],
      ['churn-model:v2', 'RolledBack', 'prod'],
      ['churn-model:v1#2', 'Succeeded', 'qa'],
    ]);
    const { run: planted } = await run(GATE_ROLLBACK_UPDATES_FAIL, policyIgnored, 'home', 'rollBack');
    expect(earlierStagesFollowPolicy(planted)).toEqual([
      expect.stringMatching(
        /^v2, rolled back in prod \(on v1 at \S+, change \d+\), still holds 100% of qa \(churn-model-qa in us-east-1\) at \S+ \(change \d+\) once nothing was in flight \(rollback\.earlierStages: rollBack\)$/,
      ),
    ]);
  }, 240_000);

  it('rollback.earlierStages keep: QA restored anyway', async () => {
    const passed = await clean(GATE_ROLLBACK);
    expect(violations(passed.run, passed.limits)).toEqual([]);
    expect(passed.exercised.earlierStagesKept).toBe(1);
    const { run: planted, limits } = await run(GATE_ROLLBACK, restoredUnderKeep);
    expect(earlierStagesFollowPolicy(planted)).toEqual([
      expect.stringMatching(
        /^qa \(churn-model-qa in us-east-1\) moved back from v2 to v1 at \S+ \(change \d+, Updating\) with no rejection of v2 nor rollback --in qa \(rollback\.earlierStages: keep\)$/,
      ),
    ]);
    // the restore itself breaks nothing else
    expect(violations(planted, limits)).toEqual(earlierStagesFollowPolicy(planted));
    expect(deployedOnce(planted)).toEqual([]);
  }, 240_000);

  it('a stale weight sent after the stop decision', async () => {
    const { run: planted } = await run(GATE_ROLLBACK, staleWeightAfterStop);
    // the stale call goes out in the very millisecond of the decision, after it was saved
    expect(stoppedNeverRises(planted)).toEqual([
      expect.stringMatching(
        /^v2 rose from 10% to 50% on churn-model-prod at (\S+) .* after churn-model:v2 was stopped \(RollingBack\) at \1$/,
      ),
    ]);
  }, 120_000);

  it('a rejected version deployed again after a metadata edit', async () => {
    const clean = await run(EDIT_AFTER_REJECT);
    expect(violations(clean.run, clean.limits)).toEqual([]);
    const { run: planted } = await run(EDIT_AFTER_REJECT, editedRejectionReadAsApproval);
    const found = onlyApprovedServes(planted);
    expect(found).toContainEqual(
      expect.stringMatching(/^v2 rose to 10% on churn-model-prod .* while Rejected in the registry$/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(
        /^v2, Rejected at \S+, holds 10% of churn-model-prod .* after its rollback ended$/,
      ),
    );
    expect(stoppedNeverRises(planted)).toContainEqual(
      expect.stringMatching(/^v2 rose from 0% to 10% on churn-model-prod/),
    );
  }, 240_000);

  it('a version that reaches prod while QA served another one', async () => {
    const clean = await run(TWO_HEALTHY);
    expect(violations(clean.run, clean.limits)).toEqual([]);
    const { run: planted } = await run(TWO_HEALTHY, qaServesThePreviousVersion);
    expect(stagesInOrder(planted)).toEqual([
      expect.stringMatching(
        /^v2 reached prod \(\d+% of churn-model-prod in us-east-1\) at \S+ \(change \d+, \w+\) before qa \(churn-model-qa in us-east-1\) served it InService$/,
      ),
    ]);
  }, 240_000);

  it("a change of the eu-west-1 prod stage's endpoint that lands in the service's region", async () => {
    const passed = await clean(TWO_HEALTHY, 'prodInEu');
    expect(violations(passed.run, passed.limits)).toEqual([]);
    const { run: planted } = await run(TWO_HEALTHY, prodInTheServiceRegion, 'prodInEu');
    expect(stageInItsRegion(planted)).toEqual([
      expect.stringMatching(
        /^churn-model-prod changed in us-east-1 at \S+ \(change \d+, Creating\): the prod stage's is in eu-west-1$/,
      ),
    ]);
  }, 240_000);

  it("a prod endpoint change in eu-west-1 before the version's artifacts were found there (pre-flight skipped)", async () => {
    const passed = await clean(TWO_HEALTHY, 'prodInEu');
    expect(violations(passed.run, passed.limits)).toEqual([]);
    const { run: planted } = await run(TWO_HEALTHY, prodPreflightSkipped, 'prodInEu');
    const euData = (v: number) => `s3://models-euw1/churn/v${v}/model.tar.gz`;
    expect(artifactsFoundFirst(planted)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^v1 reached prod \\(churn-model-prod in eu-west-1\\) at \\S+ \\(change \\d+, Creating\\) before ${ECR_EU}:v1, ${euData(1)} was found there$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(`^v2 reached prod .* before ${ECR_EU}:v2, ${euData(2)} was found there$`),
      ),
    ]);
  }, 240_000);

  it('a throttled pre-flight lookup in eu-west-1 taken for a missing artifact', async () => {
    const passed = await clean(LOOKUPS_FAIL_IN_EU, 'prodInEu');
    // without the plant: retried past the SDK's attempts, v2 reaches prod, every invariant holds
    expect(violations(passed.run, passed.limits)).toEqual([]);
    expect(passed.exercised.lookupFaults).toBe(6);
    expect(passed.exercised.preflightRetries).toBeGreaterThan(0);
    expect(passed.run.decisions.at(-1)?.deployments.map((d) => [d.version, d.phase])).toEqual([
      [1, 'Succeeded'],
      [2, 'Succeeded'],
    ]);
    const { run: planted } = await run(LOOKUPS_FAIL_IN_EU, throttledTakenForMissing, 'prodInEu');
    expect(missingMeansMissing(planted)).toEqual([
      expect.stringMatching(
        /^churn-model:v2 \w+ on its pre-flight in eu-west-1 though none of v2's artifacts there was answered missing: .*artifact pre-flight failed: .* is missing \((ECR DescribeImages|S3 HeadObject) .* failed: /,
      ),
    ]);
  }, 240_000);
});
