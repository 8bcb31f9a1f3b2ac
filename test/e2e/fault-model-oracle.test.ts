import { describe, expect, it } from 'vitest';
import type { Phase } from '../../src/domain/model';
import type { AppliedChange, ArtifactRead, EndpointChange, VariantRecord } from '../../src/local/cloud';
import {
  artifactsFoundFirst,
  deployedOnce,
  earlierStagesFollowPolicy,
  type Limits,
  missingMeansMissing,
  nothingStuck,
  oneAnswerPerToken,
  onlyApprovedServes,
  type RunRecord,
  type SavedDecision,
  type StagePlace,
  stageInItsRegion,
  stagesInOrder,
  stoppedNeverRises,
  violations,
  weightsNeverZero,
} from './fault-model-oracle';

/**
 * Each invariant of the fault model fails on the bug it exists for, planted in a recorded stream,
 * and passes on the same stream without it.
 */

const MINUTE = 60_000;
const PROD = 'churn-model-prod';
const QA = 'churn-model-qa';
const HOME = 'us-east-1';
const EU = 'eu-west-1';
/** QA at home, prod at home (the default) or in another region. */
const stagesWithProdIn = (region: string): StagePlace[] => [
  { stage: 'qa', endpoint: QA, region: HOME },
  { stage: 'prod', endpoint: PROD, region },
];
const pkg = (v: number) => `arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model/${v}`;
const limits: Limits = { deploymentMs: 300 * MINUTE, settleMs: 300 * MINUTE };
/** The one artifact each version needs in a region (its image there). */
const imageIn = (region: string, v: number) => `111122223333.dkr.ecr.${region}.amazonaws.com/churn:v${v}`;

const variant = (v: number, current: number, desired = current): VariantRecord => ({
  name: `v${v}`,
  modelName: `m${v}`,
  packageArn: pkg(v),
  currentWeight: current,
  desiredWeight: desired,
});

/** Builds a stream change by change; `at` sets the virtual time in minutes. */
class Stream {
  readonly changes: AppliedChange[] = [];
  readonly decisions: SavedDecision[] = [];
  readonly reads: ArtifactRead[] = [];
  private t = 0;
  readonly variant = variant;

  at(minutes: number): this {
    this.t = minutes * MINUTE;
    return this;
  }

  approval(v: number, status: string): this {
    this.changes.push({ kind: 'approval', seq: this.changes.length, at: this.t, packageArn: pkg(v), status });
    return this;
  }

  /** A change of the prod endpoint (in `region`, the service's by default). */
  endpoint(
    status: string,
    variants: VariantRecord[],
    pending?: VariantRecord[],
    place: { endpoint: string; region: string } = { endpoint: PROD, region: HOME },
  ): this {
    const change: EndpointChange = {
      kind: 'endpoint',
      seq: this.changes.length,
      at: this.t,
      region: place.region,
      endpoint: place.endpoint,
      status,
      configName: variants.map((v) => v.name).join('-'),
      variants,
      ...(pending
        ? { pending: { configName: pending.map((v) => v.name).join('-'), variants: pending } }
        : {}),
    };
    this.changes.push(change);
    return this;
  }

  /** A lookup of v's image in the region, answered found (or not), placed after the changes so far. */
  read(v: number, region: string, found = true): this {
    const uri = imageIn(region, v);
    this.reads.push({ seq: this.changes.length, at: this.t, region, account: '111122223333', uri, found });
    return this;
  }

  /** QA's pre-flight finds v's image at home, then its endpoint is created for `v` (or updated from `from`); then InService. */
  qaServes(v: number, from?: number): this {
    const place = { endpoint: QA, region: HOME };
    this.read(v, HOME);
    if (from === undefined) this.endpoint('Creating', [], [variant(v, 1)], place);
    else this.endpoint('Updating', [variant(from, 1)], [variant(v, 1)], place);
    return this.endpoint('InService', [variant(v, 1)], undefined, place);
  }

