import {
  CreateModelPackageCommand,
  DescribePipelineExecutionCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import fc from 'fast-check';
import { isTerminal } from '../../src/domain/model';
import { TransientError } from '../../src/errors';
import type {
  AppliedChange,
  CallRecord,
  CloudEvent,
  EndpointChange,
  VariantRecord,
} from '../../src/local/cloud';
import type { StateStore } from '../../src/ports/state-store';
import { deps, setDeps } from '../../src/wiring';
import { crashSwitch } from './crash-injection';
import {
  type EarlierStages,
  exposure,
  type Limits,
  type NeededArtifact,
  type OperatorAct,
  qaOnProdRollbacks,
  type RunRecord,
  type SavedDecision,
  type SentAnswer,
  type StagePlace,
} from './fault-model-oracle';
import { localConfigVariant } from './helpers';
import { ECR_EU, ECR_HOME, EU, placeProdInEu } from './prod-in-eu';
import { MINUTE, type Rollouts, startRollouts } from './rollout-harness';

/**
 * One run of the fault model: the real handlers, use cases and executor against the local cloud
 * while SageMaker throttles, fails with 500s, answers slowly, duplicates endpoint events, events are
 * held back and delivered late in reverse order, a handler dies right after any write, the
 * configuration loses canary steps mid-canary, alarms fire, operators intervene and pipelines ask
 * for deployments through callback steps and are stopped. With prod in eu-west-1, the pre-flight's
 * lookups (S3 HeadObject, ECR DescribeImages) are throttled, fail and answer slowly too. Faults then
 * stop and the run must settle.
 * What it returns (the local cloud's stream of applied changes, the saved decisions placed in it,
 * the answers sent) is what `fault-model-oracle.ts` checks.
 */

export const GROUP = 'churn-model';
export const PROD = 'churn-model-prod';
const ALARM = 'churn-model-prod-business-kpi';

/**
 * Where the group's stages are: both in the service's region (the local config), or prod in
 * eu-west-1, where each version's image and model data are replicated (the stage's `artifacts`).
 */
export type World = 'home' | 'prodInEu';

/** The local config, with prod moved to eu-west-1 and the group's `rollback.earlierStages` set as asked. */
const configOf = (world: World, earlierStages: EarlierStages): string | undefined =>
  world === 'home' && earlierStages === 'keep'
    ? undefined
    : localConfigVariant((config) => {
        if (world === 'prodInEu') placeProdInEu(config);
        if (earlierStages === 'rollBack') config.modelPackageGroups[GROUP].rollback = { earlierStages };
      });

/** The stages as the service runs them: each one's endpoint and region. */
const stagesOf = (): StagePlace[] => {
  const { qa, prod } = deps().config.modelPackageGroups[GROUP]!.stages;
  return [
    { stage: 'qa', endpoint: qa.endpointName, region: qa.region ?? deps().region },
    { stage: 'prod', endpoint: prod.endpointName, region: prod.region ?? deps().region },
  ];
};

/** Throttling and 5xx as each service answers them (S3: 503 SlowDown, 500 InternalError; ECR: ServerException). */
export type FaultCode =
  | 'ThrottlingException'
  | 'InternalFailure'
  | 'SlowDown'
  | 'InternalError'
  | 'ServerException';

export type Action =
  | { type: 'ship'; errorRate: number }
  /** Calls of the operation fail `times` times (only those sent to `region`, when it is given). */
  | { type: 'fault'; operation: string; error: FaultCode; times: number; region?: string | undefined }
  | { type: 'slow'; operation: string; latencyMs: number; times: number; region?: string | undefined }
  | { type: 'alarm'; on: boolean }
  | { type: 'command'; verb: 'abort' | 'promote' | 'pause' | 'resume' | 'rollback'; full: boolean }
  /** An operator sends `rollback <deployment of the version QA serves> --in qa`. */
  | { type: 'rollbackInQa' }
  | { type: 'fewerSteps' }
  | { type: 'crash'; afterWrites: number }
  | { type: 'reorder'; minutes: number }
  | { type: 'pipeline' }
  | { type: 'stopPipeline' }
  /** Someone rejects the newest Approved version in the registry (never v1, the baseline every run starts from). */
  | { type: 'reject' }
  /** Someone edits the metadata of the newest Rejected package (of the newest one if none is). */
  | { type: 'editMetadata' }
  | { type: 'wait'; minutes: number };

/** Operations only the service sends (the test's own registry and bus calls stay reliable). */
const writes = [
  'UpdateEndpoint',
  'UpdateEndpointWeightsAndCapacities',
  'CreateEndpointConfig',
  'CreateModel',
  'DescribeEndpoint',
  'DeleteEndpointConfig',
  'GetMetricData',
  'DescribeAlarms',
];

/** The pre-flight's lookups, with the throttling and 5xx codes each service answers. */
const LOOKUP_FAULTS: Record<string, FaultCode[]> = {
  HeadObject: ['SlowDown', 'InternalError'],
  DescribeImages: ['ThrottlingException', 'ServerException'],
};
const LOOKUPS = Object.keys(LOOKUP_FAULTS);

const ship = fc.record({ type: fc.constant('ship' as const), errorRate: fc.constantFrom(0, 0.3) });

/** Where a lookup fault strikes: any region (QA's lookups at home meet it first), or eu-west-1 only. */
const lookupRegion = fc.constantFrom(undefined, EU);

/**
 * A lookup throttled or failing (often more times than the SDK's own 3 attempts, so the executor
 * retries the step), or slow.
 */
const lookupFault: fc.Arbitrary<Action> = fc.constantFrom(...LOOKUPS).chain((operation) =>
  fc.record({
    type: fc.constant('fault' as const),
    operation: fc.constant(operation),
    error: fc.constantFrom(...(LOOKUP_FAULTS[operation] ?? [])),
    times: fc.integer({ min: 1, max: 8 }),
    region: lookupRegion,
  }),
);
const slowLookup: fc.Arbitrary<Action> = fc.record({
  type: fc.constant('slow' as const),
  operation: fc.constantFrom(...LOOKUPS),
  latencyMs: fc.integer({ min: 1, max: 20 }),
  times: fc.integer({ min: 1, max: 3 }),
  region: lookupRegion,
});

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: ship },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('fault' as const),
      operation: fc.constantFrom(...writes),
      error: fc.constantFrom('ThrottlingException' as const, 'InternalFailure' as const),
      times: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('slow' as const),
      operation: fc.constantFrom(...writes),
      latencyMs: fc.integer({ min: 1, max: 20 }),
      times: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('alarm' as const), on: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('command' as const),
      verb: fc.constantFrom(
        'abort' as const,
        'promote' as const,
        'pause' as const,
        'resume' as const,
        'rollback' as const,
      ),
      full: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('fewerSteps' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('crash' as const),
      afterWrites: fc.integer({ min: 1, max: 12 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('reorder' as const), minutes: fc.integer({ min: 1, max: 20 }) }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('pipeline' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('stopPipeline' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('editMetadata' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('reject' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 25 }) }),
  },
);

