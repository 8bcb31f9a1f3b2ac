import type { RunStage, StageGraph } from '../domain/stage-graph';
import * as z from '../zod';
import { type PreTrafficConfig, preTrafficSchema, shadowSchema } from './pre-traffic-schema';
import { endpointIssues, groupStageIssues, runGroup } from './stage-checks';

/** SageMaker resource names: endpoint, config, variant, group, lifecycle stage. */
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const sageMakerName = z
  .string()
  .check(
    z.regex(SAGEMAKER_NAME, 'must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen'),
  );

const roleArn = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/, 'must be an IAM role ARN'));

/** An integer in [min, max]. */
const int = (min: number, max?: number) =>
  max === undefined ? z.int().check(z.minimum(min)) : z.int().check(z.minimum(min), z.maximum(max));
/** A number in [min, max]. */
const num = (min: number, max?: number) =>
  max === undefined ? z.number().check(z.minimum(min)) : z.number().check(z.minimum(min), z.maximum(max));
/** A string of min..max characters. */
const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));

const crossAccountSchema = z.strictObject({
  /** the role that changes the stage's endpoints: assumed by the executor alone */
  roleArn,
  /**
   * a read-only role in the same account (DescribeEndpoint, InvokeEndpoint, GetMetricData,
   * DescribeAlarms) for the functions that decide: required (checked with the group), so that
   * they never hold the deployer role
   */
  observerRoleArn: z.optional(roleArn),
  externalId: z.optional(text(2, 1224)),
  sessionName: z.optional(text(2, 64)),
});

const smokeTestSchema = z.strictObject({
  contentType: z._default(z.string(), 'application/json'),
  accept: z.optional(z.string()),
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
  /** Response must contain this text. */
  expectBodyContains: z.optional(z.string()),
});

const serverlessSchema = z.strictObject({
  memorySizeInMB: z.union([
    z.literal(1024),
    z.literal(2048),
    z.literal(3072),
    z.literal(4096),
    z.literal(5120),
    z.literal(6144),
  ]),
  maxConcurrency: int(1, 200),
  provisionedConcurrency: z.optional(int(1, 200)),
});

