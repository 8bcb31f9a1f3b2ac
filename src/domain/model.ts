import type { StageName } from '../config/schema';
import type { VariantScaling } from './autoscaling';

export type { StageName };

/**
 * A deployment's phase. Waiting phases end on an endpoint observation (event or tick); terminal
 * phases never change again (a retry is a new attempt).
 */
export type Phase =
  /** concurrency `queue`: waits for the group's active deployment to end. */
  | 'Queued'
  /** QA endpoint created or updated; waiting for it to be InService on the expected config. */
  | 'QaDeploying'
  /** QA is InService on the candidate; the smoke test runs next. */
  | 'QaVerifying'
  /** manual promotion: waiting for an operator's `promote` until the approval deadline. */
  | 'AwaitingApproval'
  /** QA passed and promotion granted; waiting for the bake to end and for prod to be free. */
  | 'ReadyForProd'
  /** prod endpoint created or updated (candidate alone, or baseline + candidate); waiting for InService. */
  | 'ProdDeploying'
  /** prod InService with the candidate at weight 0: it is invoked with TargetVariant before any user reaches it. */
  | 'ProdVerifying'
  /** the candidate runs as a shadow variant on copies of production requests, judged against the baseline. */
  | 'Shadow'
  /** canary steps in progress, driven by the tick. */
  | 'Canary'
  /** SageMaker-managed blue/green shifting in progress. */
  | 'NativeShifting'
  /** last step passed; prod updated to the candidate alone; waiting for InService. */
  | 'Promoting'
  /** baseline weight restored; prod updated to the baseline alone; waiting for InService. */
  | 'RollingBack'
  | 'Succeeded'
  | 'RolledBack'
  | 'Failed'
  | 'Aborted'
  | 'Superseded';

export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set([
  'Succeeded',
  'RolledBack',
  'Failed',
  'Aborted',
  'Superseded',
]);

/** Phases in which a deployment owns the prod endpoint. */
export const PROD_PHASES: ReadonlySet<Phase> = new Set([
  'ProdDeploying',
  'ProdVerifying',
  'Shadow',
  'Canary',
  'NativeShifting',
  'Promoting',
  'RollingBack',
]);

export const isTerminal = (phase: Phase): boolean => TERMINAL_PHASES.has(phase);

/** What requested a deployment; `restore`: QA goes back to the version prod serves (a rejection). */
export type Trigger = 'approval' | 'callback' | 'operator' | 'restore';

/** What the registry says about a package (DescribeModelPackage), the event being only a trigger. */
export interface PackageInfo {
  group: string;
  version: number;
  arn: string;
  approvalStatus: 'Approved' | 'Rejected' | 'PendingManualApproval';
  /** epoch ms */
  lastModifiedTime: number;
  lifecycle?: { stage: string; stageStatus: string } | undefined;
}

/** A production variant as placed in an endpoint config. */
export interface VariantSpec {
  variantName: string;
  modelName: string;
  packageArn: string;
  version: number;
  /** Relative weight (0..100 in this service); of a shadow variant, its sampling percentage. */
  weight: number;
  /** A SageMaker shadow variant: it gets copies of the production variant's requests and answers nobody. */
  shadow?: boolean | undefined;
}

/** The endpoint config a deployment asked for and is waiting on. */
export interface EndpointRequest {
  stage: StageName;
  endpointName: string;
  configName: string;
  variants: VariantSpec[];
  /** epoch ms of the decision; observations modified after it answer it. */
  requestedAt: number;
}

export interface CanaryState {
  /** the two-variant config the canary runs on */
  configName: string;
  baselineVersion: number;
  baselineVariant: string;
  candidateVariant: string;
  stepIndex: number;
  stepStartedAt: number;
  /** The current step's bake ends here (extended by the no-data policy). */
  bakeUntil: number;
  extensions: number;
  startedAt: number;
  paused: boolean;
  /** Expected weights on the endpoint, by variant. */
  weights: Record<string, number>;
  /** The shadow phase: its config is what prod runs or is moving to; it ends here (once started). */
  shadow?: { configName: string; until?: number | undefined } | undefined;
  /**
   * The baseline variant's autoscaling as read before the canary touched it: undefined until
   * read, null when it has none. The candidate gets its equivalent; a rollback restores it.
   */
  baselineScaling?: VariantScaling | null | undefined;
  lastReadings?: GateReadings | undefined;
}

export interface VariantReadings {
  invocations: number;
  errors5xx: number;
  /** null when there were no invocations. */
  errorRate: number | null;
  /** ModelLatency in milliseconds for the configured statistic; null without data. */
  latencyMs: number | null;
  /** Per-minute datapoints the totals come from (as read; the judge keeps only settled minutes). */
  minutes?: MinuteReading[] | undefined;
}

/** One CloudWatch period (60 s) of one variant. */
export interface MinuteReading {
  /** epoch ms of the period's start */
  at: number;
  invocations: number;
  errors5xx: number;
  /** the configured latency statistic in ms; null without data */
  latencyMs: number | null;
}