  decision(
    ...deployments: { version: number; phase: Phase; created?: number; reason?: string; attempt?: number }[]
  ): this {
    this.decisions.push({
      seq: this.changes.length,
      deployments: deployments.map((d) => ({
        id: `churn-model:v${d.version}${d.attempt ? `#${d.attempt}` : ''}`,
        version: d.version,
        phase: d.phase,
        phaseSince: this.t,
        createdAt: (d.created ?? 0) * MINUTE,
        reason: d.reason,
      })),
    });
    return this;
  }

  run(extra: Partial<RunRecord> = {}): RunRecord {
    return {
      stages: stagesWithProdIn(HOME),
      earlierStages: 'keep',
      operatorActs: [],
      changes: this.changes,
      reads: this.reads,
      // every version approved needs its image, at home and in eu-west-1
      artifacts: this.changes.flatMap((c) =>
        c.kind === 'approval' && c.status === 'Approved'
          ? [HOME, EU].map((region) => ({
              packageArn: c.packageArn,
              region,
              uri: imageIn(region, Number(c.packageArn.split('/').at(-1))),
            }))
          : [],
      ),
      decisions: this.decisions,
      tokens: [],
      answers: [],
      endedAt: this.t,
      faultsEndedAt: this.t,
      settledAt: this.t,
      ...extra,
    };
  }
}

const stream = () => new Stream();

/** v1 serving prod, v2 approved and in its canary at 10 %, then stopped by a saved decision. */
const canaryStopped = () => {
  const s = stream();
  const { variant: v } = s;
  return s
    .approval(1, 'Approved')
    .qaServes(1)
    .endpoint('Creating', [v(1, 1)], [v(1, 1)])
    .at(5)
    .endpoint('InService', [v(1, 1)])
    .decision({ version: 1, phase: 'Succeeded' })
    .at(20)
    .approval(2, 'Approved')
    .qaServes(2, 1)
    .endpoint('Updating', [v(1, 1)], [v(1, 90), v(2, 0)])
    .at(23)
    .endpoint('InService', [v(1, 90), v(2, 0)])
    .endpoint('Updating', [v(1, 90, 90), v(2, 0, 10)])
    .at(24)
    .endpoint('InService', [v(1, 90), v(2, 10)])
    .at(30)
    .decision({ version: 1, phase: 'Succeeded' }, { version: 2, phase: 'RollingBack', created: 20 });
};

/** The rollback as it should go on: drain, baseline alone, reject, then nothing in flight. */
const rollbackCompletes = (s: ReturnType<typeof canaryStopped>) => {
  const { variant: v } = s;
  return s
    .endpoint('Updating', [v(1, 90, 100), v(2, 10, 0)])
    .at(31)
    .endpoint('InService', [v(1, 100), v(2, 0)])
    .endpoint('Updating', [v(1, 100), v(2, 0)], [v(1, 1)])
    .approval(2, 'Rejected')
    .at(34)
    .endpoint('InService', [v(1, 1)])
    .decision({ version: 1, phase: 'Succeeded' }, { version: 2, phase: 'RolledBack', created: 20 });
};

