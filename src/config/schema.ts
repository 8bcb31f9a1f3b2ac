import * as z from 'zod';

/** SageMaker resource names: endpoint, config, variant, group, lifecycle stage. */
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const sageMakerName = z
  .string()
  .regex(SAGEMAKER_NAME, 'must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen');

const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/, 'must be an IAM role ARN');

const crossAccountSchema = z.strictObject({
  roleArn,
  externalId: z.string().min(2).max(1224).optional(),
  sessionName: z.string().min(2).max(64).optional(),
});

const smokeTestSchema = z.strictObject({
  contentType: z.string().default('application/json'),
  accept: z.string().optional(),
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
  /** Response must contain this text. */
  expectBodyContains: z.string().optional(),
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
  maxConcurrency: z.number().int().min(1).max(200),
  provisionedConcurrency: z.number().int().min(1).max(200).optional(),
});

const capacitySchema = z.strictObject({
  instanceType: z
    .string()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a SageMaker instance type such as ml.m5.large')
    .optional(),
  instanceCount: z.number().int().min(1).max(100).optional(),
  serverless: serverlessSchema.optional(),
});

const stageBaseSchema = z.strictObject({
  endpointName: sageMakerName,
  ...capacitySchema.shape,
  crossAccount: crossAccountSchema.optional(),
  smokeTest: smokeTestSchema.optional(),
});

const canaryStepSchema = z.strictObject({
  /** Percent of traffic sent to the candidate during this step (exclusive of 0 and 100). */
  weight: z.number().gt(0).lt(100),
  bakeMinutes: z
    .number()
    .min(1)
    .max(7 * 24 * 60),
});

const gatesSchema = z.strictObject({
  /** Candidate 5XX rate (0..1) above this fails the gate. */
  maxErrorRate: z.number().min(0).max(1).default(0.01),
  /** Candidate 5XX rate above baseline rate x this fails the gate (ignored while both are under minErrorRateForRatio). */
  maxErrorRateRatio: z.number().min(1).optional(),
  /** Candidate ModelLatency (p99 by default) in milliseconds above this fails the gate. */
  maxLatencyMs: z.number().positive().optional(),
  /** Candidate latency above baseline latency x this fails the gate. */
  maxLatencyRatio: z.number().min(1).optional(),
  latencyStatistic: z.enum(['p50', 'p90', 'p99', 'Average', 'Maximum']).default('p99'),
  /** Candidate must have served at least this many requests in the bake window before the step may pass. */
  minInvocations: z.number().int().min(0).default(100),
  noData: z
    .strictObject({
      action: z.enum(['extend', 'fail', 'pass']).default('extend'),
      /** With `extend`: how many times a bake may be extended by its own length before the gate fails. */
      maxExtensions: z.number().int().min(0).max(100).default(3),
    })
    .prefault({}),
});

const canaryStrategySchema = z.strictObject({
  type: z.literal('canary'),
  steps: z
    .array(canaryStepSchema)
    .min(1)
    .max(50)
    .refine((steps) => steps.every((step, i) => i === 0 || step.weight > steps[i - 1]!.weight), {
      message: 'step weights must increase',
    }),
  gates: gatesSchema.prefault({}),
  /** CloudWatch alarms: any in ALARM fails the gate. */
  alarms: z.array(z.string().min(1).max(255)).max(10).default([]),
  /** The whole canary (all bakes and extensions) must finish within this; otherwise it rolls back. */
  maxDurationMinutes: z.number().int().min(1).optional(),
});

const nativeStrategySchema = z.strictObject({
  type: z.literal('native'),
  trafficRouting: z.strictObject({
    type: z.enum(['ALL_AT_ONCE', 'CANARY', 'LINEAR']),
    waitIntervalSeconds: z.number().int().min(0).max(3600),
    /** CANARY: canary size; LINEAR: step size. Percent of the new fleet's capacity. */
    sizePercent: z.number().int().min(1).max(100).optional(),
  }),
  terminationWaitSeconds: z.number().int().min(0).max(3600).default(0),
  maximumExecutionTimeoutSeconds: z.number().int().min(600).max(28800).optional(),
  alarms: z.array(z.string().min(1).max(255)).min(1).max(10),
});