/** What the judge's sequential tests say, as likelihood ratios ("N:1 against the candidate"). */
export interface JudgeEvidence {
  /** settled minutes judged */
  minutes: number;
  /** candidate vs baseline 5XX: evidence that the candidate's rate is higher */
  errors: number;
  errorsLimit: number;
  /** evidence that the candidate's 5XX rate is less than detectErrorRatio x the baseline's */
  pass: number;
  passLimit: number;
  /** evidence that the candidate's 5XX rate is above the ceiling */
  ceiling: number;
  ceilingLimit: number;
  /** evidence that the candidate is slower than the tolerated ratio */
  latency: number;
  latencyLimit: number;
  /** minutes with both variants' latency, and how many of them the candidate was slower than tolerated */
  latencyMinutes: number;
  slowerMinutes: number;
  /**
   * slower minutes a candidate no slower than tolerated would show at most, on average: the sum
   * of each minute's chance from the two sample sizes (absent in readings stored before it)
   */
  expectedSlowerMinutes?: number | undefined;
}

export interface GateReadings {
  candidate: VariantReadings;
  baseline: VariantReadings | null;
  alarmsInAlarm: string[];
  windowStart: number;
  windowEnd: number;
  /** Data before this (epoch ms) is complete in CloudWatch; absent: all of it is. */
  settledUntil?: number | undefined;
  evidence?: JudgeEvidence | undefined;
}

export interface CallbackWait {
  token: string;
  pipelineExecutionArn: string;
  /** the stage at which the pipeline's task is complete */
  stage: StageName;
  deadline: number;
}

export interface Deployment {
  id: string;
  group: string;
  version: number;
  packageArn: string;
  attempt: number;
  trigger: Trigger;
  /** The deployment ends (Succeeded) once it is live here. */
  targetStage: StageName;
  phase: Phase;
  /** Why the deployment is in its phase (failures, aborts, waits). */
  reason?: string | undefined;
  createdAt: number;
  phaseSince: number;
  /** The endpoint config this deployment waits for, while in a waiting phase. */
  awaiting?: EndpointRequest | undefined;
  /** After RollingBack: the terminal phase to end in. */
  rollbackOutcome?: 'RolledBack' | 'Aborted' | 'Superseded' | 'Failed' | undefined;
  /** A rollback's leftovers (the rolled-back version's prod config and model), retired once it is live. */
  retireOnSuccess?: { modelNames: string[]; configNames: string[] } | undefined;
  /** Prod plan once chosen. */
  prodPlan?: 'replace' | 'canary' | 'native' | undefined;
  canary?: CanaryState | undefined;
  approvalDeadline?: number | undefined;
  /** The version enters prod no sooner than this (epoch ms): QA passed plus promotion.bakeMinutes. */
  bakeUntil?: number | undefined;
  callbacks: CallbackWait[];
  /** history sequence number, for idempotent history keys */
  seq: number;
}

/** A version that must not be promoted again unless approved after `at`. */
export interface BlockedVersion {
  version: number;
  at: number;
  reason: string;
  /**
   * The service asked the registry to reject the version and has not seen it Rejected since: the
   * package may still say Approved (the reject is queued, throttled or refused), so no view of it,
   * however recent, is a new approval until the registry has said Rejected.
   */
  rejectPending?: boolean | undefined;
}

export interface ServingVersion {
  version: number;
  packageArn: string;
  modelName: string;
  variantName: string;
  configName: string;
}

/** Everything the service knows about one model package group: one item, one version counter. */
export interface GroupState {
  group: string;
  /** optimistic-concurrency counter of this record */
  revision: number;
  prod?: ServingVersion | undefined;
  qa?: ServingVersion | undefined;
  /** versions that served prod successfully, oldest first */
  knownGood: ServingVersion[];
  highestVersion: number;
  blocked: BlockedVersion[];
  deployments: Deployment[];
  /**
   * What each stage's endpoint should be. A newer decision replaces the spec (with a higher
   * generation), so an endpoint change decided earlier can never be sent after a later one.
   */
  desired?: Partial<Record<StageName, DesiredEndpoint>> | undefined;
  /** the last generation given to a desired spec (monotonic, never reused) */
  generation?: number | undefined;
  /** effects decided and saved but not yet carried out (at-least-once, idempotent, keyed by content) */
  outbox: OutboxEntry[];
  /** monotonic: the latest `now` a decision was made with */
  updatedAt: number;
  /** operator commands decided lately, by requestId: a resend gets the first outcome back */
  decidedCommands?: DecidedCommand[] | undefined;
}

/** How an operator command was decided, kept so that sending it again changes nothing. */
export interface DecidedCommand {
  requestId: string;
  /** the command's content (see commandFingerprint): another command with this requestId is refused */
  fingerprint: string;
  at: number;
  outcome: 'applied' | 'rejected' | 'unauthorized';
  reason: string;
}