const capacitySchema = z.strictObject({
  instanceType: z.optional(
    z
      .string()
      .check(z.regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a SageMaker instance type such as ml.m5.large')),
  ),
  instanceCount: z.optional(int(1, 100)),
  serverless: z.optional(serverlessSchema),
});

/** `s3://bucket/` and an optional key prefix (bucket names as S3 allows them). */
const s3Prefix = z
  .string()
  .check(
    z.regex(
      /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S*$/,
      'must be an S3 URI prefix such as s3://models-euw1/fraud/ (s3://, a bucket name, /, then an optional key prefix)',
    ),
  );
/** An ECR repository URI, without tag or digest. */
export const ECR_REPOSITORY =
  /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?\/((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$/;
const ecrRepository = z
  .string()
  .check(
    z.regex(
      ECR_REPOSITORY,
      'must be an ECR repository URI such as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud (no tag or digest)',
    ),
  );
const mappings = <T extends z.ZodMiniType<string>>(location: T) =>
  z.array(z.strictObject({ from: location, to: location })).check(z.maxLength(50));

/**
 * Where the stage's region finds a version's artifacts, for the replication the user already runs:
 * the package's S3 prefixes and ECR repositories, each mapped to its copy there. Checked before any
 * endpoint change (HeadObject, DescribeImages); unmapped ones are looked for where the package names them.
 */
const artifactsSchema = z.strictObject({
  s3: z._default(mappings(s3Prefix), []),
  ecr: z._default(mappings(ecrRepository), []),
});

const stageBaseSchema = z.strictObject({
  endpointName: sageMakerName,
  ...capacitySchema.shape,
  crossAccount: z.optional(crossAccountSchema),
  smokeTest: z.optional(smokeTestSchema),
  artifacts: z.optional(artifactsSchema),
});

const canaryStepSchema = z.strictObject({
  /** Percent of traffic sent to the candidate during this step (exclusive of 0 and 100). */
  weight: z.number().check(z.gt(0), z.lt(100)),
  bakeMinutes: num(1, 7 * 24 * 60),
});

/** Gate fields of earlier versions, with what to write instead. */
export const RETIRED_GATE_FIELDS: Record<string, string> = {
  maxErrorRateRatio:
    'removed: the candidate is now compared with the baseline by a sequential test; write detectErrorRatio (the 5XX regression to catch, e.g. 2) and alpha (the false-rollback rate, default 0.01) instead',
  maxLatencyMs:
    'removed: latency is judged relative to the baseline (maxLatencyRatio); for an absolute limit, list a CloudWatch alarm on ModelLatency under alarms',
};

export const canaryGatesSchema = z
  .strictObject({
    /** Probability of rolling back a candidate no worse than the baseline, over the whole canary. */
    alpha: z._default(z.number().check(z.gt(0), z.maximum(0.2)), 0.01),
    /** The candidate/baseline 5XX rate ratio the error test is tuned to catch. */
    detectErrorRatio: z._default(z.number().check(z.gt(1), z.maximum(100)), 2),
    /** Absolute ceiling: evidence that the candidate's 5XX rate is above this fails the gate. */
    maxErrorRate: z._default(z.number().check(z.gt(0), z.maximum(1)), 0.05),
    /** Tolerated latency: the candidate may be up to this many times slower than the baseline. */
    maxLatencyRatio: z._default(num(1, 100), 1.2),
    /**
     * ModelLatency statistic compared minute by minute. Only order statistics: for them the chance
     * that a candidate no slower reads slower is known from the two sample sizes alone; for an
     * Average it depends on the latency distribution, so no test on it can promise alpha.
     */
    latencyStatistic: z._default(
      z.enum(['p50', 'p90', 'p99', 'Maximum'], {
        error: (issue) =>
          issue.input === 'Average'
            ? "Average is not supported: whether a small sample's average reads above a large one's depends on the latency distribution, so no test on it keeps alpha; use p50, p90, p99 or Maximum"
            : 'must be one of p50, p90, p99, Maximum',
      }),
      'p99',
    ),
    /** Candidate requests (whole canary) before a step may pass; default: 3 / maxErrorRate (rule of three). */
    minInvocations: z.optional(int(0)),
    /** Minutes CloudWatch may take to complete a minute's datapoints; newer minutes are not judged. */
    ingestionLagMinutes: z._default(int(0, 15), 3),
    noData: z.prefault(
      z.strictObject({
        action: z._default(z.enum(['extend', 'fail', 'pass']), 'extend'),
        /** With `extend`: how many times a bake may be extended by its own length before the gate fails. */
        maxExtensions: z._default(int(0, 100), 3),
      }),
      {},
    ),
    maxErrorRateRatio: z.optional(z.unknown()),
    maxLatencyMs: z.optional(z.unknown()),
  })
  .check(
    z.superRefine((gates, ctx) => {
      for (const [field, instead] of Object.entries(RETIRED_GATE_FIELDS)) {
        if ((gates as Record<string, unknown>)[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [field], message: instead });
        }
      }
    }),
  );

const canaryStrategySchema = z.strictObject({
  type: z.literal('canary'),
  steps: z.array(canaryStepSchema).check(
    z.minLength(1),
    z.maxLength(50),
    z.refine((steps) => steps.every((step, i) => i === 0 || step.weight > steps[i - 1]!.weight), {
      message: 'step weights must increase',
    }),
  ),
  gates: z.prefault(canaryGatesSchema, {}),
  /** CloudWatch alarms: any in ALARM fails the gate. */
  alarms: z._default(z.array(text(1, 255)).check(z.maxLength(10)), []),
  /** The whole canary (all bakes and extensions) must finish within this; otherwise it rolls back. */
  maxDurationMinutes: z.optional(int(1)),
  shadow: z.optional(shadowSchema),
});

const nativeStrategySchema = z.strictObject({
  type: z.literal('native'),
  trafficRouting: z
    .strictObject({
      type: z.enum(['ALL_AT_ONCE', 'CANARY', 'LINEAR']),
      waitIntervalSeconds: int(0, 3600),
      /** CANARY: canary size; LINEAR: step size. Percent of the new fleet's capacity. */
      sizePercent: z.optional(int(1, 100)),
    })
    // as SageMaker validates TrafficRoutingConfig (aws-facts §BlueGreenUpdatePolicy)
    .check(
      z.refine((r) => r.type !== 'CANARY' || (r.sizePercent !== undefined && r.sizePercent <= 50), {
        message: 'CANARY needs a sizePercent of at most 50',
        path: ['sizePercent'],
      }),
      z.refine(
        (r) =>
          r.type !== 'LINEAR' || (r.sizePercent !== undefined && r.sizePercent >= 10 && r.sizePercent <= 50),
        { message: 'LINEAR needs a sizePercent from 10 to 50', path: ['sizePercent'] },
      ),
    ),
  terminationWaitSeconds: z._default(int(0, 3600), 0),
  maximumExecutionTimeoutSeconds: z.optional(int(600, 28800)),
  alarms: z.array(text(1, 255)).check(z.minLength(1), z.maxLength(10)),
  /** Accepted only to be refused with the reason (see the group checks). */
  shadow: z.optional(shadowSchema),
});

/** The whole fleet of the stage's endpoint is replaced by the candidate's (what QA does). */
const replaceStrategySchema = z.strictObject({ type: z.literal('replace') });

/** A week: a bake between stages longer than that is a release train, not a bake. */
export const MAX_BAKE_MINUTES = 7 * 24 * 60;

const promotionSchema = z.strictObject({
  mode: z._default(z.enum(['auto', 'manual']), 'auto'),
  /** Manual mode: a deployment waiting longer than this for `promote` is expired. */
  approvalTimeoutMinutes: z._default(int(1), 24 * 60),
  /**
   * The least time a version runs in the stages this one waits for, after it succeeded in all of
   * them, before it enters this one (a bake between waves). Absent: no bake.
   */
  bakeMinutes: z.optional(int(1, MAX_BAKE_MINUTES)),
});

/**
 * Stage names start with a letter: a name of digits would read as an array index, which
 * JavaScript objects order first, and the file order (a stage waits for the one before it) would
 * be lost.
 */
export const STAGE_NAME = /^[a-zA-Z](-*[a-zA-Z0-9]){0,62}$/;
const stageName = z
  .string()
  .check(
    z.regex(
      STAGE_NAME,
      'must be 1-63 letters, digits or hyphens, starting with a letter and not ending with a hyphen',
    ),
  );

const awsRegion = z
  .string()
  .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1'));

/** One stage of a group's graph, as the file writes it. */
const stageSchema = z.extend(stageBaseSchema, {
  /** Default: the service's region. */
  region: z.optional(awsRegion),
  /** Default: replace. */
  strategy: z.optional(
    z.discriminatedUnion('type', [canaryStrategySchema, nativeStrategySchema, replaceStrategySchema]),
  ),
  preTraffic: z.optional(preTrafficSchema),
  /** How a version that passed the stages this one waits for enters it; default: the group's. */
  promotion: z.optional(promotionSchema),
  /** The stages this one waits for; default: the stage before it in the file (the first: none). */
  after: z.optional(z.array(stageName).check(z.maxLength(50))),
});

/** SageMaker pipeline names: 1-256 letters, digits and inner hyphens. */
const pipelineName = z
  .string()
  .check(
    z.regex(
      /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$/,
      'must be a pipeline name: 1-256 letters, digits or hyphens, not starting or ending with a hyphen',
    ),
  );

/**
 * An IAM principal ARN, `*` matching any run of characters: a user, a role (which also matches
 * that role's assumed-role sessions), or an assumed-role session.
 */
/**
 * A principal ARN pattern. `*` matches any run of characters other than `/` and `:`, so it never
 * reaches into another ARN segment: `assumed-role/ops/*` is any session of the role `ops`, not of
 * `ops-evil`; `role/ops*` is any role whose name starts with `ops` (and its sessions).
 */
const principalPattern = z
  .string()
  .check(
    z.maxLength(2048),
    z.regex(
      /^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):[\w+=,.@\-/*]+$/,
      'must be an IAM or STS principal ARN (`*` matches within one segment: no `/` or `:`)',
    ),
  );
const principals = z.array(principalPattern).check(z.maxLength(50));

/**
 * Who may send which command for a group. A verb listed here is allowed to its principals only,
 * and a verb not listed to the `default` principals (none when `default` is absent).
 */
const authorizationRulesSchema = z.strictObject({
  default: z.optional(principals),
  promote: z.optional(principals),
  pause: z.optional(principals),
  resume: z.optional(principals),
  abort: z.optional(principals),
  rollback: z.optional(principals),
  retry: z.optional(principals),
});

/** `open`: every caller the command URL admits may send every command (config:check warns). */
export const OPEN_AUTHORIZATION = 'open';

/**
 * Required for every group (each has a prod stage): deny by default. Either rules, or `open`
 * said explicitly.
 */
const authorizationSchema = z.union([
  z.literal(OPEN_AUTHORIZATION, {
    error: (issue) =>
      issue.input === undefined
        ? 'required: say who may send which command (promote, pause, resume, abort, rollback, retry or default: [principal ARN patterns]), or `open` to let every caller of the command URL send every command'
        : 'must be `open` or rules such as { promote: [principal ARN patterns], default: [...] }',
  }),
  authorizationRulesSchema,
]);

/**
 * What a rollback in a later stage does to the stages that already promoted the version: they
 * keep it (for whoever looks into it), or go back to the version the later stage serves after it.
 */
export const EARLIER_STAGES_POLICIES = ['keep', 'rollBack'] as const;

const rollbackPolicySchema = z.strictObject({
  earlierStages: z._default(
    z.enum(EARLIER_STAGES_POLICIES, {
      error: (issue) =>
        `must be \`keep\` (stages that already promoted the version keep it) or \`rollBack\` (they go back too), not ${JSON.stringify(issue.input)}`,
    }),
    'keep',
  ),
});

const groupSchema = z
  .strictObject({
    /** Role SageMaker assumes to run the models (CreateModel ExecutionRoleArn). */
    executionRoleArn: roleArn,
    concurrency: z._default(z.enum(['supersede', 'queue', 'reject']), 'supersede'),
    promotion: z.prefault(promotionSchema, {}),
    rollback: z.prefault(rollbackPolicySchema, {}),
    stages: z.record(stageName, stageSchema),
    debug: z.prefault(
      z.strictObject({
        /**
         * Quote request bodies and model answers (shortened) in failure reasons, which reach logs,
         * the history, events, chat and pipeline failure reasons. Off: they are named by size and
         * sha256 digest only.
         */
        payloadExcerpts: z._default(z.boolean(), false),
      }),
      {},
    ),
    callback: z.prefault(
      z.strictObject({
        /** A pipeline callback task still running after this is answered with failure. */
        taskTimeoutMinutes: z._default(int(1), 6 * 60),
      }),
      {},
    ),
    authorization: authorizationSchema,
  })
  .check(
    z.superRefine((group, ctx) => {
      for (const issue of groupStageIssues(group.stages)) ctx.addIssue({ code: 'custom', ...issue });
    }),
  );

const writtenConfigSchema = z
  .strictObject({
    /** How many rollouts one tick works on at once. */
    tickConcurrency: z._default(int(1, 50), 8),
    /**
     * SageMaker pipelines whose CallbackSteps send to this service's queue: the functions may
     * answer steps of these pipelines' executions only.
     */
    callbackPipelines: z._default(z.array(pipelineName).check(z.maxLength(50)), []),
    notifications: z.prefault(
      z.strictObject({
        /** Deploys an SNS topic that receives the service's events as AWS Chatbot custom notifications. */
        chat: z._default(z.boolean(), false),
      }),
      {},
    ),
    modelPackageGroups: z
      .record(sageMakerName, groupSchema)
      .check(
        z.refine((groups) => Object.keys(groups).length > 0, { message: 'configure at least one group' }),
      ),
  })
  .check(
    z.superRefine((config, ctx) => {
      for (const issue of endpointIssues(config.modelPackageGroups))
        ctx.addIssue({ code: 'custom', ...issue });
    }),
  );

/**
 * The configuration: the file as written, validated, then each group's two-stage graph in the
 * form the rollout runs (`stages.qa`, `stages.prod`, the promotion into prod) and its compiled
 * `graph` (runStageGraph). The packaged JSON copy is the file as written, so the functions
 * compile the same graph at cold start.
 */
export const rolloutsConfigSchema = z.pipe(
  writtenConfigSchema,
  z.transform(
    (
      config,
    ): Omit<z.output<typeof writtenConfigSchema>, 'modelPackageGroups'> & {
      modelPackageGroups: Record<string, RunGroupConfig>;
    } => ({
      ...config,
      modelPackageGroups: Object.fromEntries(
        Object.entries(config.modelPackageGroups).map(([name, group]) => [name, runGroup(name, group)]),
      ),
    }),
  ),
);

export type RolloutsConfig = z.output<typeof rolloutsConfigSchema>;
export type GroupConfig = RolloutsConfig['modelPackageGroups'][string];
export type StageName = 'qa' | 'prod';
export type CanaryStrategy = z.output<typeof canaryStrategySchema>;
export type NativeStrategy = z.output<typeof nativeStrategySchema>;
/** A stage as the file writes it, and a group with its graph of such stages. */
export type WrittenStage = z.output<typeof stageSchema>;
export type WrittenGroup = z.output<typeof groupSchema>;
export type StrategyConfig = NonNullable<WrittenStage['strategy']>;
/** The QA stage as the rollout runs it: its endpoint, capacity, account, region and smoke test. */
export type StageConfig = z.output<typeof stageBaseSchema> & {
  /** Undefined: the service's own region. */
  region?: string | undefined;
};
/** The prod stage as the rollout runs it: a QA stage's fields, its strategy and pre-traffic check. */
export type ProdStageConfig = StageConfig & {
  strategy: CanaryStrategy | NativeStrategy;
  preTraffic?: PreTrafficConfig | undefined;
};
/**
 * A group as the rollout runs it: QA, then prod, and the graph of its stages with each one's
 * place, strategy and promotion resolved (runStageGraph).
 */
export type RunGroupConfig = Omit<WrittenGroup, 'stages'> & {
  stages: { qa: StageConfig; prod: ProdStageConfig };
  graph: StageGraph<RunStage>;
};
export type GateConfig = z.output<typeof canaryGatesSchema>;
export type SmokeTestConfig = z.output<typeof smokeTestSchema>;
export type AuthorizationRules = z.output<typeof authorizationRulesSchema>;
export type AuthorizationConfig = z.output<typeof authorizationSchema>;
export type CrossAccountConfig = z.output<typeof crossAccountSchema>;
export type ArtifactsConfig = z.output<typeof artifactsSchema>;

/**
 * The credentials the deciding functions use in a stage's account: the observer role, which a
 * valid configuration always names (observerRoleIssues).
 */
export const observing = (crossAccount: CrossAccountConfig): CrossAccountConfig => {
  const { observerRoleArn, ...rest } = crossAccount;
  return observerRoleArn ? { ...rest, roleArn: observerRoleArn } : rest;
};
export type { PreTrafficConfig, ShadowConfig } from './pre-traffic-schema';