/**
 * Sequences open with a healthy version that reaches prod (an approval, then long enough for QA and
 * prod), so that every run ships and later approvals go through a canary against a baseline.
 */
const opening: fc.Arbitrary<Action[]> = fc
  .tuple(fc.integer({ min: 15, max: 20 }), fc.array(action, { minLength: 3, maxLength: 12 }))
  .map(([minutes, rest]): Action[] => [{ type: 'ship', errorRate: 0 }, { type: 'wait', minutes }, ...rest]);

/**
 * A write of the service's failing in eu-west-1 only, so that it is prod's regional client that
 * meets it (a fault in every region is mostly spent on QA's calls at home first): CreateModel from
 * the images and model data mapped there above all.
 */
const regionalWriteFault: fc.Arbitrary<Action> = fc.record({
  type: fc.constant('fault' as const),
  operation: fc.constantFrom('CreateModel', ...writes),
  error: fc.constantFrom('ThrottlingException' as const, 'InternalFailure' as const),
  times: fc.integer({ min: 1, max: 6 }),
  region: fc.constant(EU),
});

/** Some of `faults`, each put at a drawn place after the first approval. */
const placed = (faults: fc.Arbitrary<Action>, maxLength: number, minLength = 1) =>
  fc.array(fc.tuple(fc.nat(), faults), { minLength, maxLength });

