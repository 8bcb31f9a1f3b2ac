import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** "90s", "15m", "1h30m" → milliseconds. */
export const parseDuration = (text: string): number => {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === '') throw new Error(`not a duration: ${text}`);
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
};

const duration = z
  .string()
  .regex(DURATION, 'must be a duration like 90s, 15m or 1h30m')
  .refine((s) => s.trim() !== '', 'must be a duration like 90s, 15m or 1h30m')
  .transform(parseDuration);

const name = z.string().min(1);
const version = z.number().int().min(1);
const packageRef = z.strictObject({ group: name, version });
const deploymentId = z
  .string()
  .regex(/^[A-Za-z0-9-]+:v\d+(#\d+)?$/, 'must be a deployment id like churn-model:v2');

const phase = z.enum([
  'Queued',
  'QaDeploying',
  'QaVerifying',
  'AwaitingApproval',
  'ReadyForProd',
  'ProdDeploying',
  'ProdVerifying',
  'Shadow',
  'Canary',
  'NativeShifting',
  'Promoting',
  'RollingBack',
  'Succeeded',
  'RolledBack',
  'Failed',
  'Aborted',
  'Superseded',
]);

const pipelineStatus = z.enum(['Executing', 'Stopping', 'Stopped', 'Failed', 'Succeeded']);

/** A condition to wait for; every field given must hold. */
const condition = z
  .strictObject({
    deployment: deploymentId.optional(),
    phase: z.union([phase, z.array(phase).min(1)]).optional(),
    pipeline: name.optional(),
    status: z.union([pipelineStatus, z.array(pipelineStatus).min(1)]).optional(),
    /** no deployment of any group is in a non-terminal phase */
    idle: z.literal(true).optional(),
  })
  .refine((c) => c.deployment !== undefined || c.pipeline !== undefined || c.idle, {
    message: 'needs deployment (with phase), pipeline (with status) or idle: true',
  })
  .refine((c) => (c.deployment === undefined) === (c.phase === undefined), {
    message: 'deployment and phase go together',
  })
  .refine((c) => (c.pipeline === undefined) === (c.status === undefined), {
    message: 'pipeline and status go together',
  });

const actions = {
  /** Registers a model package version (PendingManualApproval unless `approval` says otherwise). */
  register: z.strictObject({
    group: name,
    version,
    approval: z.enum(['PendingManualApproval', 'Approved', 'Rejected']).default('PendingManualApproval'),
    /** Whether the user's CI pushed the version's image to ECR before registering it. */
    imagePushed: z.boolean().default(true),
    /** How the model behaves in the local cloud (CustomerMetadataProperties sim.*). */
    sim: z
      .strictObject({
        errorRate: z.number().min(0).max(1).optional(),
        latencyMs: z.number().min(0).optional(),
        failDeploy: z.boolean().optional(),
        /** What the simulated model answers (default {"predictions":[0.5]}). */
        response: z.string().min(1).optional(),
        /** A model server of the scenario's `modelServers` (started for it) that serves this version. */
        server: name.optional(),
        /** URL of a running model server (SageMaker container contract) that serves this version. */
        container: z
          .string()
          .regex(/^https?:\/\/[^/\s]+\/?$/, 'must be a server URL such as http://127.0.0.1:8080')
          .optional(),
      })
      .default({}),
  }),
  approve: packageRef,
  reject: packageRef,
  /** Simulated requests per minute on an endpoint (Poisson), split by the variants' current weights. */
  traffic: z.strictObject({
    endpoint: name,
    rpm: z.number().min(0),
    /** Share of requests answered 4XX. */
    clientErrorRate: z.number().min(0).max(1).optional(),
    /** Requests sent to versions served by a real model server, one picked at random each time. */
    requests: z
      .array(
        z.strictObject({
          contentType: z.string().min(1).default('application/json'),
          body: z.union([z.string(), z.record(z.string(), z.unknown())]),
        }),
      )
      .min(1)
      .optional(),
    /** Shared incidents: every variant's 5XX rate and latency multiplied at once. */
    bursts: z
      .strictObject({
        perHour: z.number().min(0).max(60).optional(),
        minutes: z.number().int().min(1).max(60).optional(),
        errorMultiplier: z.number().min(1).optional(),
        latencyMultiplier: z.number().min(1).optional(),
      })
      .optional(),
  }),
  alarm: z.strictObject({ name, state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']) }),
  /** Registers a variant with Application Auto Scaling and a target tracking policy on invocations. */
  autoscale: z.strictObject({
    endpoint: name,
    variant: name,
    min: z.number().int().min(1),
    max: z.number().int().min(1),
    invocationsPerInstance: z.number().positive(),
  }),
  /** Makes a local-cloud API operation fail (`times` calls, or every call when omitted). */
  fault: z.strictObject({
    service: z.enum(['sagemaker', 'sagemaker-runtime', 'sqs', 'events', 'cloudwatch', 'sts']).optional(),
    operation: name,
    error: name.default('ValidationException'),
    message: z.string().optional(),
    times: z.number().int().min(1).optional(),
  }),
  clearFaults: z.literal(true),
  /** An operator command, sent signed to the command URL as the CLI does; `actor` is the IAM user that signs it. */
  command: z.strictObject({
    verb: z.enum(['promote', 'pause', 'resume', 'abort', 'rollback', 'retry']),
    deployment: deploymentId,
    reason: z.string().min(1).default('operator command from a scenario'),
    actor: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM user name')
      .default('scenario'),
  }),
  /** Creates (once) and starts a pipeline whose Callback step sends `arguments` to the callback queue. */
  pipeline: z.strictObject({
    name,
    task: name,
    /** Passed as `modelPackageArn`. */
    package: packageRef.optional(),
    arguments: z.record(z.string(), z.string()).default({}),
  }),
  /** Stops the latest execution of a pipeline (the callback step gets a Stopping message). */
  stopPipeline: z.strictObject({ name }),
  /** Delivers earlier events again, as EventBridge's at-least-once delivery may. */
  replay: z.strictObject({
    detailType: z.string().min(1).optional(),
    /** Only events whose detail has these values. */
    match: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    /** The last N matching events (default: all). */
    last: z.number().int().min(1).optional(),
    order: z.enum(['original', 'reversed']).default('reversed'),
  }),
  /** Runs virtual time: a duration, or until a condition holds (failing the scenario after `timeout`). */
  wait: z.union([
    duration,
    z.strictObject({ until: condition, timeout: duration.default(parseDuration('2h')) }),
  ]),
} as const;

export type ActionName = keyof typeof actions;
export const ACTION_NAMES = Object.keys(actions) as ActionName[];

const stepShape = Object.fromEntries(ACTION_NAMES.map((k) => [k, actions[k].optional()])) as {
  [K in ActionName]: z.ZodOptional<(typeof actions)[K]>;
};

const step = z
  .strictObject({
    /** Virtual time since the scenario started at which the step runs (time runs forward to it). */
    at: duration.optional(),
    ...stepShape,
  })
  .superRefine((s, ctx) => {
    const given = ACTION_NAMES.filter((k) => s[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? `a step needs one action: ${ACTION_NAMES.join(', ')}`
            : `a step has one action, this one has ${given.join(' and ')}`,
      });
  });

const count = z.union([
  z.number().int().min(0),
  z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }),
]);

const expectation = z.strictObject({
  /** The scenario's outcome in one line, e.g. "promoted v2" or "rolled back v3 to v2". */
  outcome: z.string().min(1),
  /** Final phase (and optionally reason text) per deployment id. */
  deployments: z
    .record(
      deploymentId,
      z.union([phase, z.strictObject({ phase, reasonContains: z.string().min(1).optional() })]),
    )
    .default({}),
  /** The version serving prod per group (null: none). */
  prod: z.record(name, version.nullable()).default({}),
  /** Final weights per endpoint and variant (the endpoint must have exactly these variants). */
  weights: z.record(name, z.record(name, z.number().min(0))).default({}),
  /** The highest weight each variant had at any minute of the scenario (0: it never took traffic). */
  peakWeights: z.record(name, z.record(name, z.number().min(0))).default({}),
  /** Invocations each variant served over the whole scenario (CloudWatch `Invocations`). */
  invocations: z.record(name, z.record(name, count)).default({}),
  /** Final Application Auto Scaling target per endpoint variant (null: not registered). */
  scaling: z
    .record(
      name,
      z.record(
        name,
        z
          .strictObject({
            min: z.number().int().min(1),
            max: z.number().int().min(1),
            policies: z.number().int().min(0),
          })
          .nullable(),
      ),
    )
    .default({}),
  /** The answers each pipeline's callback tokens got (every token exactly one, accepted). */
  callbacks: z
    .record(
      name,
      z.strictObject({
        answer: z.enum(['success', 'failure']),
        outputs: z.record(z.string(), z.string()).optional(),
        reasonContains: z.string().min(1).optional(),
        status: pipelineStatus.optional(),
      }),
    )
    .default({}),
  /** AWS API call counts by operation over the whole scenario: an exact number or {min, max}. */
  calls: z.record(name, count).default({}),
  /** Events the service published on its bus, by detail-type. */
  published: z.record(z.string(), count).default({}),
});

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case words joined by dashes'),
  description: z.string().min(1),
  /** Rollouts configuration, relative to the repository (default: src/local/scenarios/rollouts.local.yml). */
  config: z.string().min(1).optional(),
  seed: z.number().int().min(0).default(1),
  /** Probability that an endpoint state-change event is delivered twice. */
  duplicateEventRate: z.number().min(0).max(1).default(0),
  /** Image URI -> URL of a running model server, for models that name an image. */
  containers: z
    .record(z.string().min(1), z.string().regex(/^https?:\/\/[^/\s]+\/?$/, 'must be a server URL'))
    .default({}),
  /**
   * The example model server (examples/model-server) as child processes, by name -> weights file
   * (relative to the repository); `register.sim.server` names one.
   */
  modelServers: z.record(name, z.string().min(1)).default({}),
  /** Virtual time limit: the scenario fails if its steps need more. */
  maxDuration: duration.default(parseDuration('24h')),
  steps: z.array(step).min(1),
  expect: expectation,
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type Step = Scenario['steps'][number];
export type Expectation = Scenario['expect'];
export type Condition = z.infer<typeof condition>;
export type Count = z.infer<typeof count>;

export class ScenarioFileError extends Error {}

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );

/** Validates a parsed scenario; errors name the file and each offending field. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${formatPath(i.path) || '(root)'}: ${i.message}`);
  throw new ScenarioFileError(`${source} is not a valid scenario:\n${lines.join('\n')}`);
}

export function loadScenarioFile(path: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ScenarioFileError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseScenario(raw, path);
}

export const SCENARIO_DIR = resolve(new URL('.', import.meta.url).pathname, 'scenarios');

/** Scenario files: the YAML files of the scenarios folder that have steps (the others are configs). */
export function scenarioFiles(dir = SCENARIO_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f))
    .filter((path) => {
      const doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
      return !!doc && typeof doc === 'object' && ('steps' in doc || 'expect' in doc);
    });
}
