import type { ServiceEvent } from '../domain/model';

/** The service's own event bus: lifecycle events out. */
export interface EventPublisher {
  publish(events: ServiceEvent[]): Promise<void>;
}

export interface OperatorCommandRequest {
  verb: string;
  deploymentId: string;
  reason: string;
  requestId: string;
  /** promote only: skip the remaining canary steps */
  full?: boolean | undefined;
  /** promote and rollback: the stage the command is about */
  stage?: string | undefined;
}

/** What the control function answered; the actor is the principal that signed the request. */
export interface CommandReply {
  outcome: 'applied' | 'ignored' | 'rejected' | 'unauthorized' | 'unknown' | 'reused' | 'failed';
  reason: string;
  actor: string;
}

/** Operator commands in: the signed command URL. */
export interface ControlCommandSender {
  send(command: OperatorCommandRequest): Promise<CommandReply>;
}