/** `extra` actions put among `base`, each at its drawn place after the first approval. */
const placeAmong = (base: Action[], extra: [number, Action][]): Action[] => {
  const merged = [...base];
  for (const [at, action] of extra) merged.splice(1 + (at % merged.length), 0, action);
  return merged;
};

/** A run: the group's policy for QA when prod rolls a version back, and what happens. */
export interface Sequence {
  earlierStages: EarlierStages;
  actions: Action[];
}

/** Up to two `rollback --in qa` (applied only when QA serves a version prod does not). */
const qaRollbacks = placed(fc.constant<Action>({ type: 'rollbackInQa' }), 2, 0);
const policy = fc.constantFrom<EarlierStages>('keep', 'rollBack');

/**
 * The sequences of a world. With prod in eu-west-1, faults of the pre-flight's lookups and of the
 * writes sent there are put among the actions, anywhere after the first approval, and so are the
 * operators' `rollback --in qa`; the group's `rollback.earlierStages` is drawn last. The actions
 * themselves are drawn first, as in the service's region, so a seed's sequences keep what they
 * exercised before.
 */
export const sequencesFor = (world: World): fc.Arbitrary<Sequence> =>
  world === 'home'
    ? fc.tuple(opening, qaRollbacks, policy).map(([base, rollbacks, earlierStages]) => ({
        earlierStages,
        actions: placeAmong(base, rollbacks),
      }))
    : fc
        .tuple(
          opening,
          placed(fc.oneof({ weight: 2, arbitrary: lookupFault }, { weight: 1, arbitrary: slowLookup }), 4),
          placed(regionalWriteFault, 3),
          qaRollbacks,
          policy,
        )
        .map(([base, lookups, writesThere, rollbacks, earlierStages]) => ({
          earlierStages,
          actions: placeAmong(base, [...lookups, ...writesThere, ...rollbacks]),
        }));

/**
 * How long a deployment may stay in flight: the group's documented timeouts (the canary's
 * `maxDurationMinutes`, the callback task's `taskTimeoutMinutes`, a manual approval's
 * `approvalTimeoutMinutes`) plus an hour for QA, the prod update, the rollback and the faults.
 */
export const limitsFor = (group: string): Limits => {
  const config = deps().config.modelPackageGroups[group]!;
  const strategy = config.stages.prod.strategy;
  const minutes = Math.max(
    strategy.type === 'canary' ? (strategy.maxDurationMinutes ?? 0) : 0,
    config.callback.taskTimeoutMinutes,
    config.promotion.mode === 'manual' ? config.promotion.approvalTimeoutMinutes : 0,
  );
  const deploymentMs = (minutes + 60) * MINUTE;
  return { deploymentMs, settleMs: deploymentMs };
};

/** Events SageMaker sends that the service's rules deliver (held back and reordered by 'reorder'). */
const SAGEMAKER_EVENTS = ['SageMaker Endpoint State Change', 'SageMaker Model Package State Change'];

/** Delivers events again, late and in reverse order, to every function whose rule matches. */
const deliverReversed = async (r: Rollouts, events: CloudEvent[]): Promise<void> => {
  for (const event of [...events].reverse()) {
    for (const rule of r.stack.wiring.eventRules) {
      const types = rule.pattern['detail-type'];
      if (rule.bus !== 'default' || !Array.isArray(types) || !types.includes(event['detail-type'])) continue;
      // a failed delivery is not retried here: the tick must reconcile what it missed
      await r.stack.invoke(rule.functionName, event, `late ${event['detail-type']}`).catch(() => undefined);
    }
  }
  await r.stack.settle();
};

