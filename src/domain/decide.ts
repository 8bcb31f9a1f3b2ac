import type { GroupConfig, StageName } from '../config/schema';
import type { VariantScaling } from './autoscaling';
import type {
  CallbackWait,
  Command,
  EndpointObservation,
  GateReadings,
  GroupState,
  OperatorCommand,
  PackageInfo,
} from './model';
import { Transition } from './transition/transition';

export { KEPT_TERMINAL_DEPLOYMENTS } from './transition/base';
export { ENDPOINT_WAIT_LIMIT_MS } from './transition/recovery';

/**
 * The deployment state machine: pure functions of (state, input, configuration, now) that return
 * the next state and the commands to carry out, as data. The rules live in ./transition/:
 * base.ts (bookkeeping), stages.ts (QA, prod, canary, promotion), recovery.ts (rollback,
 * endpoint observations, failures, drift) and transition.ts (registry changes, operator commands,
 * pipeline callbacks, ticks).
 */
export type Input =
  /** the registry (not the event) says this version is Approved */
  | { type: 'Approved'; pkg: PackageInfo }
  | { type: 'Rejected'; pkg: PackageInfo }
  /** DescribeEndpoint of a stage's endpoint (null: it does not exist) */
  | { type: 'EndpointObserved'; stage: StageName; endpoint: EndpointObservation | null }
  | { type: 'SmokeTested'; deploymentId: string; ok: boolean; detail: string }
  /** the candidate, still at weight 0 in prod, answered (or failed) its TargetVariant check */
  | { type: 'PreTrafficChecked'; deploymentId: string; ok: boolean; detail: string }
  | { type: 'CanaryObserved'; deploymentId: string; readings: GateReadings }
  /** the canary's baseline variant's autoscaling, read from Application Auto Scaling (null: none) */
  | { type: 'ScalingRead'; deploymentId: string; scaling: VariantScaling | null }
  /** `pkg` is the registry's view of the deployment's version (needed by `retry`) */
  | { type: 'Operator'; command: OperatorCommand; pkg?: PackageInfo | undefined }
  | { type: 'CallbackRequested'; callback: Omit<CallbackWait, 'deadline'>; pkg: PackageInfo }
  | { type: 'CallbackStopping'; token: string }
  /** a command for this deployment failed permanently (e.g. invalid instance type, missing permission) */
  | { type: 'CommandFailed'; deploymentId: string; command: string; reason: string }
  /** the executor saw the stage's endpoint on this generation of its desired spec */
  | { type: 'EndpointConverged'; stage: StageName; generation: number }
  /** SageMaker refused, for good, a change this generation of the desired spec needed */
  | { type: 'EndpointRefused'; stage: StageName; generation: number; reason: string }
  /** timeouts, queued work, waiting for prod */
  | { type: 'Tick' };

export interface DecisionContext {
  group: GroupConfig;
  now: number;
}

export interface Decision {
  state: GroupState;
  commands: Command[];
  /** why an operator command or request was refused (nothing else changed) */
  rejection?: string | undefined;
  /** a plain account of what was decided, for logs (empty when nothing changed) */
  notes: string[];
}

export const emptyGroupState = (group: string): GroupState => ({
  group,
  revision: 0,
  knownGood: [],
  highestVersion: 0,
  blocked: [],
  deployments: [],
  desired: {},
  outbox: [],
  updatedAt: 0,
});

/** Pure: the next state and the commands to carry out. The input state is not modified. */
export const decide = (state: GroupState, input: Input, ctx: DecisionContext): Decision => {
  const t = new Transition(state, ctx);
  t.apply(input);
  return t.result();
};

/** Folds several inputs (e.g. a tick's observations) into one decision. */
export const decideAll = (state: GroupState, inputs: Input[], ctx: DecisionContext): Decision => {
  const t = new Transition(state, ctx);
  for (const input of inputs) t.apply(input);
  return t.result();
};