const prodStageSchema = stageBaseSchema.extend({
  strategy: z.discriminatedUnion('type', [canaryStrategySchema, nativeStrategySchema]),
});

const promotionSchema = z.strictObject({
  mode: z.enum(['auto', 'manual']).default('auto'),
  /** Manual mode: a deployment waiting longer than this for `promote` is expired. */
  approvalTimeoutMinutes: z
    .number()
    .int()
    .min(1)
    .default(24 * 60),
});

const groupSchema = z
  .strictObject({
    /** Role SageMaker assumes to run the models (CreateModel ExecutionRoleArn). */
    executionRoleArn: roleArn,
    concurrency: z.enum(['supersede', 'queue', 'reject']).default('supersede'),
    promotion: promotionSchema.prefault({}),
    stages: z.strictObject({
      qa: stageBaseSchema,
      prod: prodStageSchema,
    }),
    callback: z
      .strictObject({
        /** A pipeline callback task still running after this is answered with failure. */
        taskTimeoutMinutes: z
          .number()
          .int()
          .min(1)
          .default(6 * 60),
      })
      .prefault({}),
  })
  .superRefine((group, ctx) => {
    for (const stageName of ['qa', 'prod'] as const) {
      const stage = group.stages[stageName];
      const hasInstances = stage.instanceType !== undefined;
      if (hasInstances === (stage.serverless !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', stageName],
          message: 'set either instanceType (with optional instanceCount) or serverless, not both',
        });
      }
    }
    if (group.stages.qa.endpointName === group.stages.prod.endpointName) {
      ctx.addIssue({
        code: 'custom',
        path: ['stages', 'prod', 'endpointName'],
        message: 'qa and prod must use different endpoints',
      });
    }
    const prod = group.stages.prod;
    if (prod.strategy.type === 'native' && prod.serverless !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['stages', 'prod', 'strategy', 'type'],
        message: 'native blue/green shifting is not available for serverless endpoints; use canary',
      });
    }
  });

export const rolloutsConfigSchema = z
  .strictObject({
    /** How many rollouts one tick works on at once. */
    tickConcurrency: z.number().int().min(1).max(50).default(8),
    modelPackageGroups: z
      .record(sageMakerName, groupSchema)
      .refine((groups) => Object.keys(groups).length > 0, { message: 'configure at least one group' }),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, string>();
    for (const [group, groupConfig] of Object.entries(config.modelPackageGroups)) {
      for (const stage of ['qa', 'prod'] as const) {
        const name = groupConfig.stages[stage].endpointName;
        const where = `${group}.${stage}`;
        const other = seen.get(name);
        if (other) {
          ctx.addIssue({
            code: 'custom',
            path: ['modelPackageGroups', group, 'stages', stage, 'endpointName'],
            message: `endpoint ${name} is already used by ${other}`,
          });
        }
        seen.set(name, where);
      }
    }
  });

export type RolloutsConfig = z.infer<typeof rolloutsConfigSchema>;
export type GroupConfig = RolloutsConfig['modelPackageGroups'][string];
export type StageName = 'qa' | 'prod';
export type StageConfig = GroupConfig['stages']['qa'];
export type ProdStageConfig = GroupConfig['stages']['prod'];
export type CanaryStrategy = z.infer<typeof canaryStrategySchema>;
export type NativeStrategy = z.infer<typeof nativeStrategySchema>;
export type GateConfig = z.infer<typeof gatesSchema>;
export type SmokeTestConfig = z.infer<typeof smokeTestSchema>;
export type CrossAccountConfig = z.infer<typeof crossAccountSchema>;
