import type { StageName } from '../config/schema';
import type { Deployment, DesiredEndpoint, GroupState, HistoryEntry } from '../domain/model';

/** What the tick needs of a group with work in flight: its deployments in flight and desired endpoints. */
export interface ActiveGroup {
  group: string;
  deployments: Deployment[];
  desired?: Partial<Record<StageName, DesiredEndpoint>> | undefined;
}

/** The service's single DynamoDB table. Every group write is conditional on the revision read. */
export interface StateStore {
  loadGroup(group: string): Promise<GroupState | undefined>;
  /**
   * Saves `state` (whose revision is the one read, or 0 for a new group) as revision + 1.
   * Throws ConflictError when someone else wrote in between. Returns the saved state.
   */
  saveGroup(state: GroupState): Promise<GroupState>;
  /**
   * Groups with a deployment in flight, effects pending or an endpoint not yet on its desired spec
   * (sparse index): cost grows with those only. Only what the tick needs is projected.
   */
  listActiveGroups(): Promise<ActiveGroup[]>;
  listGroups(): Promise<GroupState[]>;
  /** Idempotent: the same (deploymentId, seq) written twice is one entry. */
  appendHistory(entries: HistoryEntry[]): Promise<void>;
  history(deploymentId: string): Promise<HistoryEntry[]>;
  /**
   * Callback records by token (keyed by its hash, the token itself not stored): which group holds
   * the work, and the one answer given.
   */
  getCallback(token: string): Promise<CallbackRecord | undefined>;
  /** Creates the record unless one exists; returns the stored record either way. */
  putCallbackIfAbsent(record: CallbackRecord): Promise<CallbackRecord>;
  /**
   * Fixes the answer for a token, once. Returns the answer that stands: the one given here, or the
   * one fixed earlier (which may differ: the caller must then not send its own). When the given
   * answer was fixed by this call, the very object passed in is returned.
   */
  decideCallbackAnswer(token: string, answer: CallbackAnswer): Promise<CallbackAnswer>;
  markCallbackReported(token: string, at: number): Promise<void>;
  /**
   * The last transient error the executor met on one endpoint of the group (one item per endpoint,
   * a plain write apart from the group record: it never conflicts with a decision). The first time
   * it was seen is kept until the error is cleared.
   */
  noteExecutorError(group: string, error: ExecutorErrorNote, at: number): Promise<void>;
  /** Forgets the endpoint's error: it converged, or went on without one. */
  clearExecutorError(group: string, stage: StageName): Promise<void>;
}

/** What an error the executor keeps retrying was: the call, SageMaker's code and message. */
export interface ExecutorErrorNote {
  stage: StageName;
  endpointName: string;
  /** e.g. UpdateEndpoint */
  operation: string;
  /** e.g. ThrottlingException */
  code: string;
  message: string;
}

export interface ExecutorError extends ExecutorErrorNote {
  firstSeenAt: number;
  lastSeenAt: number;
}

export interface CallbackAnswer {
  outcome: 'success' | 'failure';
  outputs?: Record<string, string> | undefined;
  reason?: string | undefined;
  decidedAt: number;
}

export interface CallbackRecord {
  /** the token the record was written or read with; the table holds only its hash */
  token: string;
  pipelineExecutionArn: string;
  /** the group whose deployment carries the work, when the task has one */
  group?: string | undefined;
  task?: string | undefined;
  receivedAt: number;
  answer?: CallbackAnswer | undefined;
  reportedAt?: number | undefined;
}