describe('fault model oracle: each invariant fails on its planted bug', () => {
  it('passes a canary rolled back as it should', () => {
    expect(violations(rollbackCompletes(canaryStopped()).run(), limits)).toEqual([]);
  });

  it("a stale weight sent after the stop (the next step's 50 %) raises the stopped candidate", () => {
    const s = canaryStopped();
    const { variant: v } = s;
    // the stale set-weights call is applied in the decision's own minute, right after it was saved
    s.endpoint('Updating', [v(1, 90, 50), v(2, 10, 50)]);
    expect(stoppedNeverRises(s.run())).toEqual([
      expect.stringMatching(
        /^v2 rose from 10% to 50% on churn-model-prod at 00:30:00 .* after churn-model:v2 was stopped \(RollingBack\) at 00:30:00$/,
      ),
    ]);
    expect(stoppedNeverRises(rollbackCompletes(canaryStopped()).run())).toEqual([]);
  });

  it('the stop is where the decision was saved: a rise before it is no violation', () => {
    const s = stream();
    const { variant: v } = s;
    s.approval(1, 'Approved')
      .approval(2, 'Approved')
      .endpoint('InService', [v(1, 90), v(2, 10)])
      .endpoint('Updating', [v(1, 90, 50), v(2, 10, 50)])
      .decision({ version: 2, phase: 'Aborted' });
    expect(stoppedNeverRises(s.run())).toEqual([]);
  });

  it('a rejected version deployed again is caught, whether or not it ends serving prod', () => {
    const s = rollbackCompletes(canaryStopped());
    const { variant: v } = s;
    s.at(60)
      .endpoint('Updating', [v(1, 1)], [v(1, 90), v(2, 10)])
      .at(63)
      .endpoint('InService', [v(1, 90), v(2, 10)]);
    const found = onlyApprovedServes(s.run());
    expect(found).toContainEqual(
      expect.stringMatching(/^v2 rose to 10% on churn-model-prod at 01:00:00 .* while Rejected/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(/^v2, Rejected at 00:31:00, holds 10% of churn-model-prod at 01:00:00/),
    );
    expect(stoppedNeverRises(s.run())).toContainEqual(expect.stringMatching(/^v2 rose from 0% to 10%/));
    expect(deployedOnce(s.run())).toEqual(['churn-model-prod <- v1-v2 (v2) sent 2 times']);
  });

  it('a version approved anew may serve again', () => {
    const s = rollbackCompletes(canaryStopped());
    const { variant: v } = s;
    s.at(60)
      .approval(2, 'Approved')
      .endpoint('Updating', [v(1, 1)], [v(1, 90), v(2, 10)])
      .at(63)
      .endpoint('InService', [v(1, 90), v(2, 10)]);
    expect(onlyApprovedServes(s.run())).toEqual([]);
    expect(stoppedNeverRises(s.run())).toEqual([]);
  });

  it('a token answered twice (a second, different answer that SageMaker refused) is caught', () => {
    const crt = (c: string) => c.repeat(32);
    const run = (second: { kind: 'success' | 'failure'; crt: string }) =>
      stream().run({
        tokens: ['AbCdE12345'],
        answers: [
          { token: 'AbCdE12345', kind: 'success', clientRequestToken: crt('a'), accepted: true },
          { token: 'AbCdE12345', kind: second.kind, clientRequestToken: second.crt, accepted: false },
        ],
      });
    expect(oneAnswerPerToken(run({ kind: 'failure', crt: crt('b') }))).toEqual([
      `token AbCd… answered 2 times: success ${crt('a')}, failure ${crt('b')}`,
    ]);
    // the same answer sent again (a retry after a throttled call) is one answer
    expect(oneAnswerPerToken(run({ kind: 'success', crt: crt('a') }))).toEqual([]);
    expect(oneAnswerPerToken(stream().run({ tokens: ['AbCdE12345'] }))).toEqual([
      'token AbCd… never answered',
    ]);
  });

  it('an endpoint left serving at weight 0 is caught', () => {
    // SageMaker refuses UpdateEndpointWeightsAndCapacities that zero every variant (and so does the
    // local cloud), but a config of weights 0 is accepted: the guard reads every applied change
    const s = stream();
    const { variant: v } = s;
    s.approval(1, 'Approved')
      .endpoint('Updating', [v(1, 1)], [v(1, 0)])
      .at(3)
      .endpoint('InService', [v(1, 0)]);
    expect(weightsNeverZero(s.run())).toEqual([
      'churn-model-prod pending weights sum to zero at 00:00:00 (change 1)',
      'churn-model-prod current weights sum to zero at 00:03:00 (change 2)',
      'churn-model-prod desired weights sum to zero at 00:03:00 (change 2)',
    ]);
  });

  it('a stuck deployment, and a run that never settles, are caught', () => {
    const s = canaryStopped();
    // v2 stays RollingBack for good: 400 min after it was created, nothing settled
    s.at(420);
    expect(nothingStuck(s.run({ settledAt: undefined, faultsEndedAt: 60 * MINUTE }), limits)).toEqual([
      'churn-model:v2 was in flight for 400 min (limit 300 min), still RollingBack',
      'the run did not settle within 300 min after faults stopped',
    ]);
    const ended = rollbackCompletes(canaryStopped());
    expect(nothingStuck(ended.run(), limits)).toEqual([]);
  });

  it('a version that reaches prod before QA served it InService is caught', () => {
    const s = stream();
    const { variant: v } = s;
    // v1 through QA and prod; v2's QA update still in progress when prod's canary starts
    s.approval(1, 'Approved')
      .qaServes(1)
      .endpoint('Creating', [], [v(1, 1)])
      .at(5)
      .endpoint('InService', [v(1, 1)])
      .at(20)
      .approval(2, 'Approved')
      .endpoint('Updating', [v(1, 1)], [v(2, 1)], { endpoint: QA, region: HOME })
      .endpoint('Updating', [v(1, 1)], [v(1, 90), v(2, 10)])
      .at(23)
      .endpoint('InService', [v(2, 1)], undefined, { endpoint: QA, region: HOME })
      .endpoint('InService', [v(1, 90), v(2, 10)]);
    expect(stagesInOrder(s.run())).toEqual([
      'v2 reached prod (10% of churn-model-prod in us-east-1) at 00:20:00 (change 7, Updating) before qa (churn-model-qa in us-east-1) served it InService',
    ]);
    // the same stream with prod's update after QA's InService passes
    const inOrder = stream();
    inOrder
      .approval(1, 'Approved')
      .qaServes(1)
      .endpoint('Creating', [], [v(1, 1)])
      .at(5)
      .endpoint('InService', [v(1, 1)])
      .at(20)
      .approval(2, 'Approved')
      .qaServes(2, 1)
      .endpoint('Updating', [v(1, 1)], [v(1, 90), v(2, 10)]);
    expect(stagesInOrder(inOrder.run())).toEqual([]);
  });

  it('QA serving a version counts only InService, at a weight above 0, on the QA endpoint in its own region', () => {
    const prodGets = (s: Stream) => s.endpoint('Creating', [], [variant(1, 1)]);
    const s = stream();
    const { variant: v } = s;
    // QA never InService with v1 above 0: failed, at a weight of 0, then another region's churn-model-qa
    s.approval(1, 'Approved')
      .endpoint('Failed', [v(1, 1)], undefined, { endpoint: QA, region: HOME })
      .endpoint('InService', [v(1, 0)], undefined, { endpoint: QA, region: HOME })
      .endpoint('InService', [v(1, 1)], undefined, { endpoint: QA, region: EU });
    const found = stagesInOrder(prodGets(s).run());
    expect(found).toEqual([
      expect.stringMatching(/^v1 reached prod \(100% of churn-model-prod in us-east-1\)/),
    ]);
  });

  it('prod in eu-west-1: its changes there are checked against QA at home', () => {
    const eu = { endpoint: PROD, region: EU };
    const s = stream();
    const { variant: v } = s;
    s.approval(1, 'Approved')
      .qaServes(1)
      .endpoint('Creating', [], [v(1, 1)], eu)
      .at(5)
      .endpoint('InService', [v(1, 1)], undefined, eu)
      .approval(2, 'Approved')
      .endpoint('Updating', [v(1, 1)], [v(1, 90), v(2, 10)], eu);
    const run = s.run({ stages: stagesWithProdIn(EU) });
    expect(stagesInOrder(run)).toEqual([
      'v2 reached prod (10% of churn-model-prod in eu-west-1) at 00:05:00 (change 6, Updating) before qa (churn-model-qa in us-east-1) served it InService',
    ]);
    expect(stageInItsRegion(run)).toEqual([]);
  });

  it("a version on a stage's endpoint before its artifacts were found in the stage's region is caught", () => {
    const eu = { endpoint: PROD, region: EU };
    /** v1 through QA and prod in eu-west-1; v2 through QA; then prod's canary of v2, after `before`. */
    const run = (before: (s: Stream) => Stream) => {
      const s = stream();
      const { variant: v } = s;
      s.approval(1, 'Approved')
        .qaServes(1)
        .read(1, EU)
        .endpoint('Creating', [], [v(1, 1)], eu)
        .at(5)
        .endpoint('InService', [v(1, 1)], undefined, eu)
        .at(20)
        .approval(2, 'Approved')
        .qaServes(2, 1);
      return before(s)
        .endpoint('Updating', [v(1, 1)], [v(1, 90), v(2, 10)], eu)
        .run({ stages: stagesWithProdIn(EU) });
    };
    expect(artifactsFoundFirst(run((s) => s.read(2, EU)))).toEqual([]);
    // no lookup in eu-west-1: QA's at home is not prod's pre-flight
    expect(artifactsFoundFirst(run((s) => s))).toEqual([
      `v2 reached prod (churn-model-prod in eu-west-1) at 00:20:00 (change 8, Updating) before ${imageIn(EU, 2)} was found there`,
    ]);
    // answered not found, or found before the version was approved, is no pre-flight passed
    expect(artifactsFoundFirst(run((s) => s.read(2, EU, false)))).toHaveLength(1);
    const early = stream();
    early.read(2, EU).approval(1, 'Approved').qaServes(1).approval(2, 'Approved').qaServes(2, 1);
    early.endpoint('Creating', [], [variant(2, 1)], eu);
    expect(artifactsFoundFirst(early.run({ stages: stagesWithProdIn(EU) }))).toEqual([
      expect.stringMatching(/^v2 reached prod .* before \S+eu-west-1\S+churn:v2 was found there$/),
    ]);
    // a version the run names no artifacts for is reported, never passed unchecked
    expect(artifactsFoundFirst({ ...run((s) => s.read(2, EU)), artifacts: [] })).toEqual([
      'v1 reached qa (churn-model-qa in us-east-1) at 00:00:00 (change 1, Creating), and the run names no artifact it needs there',
      'v2 reached qa (churn-model-qa in us-east-1) at 00:20:00 (change 6, Updating), and the run names no artifact it needs there',
      'v1 reached prod (churn-model-prod in eu-west-1) at 00:00:00 (change 3, Creating), and the run names no artifact it needs there',
      'v2 reached prod (churn-model-prod in eu-west-1) at 00:20:00 (change 8, Updating), and the run names no artifact it needs there',
    ]);
  });

  it('a pre-flight failure for an artifact that was found (a throttled lookup taken for missing) is caught', () => {
    const reason = `artifact pre-flight failed: ${pkg(2)} cannot be deployed in eu-west-1: image churn:v2 (ECR repository churn of registry 111122223333, region eu-west-1) is missing (ECR DescribeImages: ThrottlingException)`;
    const run = (lookups: (s: Stream) => Stream) => {
      const s = stream();
      s.approval(1, 'Approved').approval(2, 'Approved');
      return lookups(s)
        .decision({ version: 2, phase: 'Failed', reason })
        .run({ stages: stagesWithProdIn(EU) });
    };
    // the image answered not found in eu-west-1 before the failure: a true absence
    expect(missingMeansMissing(run((s) => s.read(2, EU, false)))).toEqual([]);
    expect(missingMeansMissing(run((s) => s.read(2, EU)))).toEqual([
      `churn-model:v2 Failed on its pre-flight in eu-west-1 though none of v2's artifacts there was answered missing: ${reason}`,
    ]);
    // not found at home, or only after the failure was saved, is not the absence the reason names
    expect(missingMeansMissing(run((s) => s.read(2, HOME, false)))).toHaveLength(1);
    const late = stream();
    late.approval(2, 'Approved').decision({ version: 2, phase: 'Failed', reason });
    // (reads are placed between changes: one applied after the failure puts the read after it)
    late.approval(3, 'Approved').read(2, EU, false);
    expect(missingMeansMissing(late.run())).toHaveLength(1);
    // any other failure is none of this invariant's business
    expect(
      missingMeansMissing(stream().decision({ version: 2, phase: 'Failed', reason: 'canary failed' }).run()),
    ).toEqual([]);
  });

  describe('rollback.earlierStages: what a rollback in prod does to QA', () => {
    const qa = { endpoint: QA, region: HOME };
    /** The canary of v2 rolled back in prod (v1 alone again at 00:34), v2 still on QA. */
    const rolledBack = () => rollbackCompletes(canaryStopped());
    /** Then QA goes back to v1 (a restore): its update starts at 00:35. */
    const qaBack = (s: Stream) => {
      const { variant: v } = s;
      return s
        .at(35)
        .endpoint('Updating', [v(2, 1)], [v(1, 1)], qa)
        .at(38)
        .endpoint('InService', [v(1, 1)], undefined, qa);
    };
    /** Where v2's Rejected is in the stream: here, as if it came from outside (or a rollback --in qa then). */
    const rejectedSeq = (s: Stream) =>
      s.changes.findIndex((c) => c.kind === 'approval' && c.status === 'Rejected');

    /**
     * The canary of v2 stopped at 00:30 with QA's restore to v1 requested then (the policy): QA's
     * update starts at once, prod is drained by 00:31, QA serves v1 at 00:33 and prod v1 alone at 00:34.
     */
    const restored = () => {
      const s = canaryStopped();
      const { variant: v } = s;
      const v2 = { version: 2, created: 20 };
      const restore = { version: 1, attempt: 2, created: 30 };
      return s
        .decision(
          { version: 1, phase: 'Succeeded' },
          { ...v2, phase: 'RollingBack' },
          { ...restore, phase: 'QaDeploying' },
        )
        .endpoint('Updating', [v(2, 1)], [v(1, 1)], qa)
        .endpoint('Updating', [v(1, 90, 100), v(2, 10, 0)])
        .at(31)
        .endpoint('InService', [v(1, 100), v(2, 0)])
        .endpoint('Updating', [v(1, 100), v(2, 0)], [v(1, 1)])
        .at(33)
        .endpoint('InService', [v(1, 1)], undefined, qa)
        .decision(
          { version: 1, phase: 'Succeeded' },
          { ...v2, phase: 'RollingBack' },
          { ...restore, phase: 'Succeeded' },
        )
        .approval(2, 'Rejected')
        .at(34)
        .endpoint('InService', [v(1, 1)])
        .decision(
          { version: 1, phase: 'Succeeded' },
          { ...v2, phase: 'RolledBack' },
          { ...restore, phase: 'Succeeded' },
        );
    };

    it('rollBack: QA still on the rolled-back version once nothing is in flight is caught', () => {
      const kept = rolledBack().at(60);
      expect(earlierStagesFollowPolicy(kept.run({ earlierStages: 'rollBack' }))).toEqual([
        'v2, rolled back in prod (on v1 at 00:31:00, change 13), still holds 100% of qa (churn-model-qa in us-east-1) at 00:20:00 (change 7) once nothing was in flight (rollback.earlierStages: rollBack)',
      ]);
      // QA taken back to v1 before everything ended passes, whenever the run is said to have settled
      expect(earlierStagesFollowPolicy(restored().run({ earlierStages: 'rollBack' }))).toEqual([]);
      expect(earlierStagesFollowPolicy(restored().run({ earlierStages: 'rollBack', settledAt: 0 }))).toEqual(
        [],
      );
      // QA moved back only after everything had ended is too late; a group that never settled
      // again is nothingStuck's business
      expect(earlierStagesFollowPolicy(qaBack(rolledBack()).run({ earlierStages: 'rollBack' }))).toHaveLength(
        1,
      );
      const unsettled = rolledBack();
      unsettled.decisions.splice(-1);
      expect(earlierStagesFollowPolicy(unsettled.run({ earlierStages: 'rollBack' }))).toEqual([]);
    });

    it('rollBack: a newer version sent to QA (whose update failed) or v2 approved anew keeps v2 there rightly', () => {
      const newer = rolledBack();
      const { variant: v } = newer;
      // v3 sent to QA before everything ended (v2's rollback ends last), its update failed
      newer.decisions.splice(-1);
      newer
        .at(40)
        .approval(3, 'Approved')
        .read(3, HOME)
        .endpoint('Updating', [v(2, 1)], [v(3, 1)], qa)
        .at(45)
        .endpoint('InService', [v(2, 1)], undefined, qa)
        .decision(
          { version: 1, phase: 'Succeeded' },
          { version: 2, phase: 'RolledBack' },
          { version: 3, phase: 'Failed' },
        );
      expect(earlierStagesFollowPolicy(newer.run({ earlierStages: 'rollBack' }))).toEqual([]);
      // v3 only after everything had ended with QA on v2 is no excuse
      const after = rolledBack();
      after
        .at(40)
        .approval(3, 'Approved')
        .read(3, HOME)
        .endpoint('Updating', [v(2, 1)], [v(3, 1)], qa);
      expect(earlierStagesFollowPolicy(after.run({ earlierStages: 'rollBack' }))).toHaveLength(1);
      const anew = rolledBack().at(40).approval(2, 'Approved');
      expect(earlierStagesFollowPolicy(anew.run({ earlierStages: 'rollBack' }))).toEqual([]);
      // an older version on QA's way is no replacement
      const older = rolledBack();
      older.endpoint('Updating', [older.variant(2, 1)], [older.variant(1, 1)], qa);
      older.endpoint('InService', [older.variant(2, 1)], undefined, qa);
      expect(earlierStagesFollowPolicy(older.run({ earlierStages: 'rollBack' }))).toHaveLength(1);
    });

    it('rollBack: prod replaced by a newer version went forward, not back', () => {
      const s = canaryStopped();
      const { variant: v } = s;
      s.endpoint('Updating', [v(1, 90), v(2, 10)], [v(2, 1)])
        .at(40)
        .endpoint('InService', [v(2, 1)]);
      expect(earlierStagesFollowPolicy(s.run({ earlierStages: 'rollBack' }))).toEqual([]);
    });

    it('keep: QA moved back with no rejection from outside nor rollback --in qa is caught', () => {
      const s = qaBack(rolledBack());
      const violation =
        'qa (churn-model-qa in us-east-1) moved back from v2 to v1 at 00:35:00 (change 17, Updating) with no rejection of v2 nor rollback --in qa (rollback.earlierStages: keep)';
      // v2's Rejected in the stream is the service's own reject after its rollback: no excuse
      expect(earlierStagesFollowPolicy(s.run())).toEqual([violation]);
      expect(earlierStagesFollowPolicy(rolledBack().run())).toEqual([]);
    });

    it('keep: a rejection from outside or an applied rollback --in qa of the version QA served allows it', () => {
      const build = (act: 'reject' | 'rollbackInQa', version: number, applied = true, early = false) => {
        const s = rolledBack();
        const seq = early ? 0 : rejectedSeq(s);
        return qaBack(s).run({ operatorActs: [{ seq, act, packageArn: pkg(version), applied }] });
      };
      expect(earlierStagesFollowPolicy(build('reject', 2))).toEqual([]);
      expect(earlierStagesFollowPolicy(build('rollbackInQa', 2))).toEqual([]);
      // refused, about another version, or before v2's approval: no excuse
      expect(earlierStagesFollowPolicy(build('rollbackInQa', 2, false))).toHaveLength(1);
      expect(earlierStagesFollowPolicy(build('reject', 1))).toHaveLength(1);
      expect(earlierStagesFollowPolicy(build('reject', 2, true, true))).toHaveLength(1);
    });
  });

  it("a change of a stage's endpoint outside the stage's region is caught", () => {
    const s = stream();
    const { variant: v } = s;
    // prod is configured in eu-west-1, yet an update lands on a churn-model-prod at home
    s.approval(1, 'Approved')
      .qaServes(1)
      .endpoint('Creating', [], [v(1, 1)], { endpoint: PROD, region: EU })
      .at(5)
      .endpoint('Creating', [], [v(1, 1)])
      .endpoint('InService', [v(1, 1)])
      .endpoint('Creating', [], [v(1, 1)], { endpoint: QA, region: EU });
    expect(stageInItsRegion(s.run({ stages: stagesWithProdIn(EU) }))).toEqual([
      "churn-model-prod changed in us-east-1 at 00:05:00 (change 4, Creating): the prod stage's is in eu-west-1",
      "churn-model-qa changed in eu-west-1 at 00:05:00 (change 6, Creating): the qa stage's is in us-east-1",
    ]);
    // the same stream is right for prod at home, but for the stray one in eu-west-1 (and QA's)
    expect(stageInItsRegion(s.run())).toEqual([
      "churn-model-prod changed in eu-west-1 at 00:00:00 (change 3, Creating): the prod stage's is in us-east-1",
      "churn-model-qa changed in eu-west-1 at 00:05:00 (change 6, Creating): the qa stage's is in us-east-1",
    ]);
    // an endpoint no stage names is none of this invariant's business
    const other = stream().endpoint('InService', [v(1, 1)], undefined, { endpoint: 'other', region: EU });
    expect(stageInItsRegion(other.run())).toEqual([]);
  });
});