/** One endpoint as the latest decision wants it; the executor converges what it observes to this. */
export interface DesiredEndpoint {
  stage: StageName;
  endpointName: string;
  /** the endpoint config; its variants carry the config's initial weights */
  configName: string;
  variants: VariantSpec[];
  /** the live weights wanted on that config, by variant */
  weights: Record<string, number>;
  /** grows with every change of the group's desired endpoints; only the newest is ever sent */
  generation: number;
  /** the deployment that wants it, told when SageMaker refuses it */
  deploymentId: string;
  /** native strategy: let SageMaker shift traffic (BlueGreenUpdatePolicy). */
  native?: boolean | undefined;
  /** leaving another config: first send all of its traffic to the variants kept here (rollback) */
  drainFirst?: boolean | undefined;
  /** epoch ms of the decision: an endpoint that failed before it failed on something older */
  requestedAt: number;
  /** what the executor made of a generation: observed on the endpoint, or refused for good */
  settled?: EndpointSettlement | undefined;
}

export interface EndpointSettlement {
  generation: number;
  outcome: 'converged' | 'failed';
  reason?: string | undefined;
  at: number;
}

export interface OutboxEntry {
  id: string;
  command: Command;
  /** decision time; entries of another run are only carried out once they are this old (a lease) */
  at?: number | undefined;
}

export type RegistryStageStatus =
  | 'Deploying'
  | 'Deployed'
  | 'Failed'
  | 'RolledBack'
  | 'Superseded'
  | 'Aborted'
  | 'InProgress';

/**
 * Effects other than endpoint changes (those are desired state), as data. Every command is
 * idempotent: running it twice is the same as once.
 */
export type Command =
  | {
      type: 'UpdateRegistry';
      packageArn: string;
      lifecycle?:
        | { stage: 'QA' | 'Production'; status: RegistryStageStatus; description: string }
        | undefined;
      reject?: { description: string } | undefined;
    }
  | {
      type: 'RetireResources';
      group: string;
      stage: StageName;
      modelNames: string[];
      configNames: string[];
    }
  | {
      type: 'AnswerCallback';
      token: string;
      pipelineExecutionArn: string;
      outcome: 'success' | 'failure';
      outputs?: Record<string, string> | undefined;
      reason?: string | undefined;
    }
  /** Registers (or updates) a prod variant's scalable target and puts its policies. */
  | {
      type: 'ApplyScaling';
      group: string;
      stage: StageName;
      endpointName: string;
      variantName: string;
      scaling: VariantScaling;
    }
  | { type: 'Publish'; event: ServiceEvent }
  | { type: 'RecordHistory'; entry: HistoryEntry };

export type ServiceEventType =
  | 'Deployment Started'
  | 'Stage Deployed'
  | 'Awaiting Approval'
  | 'Canary Step Passed'
  | 'Deployment Paused'
  | 'Deployment Resumed'
  | 'Deployment Promoted'
  | 'Deployment Rolled Back'
  | 'Deployment Failed'
  | 'Deployment Aborted'
  | 'Deployment Superseded'
  | 'Drift Detected'
  | 'Command Rejected'
  | 'Callback Reported';

export interface ServiceEvent {
  type: ServiceEventType;
  deploymentId?: string | undefined;
  group?: string | undefined;
  version?: number | undefined;
  /** the stage the event happens in, and that stage's region (absent: it belongs to no stage) */
  stage?: StageName | undefined;
  region?: string | undefined;
  at: number;
  detail: Record<string, unknown>;
}

export interface HistoryEntry {
  deploymentId: string;
  group: string;
  seq: number;
  at: number;
  from: Phase | null;
  to: Phase;
  actor: string;
  reason: string;
  /**
   * the stage the transition happens in, and that stage's region; absent while queued, on
   * refusals after the end, and in entries recorded before they were kept
   */
  stage?: StageName | undefined;
  region?: string | undefined;
  requestId?: string | undefined;
  readings?: GateReadings | undefined;
  weights?: Record<string, number> | undefined;
}

export type OperatorVerb = 'promote' | 'pause' | 'resume' | 'abort' | 'rollback' | 'retry';

export interface OperatorCommand {
  verb: OperatorVerb;
  deploymentId: string;
  actor: string;
  reason: string;
  requestId: string;
  /** promote: skip the remaining canary steps instead of advancing to the next one */
  full?: boolean | undefined;
  /** promote and rollback: the stage the command is about (`--in`); undefined: as without it (prod) */
  stage?: string | undefined;
  /** The actor may not send this command (the authorization config): recorded as a refusal. */
  denied?: string | undefined;
}

export interface VariantObservation {
  variantName: string;
  currentWeight: number;
  desiredWeight: number;
}

/** DescribeEndpoint, normalised. */
export interface EndpointObservation {
  endpointName: string;
  /** names the endpoint's account and region (SageMaker writes the name in lower case) */
  endpointArn?: string | undefined;
  status:
    | 'OutOfService'
    | 'Creating'
    | 'Updating'
    | 'SystemUpdating'
    | 'RollingBack'
    | 'InService'
    | 'Deleting'
    | 'Failed'
    | 'UpdateRollbackFailed';
  configName: string;
  variants: VariantObservation[];
  failureReason?: string | undefined;
  lastModifiedTime: number;
}
