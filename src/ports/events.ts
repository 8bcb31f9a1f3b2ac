import type { ServiceEvent } from '../domain/model';

/** The service's own event bus: lifecycle events out, operator commands in. */
export interface EventPublisher {
  publish(events: ServiceEvent[]): Promise<void>;
}

export interface ControlCommandSender {
  send(command: {
    verb: string;
    deploymentId: string;
    actor: string;
    reason: string;
    requestId: string;
    /** promote only: skip the remaining canary steps */
    full?: boolean | undefined;
  }): Promise<void>;
}