/** Places every group record the service saves in the local cloud's stream of changes. */
const recordDecisions = (r: Rollouts, decisions: SavedDecision[]): void => {
  const store = deps().store;
  const saving: StateStore = {
    ...store,
    saveGroup: async (state) => {
      const saved = await store.saveGroup(state);
      decisions.push({
        seq: r.stack.cloud.changes.length,
        deployments: saved.deployments.map((d) => ({
          id: d.id,
          version: d.version,
          trigger: d.trigger,
          targetStage: d.targetStage,
          phase: d.phase,
          phaseSince: d.phaseSince,
          createdAt: d.createdAt,
          reason: d.reason,
        })),
      });
      return saved;
    },
  };
  setDeps({ ...deps(), store: saving });
};

const sentAnswers = (r: Rollouts): SentAnswer[] =>
  r.stack.cloud.calls.flatMap((c) =>
    (c.operation === 'SendPipelineExecutionStepSuccess' ||
      c.operation === 'SendPipelineExecutionStepFailure') &&
    c.tokens?.callbackToken
      ? [
          {
            token: c.tokens.callbackToken,
            kind: c.operation.endsWith('Success') ? ('success' as const) : ('failure' as const),
            clientRequestToken: c.tokens.clientRequestToken,
            accepted: c.error === undefined,
          },
        ]
      : [],
  );

/** What the runs exercised: a model test whose faults never happen proves nothing. */
export interface Exercised {
  stoppedWithTraffic: number;
  rejections: number;
  settled: number;
  crashes: number;
  lateEvents: number;
  tokens: number;
  answeredFailure: number;
  deployments: number;
  /** Endpoint changes applied outside the service's region (a stage in another region). */
  awayFromHome: number;
  /** Pre-flight lookups (S3 HeadObject, ECR DescribeImages) a fault answered. */
  lookupFaults: number;
  /** Calls sent outside the service's region (a stage's regional clients) that a fault answered. */
  awayFaults: number;
  /** Of those, CreateModel calls (a model made from the images and model data mapped there). */
  awayModelFaults: number;
  /** Executor steps retried because a pre-flight lookup failed (past the SDK's own retries). */
  preflightRetries: number;
  /** Rollbacks in prod of a version QA held, with `rollBack`, after which QA no longer held it. */
  earlierStagesRolledBack: number;
  /** The same with `keep`, after which QA still held it. */
  earlierStagesKept: number;
  /** `rollback --in qa` the control function applied. */
  qaRollbacksApplied: number;
  /** UpdateEndpoint calls to QA's endpoint a fault answered while a QA restore was in flight. */
  qaRestoreFaults: number;
}

export const noneExercised = (): Exercised => ({
  stoppedWithTraffic: 0,
  rejections: 0,
  settled: 0,
  crashes: 0,
  lateEvents: 0,
  tokens: 0,
  answeredFailure: 0,
  deployments: 0,
  awayFromHome: 0,
  lookupFaults: 0,
  awayFaults: 0,
  awayModelFaults: 0,
  preflightRetries: 0,
  earlierStagesRolledBack: 0,
  earlierStagesKept: 0,
  qaRollbacksApplied: 0,
  qaRestoreFaults: 0,
});

/** A bug planted for one run: called once the stack runs, before the first action. */
export type Plant = (r: Rollouts) => void;

export interface PlayResult {
  run: RunRecord;
  /** The limits of the configuration the run deployed with. */
  limits: Limits;
  exercised: Exercised;
}

/**
 * A version as CI registers it in the eu-west-1 world: its own image and model data at home,
 * replicated to eu-west-1. Returns the package and the image its model runs in eu-west-1.
 */
const registerReplicated = async (
  r: Rollouts,
  version: number,
  errorRate: number,
): Promise<{ packageArn: string; euImage: string; euData: string }> => {
  const home = {
    Image: `${ECR_HOME}:v${version}`,
    ModelDataUrl: `s3://models-use1/churn/v${version}/model.tar.gz`,
  };
  const euImage = `${ECR_EU}:v${version}`;
  const euData = `s3://models-euw1/churn/v${version}/model.tar.gz`;
  // the replica behaves as the version does (a model made from it does not read the package)
  r.stack.cloud.inRegion(EU).sagemaker.imageBehaviour.set(euImage, { 'sim.errorRate': String(errorRate) });
  r.stack.cloud.seedArtifacts([home]);
  r.stack.cloud.seedArtifacts([{ Image: euImage, ModelDataUrl: euData }], EU);
  const out = await r.sm.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: GROUP,
      CustomerMetadataProperties: { 'sim.errorRate': String(errorRate) },
      InferenceSpecification: {
        Containers: [home],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      ModelApprovalStatus: 'PendingManualApproval',
    }),
  );
  return { packageArn: out.ModelPackageArn!, euImage, euData };
};

