import type { VirtualClock } from '../clock';
import type { ChangeLog } from './change-log';
import type { CloudEvent, EventBridge } from './eventbridge';
import type { Rng } from './protocol';
import type { Timers } from './timers';

export interface Tag {
  Key: string;
  Value: string;
}

/** What the service emulations share. */
export interface Core {
  clock: VirtualClock;
  timers: Timers;
  events: EventBridge;
  defaultRegion: string;
  /** Tags of every taggable SageMaker resource, by ARN. */
  tags: Map<string, Tag[]>;
  rng: { invoke: Rng; duplicates: Rng; ids: Rng };
  duplicateEventRate: number;
  /** What was applied to endpoints, configs and approvals, in order (for tests' invariants). */
  changes: ChangeLog;
}

/** Puts an `aws.sagemaker` event on the default bus; endpoint events may be duplicated, as AWS may. */
export function emitSageMakerEvent(
  core: Core,
  region: string,
  detailType: string,
  resource: string,
  detail: Record<string, unknown>,
  options: { mayDuplicate?: boolean } = {},
): CloudEvent {
  const entry = { source: 'aws.sagemaker', detailType, detail, resources: [resource] };
  const event = core.events.put('default', entry, region);
  if (
    options.mayDuplicate &&
    core.duplicateEventRate > 0 &&
    core.rng.duplicates.next() < core.duplicateEventRate
  ) {
    core.events.put('default', structuredClone(entry), region);
  }
  return event;
}

export const sageMakerArn = (region: string, type: string, name: string): string =>
  `arn:aws:sagemaker:${region}:111122223333:${type}/${name.toLowerCase()}`;
