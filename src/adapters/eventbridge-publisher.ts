import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { ServiceEvent } from '../domain/model';
import { TransientError } from '../errors';
import type { EventPublisher } from '../ports/events';
import { toRolloutsError } from './aws-errors';
import { eventBridgeClient } from './clients';

export const EVENT_SOURCE = 'sagemaker-rollouts';
export const MAX_ENTRIES_PER_CALL = 10;

/** PutEvents in chunks of 10; any failed entry fails the call (retrying re-sends: at least once). */
const putEvents = async (client: EventBridgeClient, busName: string, entries: PutEventsRequestEntry[]) => {
  const failures: string[] = [];
  for (let offset = 0; offset < entries.length; offset += MAX_ENTRIES_PER_CALL) {
    const batch = entries.slice(offset, offset + MAX_ENTRIES_PER_CALL);
    let output: PutEventsCommandOutput;
    try {
      output = await client.send(new PutEventsCommand({ Entries: batch }));
    } catch (error) {
      throw toRolloutsError(error, { operation: 'EventBridge PutEvents', resource: busName });
    }
    if ((output.FailedEntryCount ?? 0) > 0) {
      (output.Entries ?? []).forEach((result, index) => {
        if (!result.ErrorCode) return;
        failures.push(
          `#${offset + index} ${batch[index]?.DetailType ?? '?'}: ${result.ErrorCode} ${result.ErrorMessage ?? ''}`.trim(),
        );
      });
      if (failures.length === 0) failures.push(`${output.FailedEntryCount} entries of batch at #${offset}`);
    }
  }
  if (failures.length > 0) {
    throw new TransientError(`EventBridge PutEvents ${busName}: failed entries ${failures.join('; ')}`);
  }
};

/** Lifecycle events on the service's bus (source `sagemaker-rollouts`, detail-type = event type). */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client: EventBridgeClient = eventBridgeClient(),
  ) {}

  async publish(events: ServiceEvent[]): Promise<void> {
    const entries = events.map(
      (event): PutEventsRequestEntry => ({
        EventBusName: this.busName,
        Source: EVENT_SOURCE,
        DetailType: event.type,
        Time: new Date(event.at),
        Detail: JSON.stringify({
          deploymentId: event.deploymentId,
          group: event.group,
          version: event.version,
          stage: event.stage,
          region: event.region,
          at: new Date(event.at).toISOString(),
          ...event.detail,
        }),
      }),
    );
    await putEvents(this.client, this.busName, entries);
  }
}