/** The artifacts a package names (its containers' images and model data), as its own region finds them. */
const packageArtifactsAtHome = (r: Rollouts, packageArn: string): NeededArtifact[] => {
  const found = r.stack.cloud.registry.find(packageArn);
  const containers = (found?.inferenceSpecification?.Containers ?? []) as {
    Image?: string;
    ModelDataUrl?: string;
  }[];
  return containers.flatMap((c) =>
    [c.Image, c.ModelDataUrl].flatMap((uri) =>
      uri ? [{ packageArn, region: r.stack.cloud.region, uri }] : [],
    ),
  );
};

/** Codes of the faults the model injects: a call answered with one of them met a fault. */
const INJECTED = new Set<string>([
  'ThrottlingException',
  'InternalFailure',
  ...Object.values(LOOKUP_FAULTS).flat(),
]);

/**
 * A model made from images (outside the registry's region) names no package: each of its variants
 * is given the package whose replicated image it runs. An image of no version is an error.
 */
const attributePackages = (
  changes: readonly AppliedChange[],
  byImage: Map<string, string>,
): AppliedChange[] => {
  const attribute = (v: VariantRecord): VariantRecord => {
    if (v.packageArn !== undefined || !v.images) return v;
    const packages = new Set(v.images.map((image) => byImage.get(image)));
    const [packageArn] = packages;
    if (packages.size !== 1 || packageArn === undefined)
      throw new Error(
        `variant ${v.name} (model ${v.modelName}) runs ${v.images.join(', ')}: no one version's images`,
      );
    return { ...v, packageArn };
  };
  return changes.map((c) =>
    c.kind === 'approval'
      ? c
      : c.kind === 'config'
        ? { ...c, variants: c.variants.map(attribute) }
        : {
            ...c,
            variants: c.variants.map(attribute),
            ...(c.pending ? { pending: { ...c.pending, variants: c.pending.variants.map(attribute) } } : {}),
          },
  );
};

