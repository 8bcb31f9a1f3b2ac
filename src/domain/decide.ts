import type { GroupConfig, StageName } from '../config/schema';
import type { VariantScaling } from './autoscaling';
import { decidedCommand, recordDecidedCommand } from './decided-commands';
import { type Draft, newDraft, result } from './draft';
import { onCallbackRequested, onCallbackStopping } from './flows/callbacks';
import { onEndpointObserved, onEndpointSettled } from './flows/endpoints';
import { onOperator } from './flows/operator';
import { onPreTrafficChecked } from './flows/pre-traffic';
import { onArtifactsMissing } from './flows/preflight';
import { onCanaryObserved } from './flows/prod';
import { onSmokeTested } from './flows/qa';
import { onApproved, onRejected } from './flows/registry';
import { onCommandFailed } from './flows/rollback';
import { onScalingRead } from './flows/scaling';
import { onTick } from './flows/tick';
import type {
  CallbackWait,
  Command,
  EndpointObservation,
  GateReadings,
  GroupState,
  OperatorCommand,
  PackageInfo,
} from './model';

export { KEPT_TERMINAL_DEPLOYMENTS } from './draft';
export { ENDPOINT_WAIT_LIMIT_MS } from './flows/endpoints';

/**
 * The deployment state machine: pure functions of (state, input, configuration, now) that return
 * the next state, the desired endpoints and the effects to carry out, as data. `decide` is the
 * single entry; it hands one explicit draft (./draft.ts) to the flow the input belongs to, plain
 * modules in ./flows/: registry, qa, prod (canary and promotion), rollback, endpoints
 * (observations, drift, the executor's reports), operator, callbacks and tick.
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
  /** the pre-flight found artifacts of `packageArn` missing where the stage's region reads them */
  | { type: 'ArtifactsMissing'; stage: StageName; generation: number; packageArn: string; reason: string }
  /** timeouts, queued work, waiting for prod */
  | { type: 'Tick' };

export interface DecisionContext {
  group: GroupConfig;
  now: number;
  /** the service's own region: a stage's unless it names one */
  serviceRegion: string;
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

/** Routes one input to its flow. */
const apply = (t: Draft, input: Input): void => {
  switch (input.type) {
    case 'Approved':
      return onApproved(t, input.pkg);
    case 'Rejected':
      return onRejected(t, input.pkg);
    case 'EndpointObserved':
      return onEndpointObserved(t, input.stage, input.endpoint);
    case 'SmokeTested':
      return onSmokeTested(t, input.deploymentId, input.ok, input.detail);
    case 'PreTrafficChecked':
      return onPreTrafficChecked(t, input.deploymentId, input.ok, input.detail);
    case 'ScalingRead':
      return onScalingRead(t, input.deploymentId, input.scaling);
    case 'CanaryObserved':
      return onCanaryObserved(t, input.deploymentId, input.readings);
    case 'Operator': {
      // decided before (a resend, or a concurrent send that saved first): nothing changes
      if (decidedCommand(t.state, input.command.requestId)) return;
      const notesBefore = t.notes.length;
      onOperator(t, input.command, input.pkg);
      return recordDecidedCommand(t, input.command, notesBefore);
    }
    case 'CallbackRequested':
      return onCallbackRequested(t, input.callback, input.pkg);
    case 'CallbackStopping':
      return onCallbackStopping(t, input.token);
    case 'CommandFailed':
      return onCommandFailed(t, input.deploymentId, input.command, input.reason);
    case 'EndpointConverged':
      return onEndpointSettled(t, input.stage, input.generation, 'converged');
    case 'EndpointRefused':
      return onEndpointSettled(t, input.stage, input.generation, 'failed', input.reason);
    case 'ArtifactsMissing':
      return onArtifactsMissing(t, input.stage, input.generation, input.packageArn, input.reason);
    case 'Tick':
      return onTick(t);
  }
};

/** Pure: the next state and the effects to carry out. The input state is not modified. */
export const decide = (state: GroupState, input: Input, ctx: DecisionContext): Decision => {
  const t = newDraft(state, ctx);
  apply(t, input);
  return result(t);
};

/** Folds several inputs (e.g. a tick's observations) into one decision. */
export const decideAll = (state: GroupState, inputs: Input[], ctx: DecisionContext): Decision => {
  const t = newDraft(state, ctx);
  for (const input of inputs) apply(t, input);
  return result(t);
};