export const play = async (
  actions: Action[],
  options: { plant?: Plant; world?: World; earlierStages?: EarlierStages } = {},
): Promise<PlayResult> => {
  const crashes = crashSwitch();
  const world = options.world ?? 'home';
  const earlierStages = options.earlierStages ?? 'keep';
  const configPath = configOf(world, earlierStages);
  const r = await startRollouts({
    duplicateEventRate: 0.3,
    seed: 7,
    onRecord: crashes.onRecord,
    ...(configPath ? { configPath } : {}),
  });
  const exercised = noneExercised();
  // the test reads the table directly: a crashed handler's store refuses every call
  const store = deps().store;
  crashes.install(r.stack);
  const decisions: SavedDecision[] = [];
  recordDecisions(r, decisions);
  options.plant?.(r);
  const limits = limitsFor(GROUP);
  const stages = stagesOf();
  const prodRegion = r.stack.cloud.inRegion(stages[1]!.region);
  const packages: string[] = [];
  /** In the eu-west-1 world: each version's image there, to the version's package. */
  const packageOfImage = new Map<string, string>();
  /** What each version needs in each stage's region. */
  const needed: NeededArtifact[] = [];
  const ship = async (errorRate: number): Promise<string> => {
    if (world === 'home') {
      const packageArn = await r.registerAndApprove(GROUP, { 'sim.errorRate': String(errorRate) });
      needed.push(...packageArtifactsAtHome(r, packageArn));
      return packageArn;
    }
    const { packageArn, euImage, euData } = await registerReplicated(r, packages.length + 1, errorRate);
    packageOfImage.set(euImage, packageArn);
    needed.push(
      ...packageArtifactsAtHome(r, packageArn),
      { packageArn, region: EU, uri: euImage },
      { packageArn, region: EU, uri: euData },
    );
    await r.approve(packageArn);
    return packageArn;
  };
  const executions: string[] = [];
  const operatorActs: OperatorAct[] = [];
  const current = async () => {
    const state = await store.loadGroup(GROUP);
    return state?.deployments.filter((d) => !isTerminal(d.phase)).at(-1)?.id;
  };
  try {
    await r.createGroup(GROUP);
    prodRegion.traffic.set(PROD, 600);
    const state: PlayState = {
      packages,
      executions,
      operatorActs,
      current,
      qaServed: async () => {
        const state = await store.loadGroup(GROUP);
        const qa = state?.qa;
        const latest = state?.deployments.filter((d) => d.version === qa?.version).at(-1);
        return qa && latest ? { deploymentId: latest.id, packageArn: qa.packageArn } : undefined;
      },
      exercised,
      armCrash: (k) => crashes.arm(k),
      ship,
      setAlarm: (on) => prodRegion.cloudwatch.setAlarmState(ALARM, on ? 'ALARM' : 'OK'),
    };
    for (const a of actions) await perform(r, a, state);
    // faults end; everything in flight must end, within the documented timeouts
    crashes.arm(0);
    r.stack.cloud.faults.clear();
    state.setAlarm(false);
    const faultsEndedAt = r.stack.cloud.clock.now();
    let settledAt: number | undefined;
    const settled = async () => {
      const state = await store.loadGroup(GROUP);
      if (!state?.deployments.every((d) => isTerminal(d.phase))) return false;
      const ep = prodRegion.sagemaker.endpoints.get(PROD);
      const alone = state.prod
        ? ep?.status === 'InService' &&
          ep.variants.length === 1 &&
          ep.variants[0]!.name === state.prod.variantName &&
          ep.variants[0]!.currentWeight > 0
        : ep === undefined;
      if (alone) settledAt ??= r.stack.cloud.clock.now();
      return alone;
    };
    await r.stack.run(limits.settleMs, settled);
    await settled();
    // a while longer: a late stray change after settling is a violation too
    await r.stack.run(30 * MINUTE);

    const run: RunRecord = {
      stages,
      earlierStages,
      operatorActs,
      changes: attributePackages(r.stack.cloud.changes, packageOfImage),
      reads: r.stack.cloud.artifactReads,
      artifacts: needed,
      decisions,
      tokens: r.stack.cloud.pipelines.tokens(),
      answers: sentAnswers(r),
      endedAt: r.stack.cloud.clock.now(),
      faultsEndedAt,
      settledAt,
    };
    exercised.crashes += crashes.crashes();
    exercised.tokens += run.tokens.length;
    exercised.answeredFailure += run.answers.filter((a) => a.accepted && a.kind === 'failure').length;
    exercised.deployments += run.changes.filter((c) => c.kind === 'endpoint' && c.pending).length;
    exercised.rejections += run.changes.filter(
      (c) => c.kind === 'approval' && c.status === 'Rejected',
    ).length;
    exercised.awayFromHome += run.changes.filter(
      (c) => c.kind === 'endpoint' && c.region !== deps().region,
    ).length;
    exercised.settled += settledAt === undefined ? 0 : 1;
    exercised.lookupFaults += r.stack.cloud.calls.filter(
      (c) => LOOKUPS.includes(c.operation) && c.error !== undefined && INJECTED.has(c.error),
    ).length;
    const awayFaults = r.stack.cloud.calls.filter(
      (c) => c.region !== deps().region && c.error !== undefined && INJECTED.has(c.error),
    );
    exercised.awayFaults += awayFaults.length;
    exercised.awayModelFaults += awayFaults.filter((c) => c.operation === 'CreateModel').length;
    exercised.preflightRetries += r.stack.records.filter(
      (x) =>
        x.kind === 'log' &&
        x.message === 'endpoint change will be retried' &&
        /(S3 HeadObject|ECR DescribeImages) .* failed/.test(String(x.extra?.error)),
    ).length;
    exercised.stoppedWithTraffic += stoppedWithTraffic(run);
    for (const back of qaOnProdRollbacks(run)) {
      if (!back.qaHeld) continue;
      if (earlierStages === 'rollBack' && !back.qaHoldsWhenIdle) exercised.earlierStagesRolledBack += 1;
      if (earlierStages === 'keep' && back.qaHoldsWhenIdle) exercised.earlierStagesKept += 1;
    }
    exercised.qaRollbacksApplied += operatorActs.filter((o) => o.act === 'rollbackInQa' && o.applied).length;
    exercised.qaRestoreFaults += qaRestoreFaults(run, r.stack.cloud.calls);
    return { run, limits, exercised };
  } finally {
    await r.close();
  }
};

/** Deployments stopped while their version held traffic on prod (what the stop invariant is about). */
const stoppedWithTraffic = (run: RunRecord): number => {
  const { endpoint, region } = run.stages.at(-1)!;
  const prod = run.changes.filter(
    (c): c is EndpointChange => c.kind === 'endpoint' && c.endpoint === endpoint && c.region === region,
  );
  const stopped = new Set<string>();
  let count = 0;
  for (const decision of run.decisions) {
    for (const d of decision.deployments) {
      if (
        stopped.has(d.id) ||
        !(d.phase === 'RollingBack' || (isTerminal(d.phase) && d.phase !== 'Succeeded'))
      )
        continue;
      stopped.add(d.id);
      const before = prod.findLast((c) => c.seq < decision.seq);
      const packageArn = before?.variants.find((v) => v.packageArn?.endsWith(`/${d.version}`))?.packageArn;
      if (packageArn && exposure(before, packageArn) > 0) count += 1;
    }
  }
  return count;
};

/** UpdateEndpoint calls to QA's endpoint a fault answered while a QA-only restore was in flight. */
const qaRestoreFaults = (run: RunRecord, calls: readonly CallRecord[]): number => {
  const qa = run.stages[0]!;
  const restores = new Map<string, { from: number; to: number }>();
  for (const decision of run.decisions)
    for (const d of decision.deployments)
      if (d.trigger === 'restore' && d.targetStage === 'qa')
        restores.set(d.id, { from: d.createdAt, to: isTerminal(d.phase) ? d.phaseSince : run.endedAt });
  return calls.filter(
    (c) =>
      c.operation === 'UpdateEndpoint' &&
      c.region === qa.region &&
      c.names?.EndpointName === qa.endpoint &&
      c.error !== undefined &&
      INJECTED.has(c.error) &&
      [...restores.values()].some((w) => c.at >= w.from && c.at <= w.to),
  ).length;
};

interface PlayState {
  packages: string[];
  executions: string[];
  /** Rejections and `rollback --in qa` sent, placed in the stream. */
  operatorActs: OperatorAct[];
  /** The deployment of the version QA serves (latest attempt), if QA serves one. */
  qaServed: () => Promise<{ deploymentId: string; packageArn: string } | undefined>;
  current: () => Promise<string | undefined>;
  armCrash: (afterWrites: number) => void;
  exercised: Exercised;
  /** Registers and approves a version (its artifacts where the stages find them). */
  ship: (errorRate: number) => Promise<string>;
  /** Sets the business alarm, in the prod stage's region. */
  setAlarm: (on: boolean) => void;
}

const perform = async (r: Rollouts, a: Action, s: PlayState): Promise<void> => {
  switch (a.type) {
    case 'ship':
      s.packages.push(await s.ship(a.errorRate));
      return;
    case 'fault':
      r.stack.cloud.faults.add({
        operation: a.operation,
        error: a.error,
        times: a.times,
        ...(a.region ? { region: a.region } : {}),
      });
      return;
    case 'slow':
      r.stack.cloud.faults.add({
        operation: a.operation,
        latencyMs: a.latencyMs,
        times: a.times,
        ...(a.region ? { region: a.region } : {}),
      });
      return;
    case 'alarm':
      s.setAlarm(a.on);
      return;
    case 'command': {
      const id = await s.current();
      if (!id) return;
      const send = () =>
        r.command(a.verb, id, 'model test', a.verb === 'promote' && a.full ? { full: true } : {});
      // a control function that died answers 502: the operator sends the command again
      await send().catch(async (error: unknown) => {
        if (!(error instanceof TransientError)) throw error;
        await send();
      });
      return;
    }
    case 'fewerSteps': {
      // the configuration is replaced (never edited in place: it is cached across stacks)
      const config = structuredClone(deps().config);
      const strategy = config.modelPackageGroups[GROUP]!.stages.prod.strategy;
      if (strategy.type === 'canary') strategy.steps.splice(1);
      setDeps({ ...deps(), config });
      return;
    }
    case 'crash':
      s.armCrash(a.afterWrites);
      return;
    case 'reorder': {
      const from = r.stack.cloud.events.published.length;
      for (const rule of r.stack.wiring.eventRules.filter((rule) => rule.bus === 'default'))
        await r.setDelivery(rule.functionName, false);
      await r.stack.run(a.minutes * MINUTE);
      for (const rule of r.stack.wiring.eventRules.filter((rule) => rule.bus === 'default'))
        await r.setDelivery(rule.functionName, true);
      const held = r.stack.cloud.events.published
        .slice(from)
        .filter((e) => SAGEMAKER_EVENTS.includes(e['detail-type']));
      s.exercised.lateEvents += held.length;
      await deliverReversed(r, held);
      return;
    }
    case 'pipeline': {
      const modelPackageArn = s.packages.at(-1);
      if (!modelPackageArn) return;
      r.stack.cloud.pipelines.define({
        name: 'train-and-deploy',
        callbackQueueUrl: r.stack.queueUrls.CallbackQueue!,
        callbackArguments: { task: 'deploy', modelPackageArn, stage: 'prod' },
      });
      const started = await r.sm.send(
        new StartPipelineExecutionCommand({ PipelineName: 'train-and-deploy' }),
      );
      s.executions.push(started.PipelineExecutionArn!);
      await r.stack.settle();
      return;
    }
    case 'stopPipeline': {
      const arn = s.executions.pop();
      if (!arn) return;
      const execution = await r.sm.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: arn }));
      if (execution.PipelineExecutionStatus === 'Executing')
        await r.sm.send(new StopPipelineExecutionCommand({ PipelineExecutionArn: arn }));
      await r.stack.settle();
      return;
    }
    case 'reject': {
      const arn = s.packages
        .slice(1)
        .filter((arn) => r.stack.cloud.registry.find(arn)?.approvalStatus === 'Approved')
        .at(-1);
      if (!arn) return;
      s.operatorActs.push({
        seq: r.stack.cloud.changes.length,
        act: 'reject',
        packageArn: arn,
        applied: true,
      });
      await r.sm.send(
        new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Rejected' }),
      );
      await r.stack.settle();
      return;
    }
    case 'rollbackInQa': {
      const qa = await s.qaServed();
      if (!qa) return;
      const seq = r.stack.cloud.changes.length;
      const send = () => r.command('rollback', qa.deploymentId, 'model test', { stage: 'qa' });
      // a control function that died after its write answers 502: sent again, the command is then
      // refused though the first one was applied, so a died attempt counts as applied
      let died = false;
      const reply = await send().catch(async (error: unknown) => {
        if (!(error instanceof TransientError)) throw error;
        died = true;
        return send();
      });
      s.operatorActs.push({
        seq,
        act: 'rollbackInQa',
        packageArn: qa.packageArn,
        applied: died || reply.outcome === 'applied',
      });
      return;
    }
    case 'editMetadata': {
      const rejected = s.packages.filter(
        (arn) => r.stack.cloud.registry.find(arn)?.approvalStatus === 'Rejected',
      );
      const arn = rejected.at(-1) ?? s.packages.at(-1);
      if (!arn) return;
      await r.sm.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: arn,
          CustomerMetadataProperties: { note: `edited at ${r.stack.cloud.clock.now()}` },
        }),
      );
      await r.stack.settle();
      return;
    }
    case 'wait':
      await r.stack.run(a.minutes * MINUTE);
      return;
  }
};
